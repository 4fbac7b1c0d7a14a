"""Layers point downward: no Qt below ui/, domain depends on nothing, backends not on services.

An AST scan sees every import, including the lazy ones inside functions; a subprocess check
proves that importing the Qt-free layers really leaves Qt out of the process.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mlops_desktop

PACKAGE_DIR = Path(mlops_desktop.__file__).parent
QT_FREE_LAYERS = ("domain", "services", "backends")
QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "mlops_desktop.ui")
FORBIDDEN = {
    "domain": (*QT_MODULES, "mlops_desktop.services", "mlops_desktop.backends"),
    "services": QT_MODULES,
    "backends": (*QT_MODULES, "mlops_desktop.services"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import statement in the file, at any depth.

    `module` is the file's dotted name (derived from its path inside the package by default);
    relative imports are resolved against it.
    """
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # `from mlops_desktop import ui` imports the ui package as a name.
            found.append((node.lineno, target))
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def _layer_files(layer: str) -> list[Path]:
    return sorted((PACKAGE_DIR / layer).rglob("*.py"))


def _is_within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("layer", QT_FREE_LAYERS)
def test_layer_imports_only_what_it_may(layer: str) -> None:
    files = _layer_files(layer)
    assert files, f"no modules found under mlops_desktop/{layer}"
    violations = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{line} imports {module}"
        for path in files
        for line, module in _imported_modules(path)
        if any(_is_within(module, banned) for banned in FORBIDDEN[layer])
    ]
    assert not violations, f"mlops_desktop/{layer} must not import these:\n" + "\n".join(violations)


def test_the_scan_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def later():\n"
        "    from PySide6 import QtCore\n"
        "    from ..ui import widgets\n"
        "    import pyqtgraph as pg\n"
    )
    modules = [module for _, module in _imported_modules(probe, "mlops_desktop.services.probe")]
    assert "PySide6" in modules
    assert "mlops_desktop.ui.widgets" in modules
    assert "pyqtgraph" in modules


def test_importing_the_qt_free_layers_leaves_qt_out() -> None:
    modules = [_module_name(path) for layer in QT_FREE_LAYERS for path in _layer_files(layer)]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{('PySide6', 'shiboken6', 'pyqtgraph')!r} or m.startswith('mlops_desktop.ui')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"Qt modules were imported: {result.stdout}"
