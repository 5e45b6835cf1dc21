"""The app icon, from resources/icons (beside the package in a checkout, inside the
bundle when frozen: the PyInstaller spec ships resources/)."""

from __future__ import annotations

import sys
from pathlib import Path

from .qt import QtCore, QtGui

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def icons_dir() -> Path:
    root = getattr(sys, "_MEIPASS", None)
    base = Path(root) if root else Path(__file__).resolve().parents[2]
    return base / "resources" / "icons"


def app_icon() -> QtGui.QIcon:
    """SmartCopy's icon at every size it is drawn in (empty if the files are missing)."""
    icon = QtGui.QIcon()
    folder = icons_dir()
    for size in ICON_SIZES:
        path = folder / f"smartcopy-{size}.png"
        if path.is_file():
            icon.addFile(str(path), QtCore.QSize(size, size))
    return icon
