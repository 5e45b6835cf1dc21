"""Light, dark or the system's look: the application palette and the colours the
panels and charts draw with (``shared.colors()``) switched together."""

from __future__ import annotations

import logging

from .qt import QtGui, QtWidgets
from .shared import DARK, LIGHT, is_dark_palette, set_colors

log = logging.getLogger("smartcopy.ui")

SYSTEM, LIGHT_THEME, DARK_THEME = "system", "light", "dark"
THEMES = {SYSTEM: "System", LIGHT_THEME: "Light", DARK_THEME: "Dark"}

_Role = QtGui.QPalette.ColorRole
_Group = QtGui.QPalette.ColorGroup


def dark_palette() -> QtGui.QPalette:
    """A dark palette in the colours of ``shared.DARK``."""
    palette = QtGui.QPalette()
    colors = {
        _Role.Window: "#161b22", _Role.WindowText: "#c9d1d9", _Role.Base: "#0d1117",
        _Role.AlternateBase: "#161b22", _Role.ToolTipBase: "#161b22",
        _Role.ToolTipText: "#c9d1d9", _Role.PlaceholderText: "#8b949e",
        _Role.Text: "#c9d1d9", _Role.Button: "#21262d", _Role.ButtonText: "#c9d1d9",
        _Role.BrightText: "#ffffff", _Role.Highlight: "#1f6feb",
        _Role.HighlightedText: "#ffffff", _Role.Link: "#58a6ff", _Role.Light: "#30363d",
        _Role.Midlight: "#21262d", _Role.Mid: "#30363d", _Role.Dark: "#010409",
        _Role.Shadow: "#010409",
    }
    for role, color in colors.items():
        palette.setColor(role, QtGui.QColor(color))
    for role in (_Role.WindowText, _Role.Text, _Role.ButtonText):
        palette.setColor(_Group.Disabled, role, QtGui.QColor("#6e7681"))
    return palette


def light_palette() -> QtGui.QPalette:
    """The style's own light palette (what Fusion draws without a theme)."""
    palette = QtWidgets.QApplication.style().standardPalette()
    palette.setColor(_Role.PlaceholderText, QtGui.QColor("#57606a"))
    return palette


def apply_theme(choice: str, app: QtWidgets.QApplication | None = None) -> bool:
    """Use the ``choice`` theme (system, light or dark) for the whole application;
    returns whether it is dark. Widgets get a palette change and repaint."""
    app = app or QtWidgets.QApplication.instance()  # type: ignore[assignment]
    assert app is not None
    if choice == DARK_THEME:
        palette = dark_palette()
    elif choice == LIGHT_THEME:
        palette = light_palette()
    else:
        if choice != SYSTEM:
            log.warning("unknown theme %r: using the system's", choice)
        hints = app.styleHints()
        palette = dark_palette() if hints.colorScheme() == QtGui.Qt.ColorScheme.Dark \
            else light_palette()
    dark = is_dark_palette(palette)
    set_colors(DARK if dark else LIGHT)  # before the palette: repaints use the new colours
    app.setPalette(palette)
    indicators = indicator_palette(palette, dark)
    for widget_class in ("QRadioButton", "QCheckBox"):
        app.setPalette(indicators, widget_class)
    return dark


def indicator_palette(palette: QtGui.QPalette, dark: bool) -> QtGui.QPalette:
    """``palette`` for radio buttons and check boxes: Fusion draws their rings in the
    Window colour darkened, nearly invisible on a dark window (and faint on a light
    one); a mid grey there gives rings that stand out (WCAG 3:1) on either."""
    indicators = QtGui.QPalette(palette)
    indicators.setColor(_Role.Window, QtGui.QColor("#adbac7" if dark else "#b0b0b0"))
    return indicators
