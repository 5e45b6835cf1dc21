"""The layers hold: domain -> engine -> store/sources -> session -> cli/ui -> app (the
import-linter contract in pyproject.toml), and the core stays headless: nothing under
domain/, engine/, store/ or sources/, nor the session and the command line, imports Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import smartcopy_gui

PACKAGE = Path(smartcopy_gui.__file__).resolve().parent
CORE = ("domain", "engine", "store", "sources")
# The headless modules above the core: the command line runs without Qt too.
HEADLESS = ("session.py", "bootstrap.py", "demo.py", "cli.py", "paths.py", "logs.py")
QT_MODULES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "qasync", "pyqtgraph", "shiboken6")


def _core_files() -> list[Path]:
    return sorted([p for part in CORE for p in (PACKAGE / part).rglob("*.py")]
                  + [PACKAGE / name for name in HEADLESS])


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level > 0 and node.module:
            # a relative import reaching out of the core into ui/ or app.py
            if node.module.split(".")[0] in ("ui", "app"):
                found.add(f".{node.module}")
    return found


def test_no_module_imports_from_a_layer_above_its_own():
    code = ("import sys\nfrom importlinter.cli import lint_imports_command\n"
            "sys.exit(lint_imports_command())")
    out = subprocess.run([sys.executable, "-c", code, "--no-cache", "--no-logo",
                          str(PACKAGE.parent / "pyproject.toml")],
                         capture_output=True, text=True, cwd=PACKAGE.parent, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_no_core_module_imports_qt_or_the_ui():
    offenders = {str(p.relative_to(PACKAGE)): sorted(_imports(p) & set(QT_MODULES) |
                                                      {m for m in _imports(p) if m.startswith(".")})
                 for p in _core_files()}
    assert _core_files(), "the core packages should exist"
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_whole_core_loads_no_qt():
    modules = [".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
               for p in _core_files()]
    modules = [m.removesuffix(".__init__") for m in modules]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r})\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == ""
