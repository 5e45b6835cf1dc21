"""The dark theme's controls stay visible: an unchecked radio button's or check box's
ring stands out from the window behind it; the ROI chart's legend stays readable."""

from __future__ import annotations

import pytest

from smartcopy_gui.ui.positions_panel import PositionsPanel
from smartcopy_gui.ui.qt import QtGui, QtWidgets
from smartcopy_gui.ui.shared import colors
from smartcopy_gui.ui.theme import apply_theme

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(autouse=True)
def light_again():
    yield
    apply_theme("light")  # one QApplication for every test: leave it as found


def _ring_contrast(qtbot, button: QtWidgets.QAbstractButton) -> float:
    """The WCAG contrast between the window behind the button and the indicator's most
    different pixel (its ring, when unchecked)."""
    qtbot.addWidget(button)
    button.resize(button.sizeHint())
    image = button.grab().toImage()
    back = QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Window)
    width = button.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ExclusiveIndicatorWidth)

    def luminance(c: QtGui.QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())

    def contrast(a: QtGui.QColor, b: QtGui.QColor) -> float:
        hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    ratio = image.devicePixelRatio()
    return max(contrast(back, image.pixelColor(x, y))
               for x in range(int((width + 4) * ratio)) for y in range(image.height()))


@pytest.mark.parametrize("make", [QtWidgets.QRadioButton, QtWidgets.QCheckBox])
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_an_unchecked_indicator_stands_out_from_the_window(qtbot, make, theme):
    apply_theme(theme)
    button = make("Fixed amount")
    assert not button.isChecked()
    assert _ring_contrast(qtbot, button) >= 3  # WCAG's minimum for a control's outline


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_roi_chart_legend_sits_on_the_chart_colour_over_the_curves(qtbot, theme):
    apply_theme(theme)
    panel = PositionsPanel()
    qtbot.addWidget(panel)
    backing = panel.chart.plot.getPlotItem().legend.brush().color()
    assert backing.name() == colors().chart_background
    assert backing.alpha() >= 200  # the curves under the labels show only faintly
