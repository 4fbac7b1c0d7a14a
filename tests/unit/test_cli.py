"""The command line: --version, help, demo init and screenshot, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_desktop import __version__
from mlops_desktop.cli import VIEW_NAMES


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180):
    return subprocess.run(
        [sys.executable, "-m", "mlops_desktop", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or os.environ.copy(),
    )


def test_version():
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mlops-desktop {__version__}"


def test_version_does_not_import_qt_or_mlflow():
    code = (
        "import sys; from mlops_desktop.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('PySide6', 'mlflow', 'pandas') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().endswith("[]")


@pytest.mark.parametrize("command", [[], ["demo"], ["demo", "init"], ["screenshot"]])
def test_every_command_has_help(command):
    result = cli(*command, "--help")
    assert result.returncode == 0
    assert "usage: mlops-desktop" in result.stdout


def test_demo_init_creates_a_workspace_and_reports_it(tmp_path):
    target = tmp_path / "demo"
    result = cli("demo", "init", "--path", str(target), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["path"] == str(target)
    assert summary["experiments"] >= 3
    assert summary["runs"] >= 300
    assert summary["model_versions"] >= 3
    assert (target / "mlflow.db").is_file()
    again = cli("demo", "init", "--path", str(target), "--json")
    assert again.returncode == 0, "re-running init on a demo workspace is harmless"


def test_demo_init_refuses_a_folder_that_is_not_a_demo(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = cli("demo", "init", "--path", str(tmp_path))
    assert result.returncode == 1
    assert "mlops-desktop:" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_screenshot_command_writes_a_png(tmp_path, demo_root):
    out = tmp_path / "models.png"
    result = cli("screenshot", "--view", "models", "--out", str(out), "--size", "1200x800")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)


def test_screenshot_rejects_an_unknown_view(tmp_path):
    result = cli("screenshot", "--view", "nope", "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_view_names_match_the_window():
    from mlops_desktop.ui.main_window import VIEW_IDS

    assert set(VIEW_NAMES) == set(VIEW_IDS)


def test_window_without_a_display_says_so(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    result = cli(env=env, timeout=60)
    assert result.returncode == 2
    assert "no display" in result.stderr
    assert "screenshot" in result.stderr


def test_screenshot_of_every_view_shows_content(qapp, tmp_path, demo_root):
    from PySide6.QtGui import QImage

    from mlops_desktop.ui.screenshot import take_screenshot

    for view in VIEW_NAMES:
        out = Path(tmp_path) / f"{view}.png"
        assert take_screenshot(view, out, (1280, 800), "light", 120) == 0
        image = QImage(str(out)).convertToFormat(QImage.Format.Format_RGB32)
        # A view with text and data has many distinct colours; a blank one has a handful.
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), 7)
            for y in range(0, image.height(), 7)
        }
        assert len(colours) > 20, f"{view} looks blank"
