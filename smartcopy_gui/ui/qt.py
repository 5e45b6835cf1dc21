"""The one place Qt is imported from; the rest of ui/ imports from here."""

from __future__ import annotations

import os

os.environ.setdefault("QT_API", "pyside6")  # for qasync and pyqtgraph

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402
from PySide6.QtCore import (  # noqa: E402
                            QAbstractTableModel,
                            QModelIndex,
                            QObject,
                            QSettings,
                            QSortFilterProxyModel,
                            Qt,
                            QTimer,
                            Signal,
                            Slot,
)

__all__ = ["QtCore", "QtGui", "QtWidgets", "QAbstractTableModel", "QModelIndex", "QObject",
           "QSettings", "QSortFilterProxyModel", "Qt", "QTimer", "Signal", "Slot"]

import pyqtgraph as pg  # noqa: E402  (after QT_API is set)

pg.setConfigOptions(antialias=True, background="w", foreground="#24292f")

__all__ += ["pg"]
