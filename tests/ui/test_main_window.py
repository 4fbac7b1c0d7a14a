"""The main window: navigation, every view on the demo workspace, status bar, saved state."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from mlops_desktop.services.paths import AppPaths
from mlops_desktop.ui import theme
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.main_window import NAVIGATION, VIEW_IDS, MainWindow, about_text

pytestmark = pytest.mark.ui


@pytest.fixture
def window(qtbot, demo_root):
    ctx = UiContext(AppPaths.from_environment())
    assert ctx.paths.demo_dir == demo_root, "the app must find the session's seeded demo"
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    with qtbot.waitSignal(ctx.workspace_changed, timeout=60_000):
        win.open_default_workspace()
    return win


def test_navigation_lists_every_area_in_order():
    labels = [entry.label for entry in NAVIGATION]
    assert labels == [
        "Connections",
        "Experiments",
        "Compare",
        "Models",
        "Monitoring",
        "Jobs",
        "Bundles",
        "Audit",
    ]


@pytest.mark.parametrize("view_id", VIEW_IDS)
def test_each_view_opens_on_the_demo_workspace(qtbot, window, view_id):
    view = window.view(view_id)
    with qtbot.waitSignal(view.content_ready, timeout=60_000):
        window.show_view(view_id)
    assert view.is_ready
    assert not view.banner.isVisibleTo(view), view.banner.message.text()
    assert view.header.badge.text() == "on Demo workspace"
    assert window.stack.currentWidget() is view


def test_status_bar_shows_the_active_workspace(window):
    text = window.connection_label.text()
    assert "Demo workspace" in text
    assert str(window.ctx.paths.demo_dir) in text


def test_last_view_and_geometry_are_restored(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    window.resize(777, 555)
    window.show_view("models")
    window.close()
    settings = QSettings(str(window.ctx.paths.settings_file), QSettings.Format.IniFormat)
    assert settings.value("last_view") == "models"

    again = MainWindow(UiContext(AppPaths.from_environment()))
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.initial_view == "models"
    assert (again.width(), again.height()) == (777, 555)


def test_theme_switch_changes_the_palette_and_is_saved(window):
    app = QApplication.instance()
    window.set_theme("dark")
    assert theme.is_dark(app)
    dark_base = app.palette().base().color().lightness()
    window.set_theme("light")
    assert not theme.is_dark(app)
    assert app.palette().base().color().lightness() > dark_base
    settings = QSettings(str(window.ctx.paths.settings_file), QSettings.Format.IniFormat)
    assert settings.value("theme") == "light"


def test_about_names_qt_python_and_mlflow_versions():
    text = about_text()
    for word in ("Qt 6.", "PySide6", "Python 3.", "MLflow 3."):
        assert word in text


def test_compare_selected_in_experiments_opens_compare_with_those_runs(qtbot, window):
    experiments = window.view("experiments")
    with qtbot.waitSignal(experiments.content_ready, timeout=60_000):
        window.show_view("experiments")
    model = experiments.runs_model
    run_ids = [model.run_id(row) for row in range(3)]
    compare = window.view("compare")
    with qtbot.waitSignal(compare.content_ready, timeout=60_000):
        experiments.compare_requested.emit(run_ids)
    assert window.current_view_id == "compare"
    assert compare.run_ids == run_ids
