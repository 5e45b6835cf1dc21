"""Desktop notifications for what a user looking elsewhere must not miss: a copy
liquidated, a copy stopped by its stop-loss, a trader's close skipped for a copy.

``CopyAlerts`` decides what to say from each update (no Qt in its rules) and hands it
to a ``Notifier`` at most once per ``min_interval_s``; what arrives in between is
folded into the next message ("… and 2 more"), never lost, never a flood.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..domain.words import in_sentence, reason_words
from ..session import ActivityRow, CopyRow
from .qt import QtGui, QtWidgets

log = logging.getLogger("smartcopy.ui")

MIN_INTERVAL_S = 10.0


@dataclass(frozen=True)
class Alert:
    title: str
    message: str


class Notifier(Protocol):
    def show(self, title: str, message: str) -> None: ...


def alerts_from_activity(rows: Sequence[ActivityRow], label: Callable[[int], str]
                         ) -> list[Alert]:
    """Liquidations of a copy's position and trader closes skipped for a copy."""
    alerts = []
    for row in rows:
        if row.copy_id is None:
            continue
        name = label(row.copy_id)
        if row.action == "liquidation":
            alerts.append(Alert("Copy liquidated",
                                f"{name}: your {row.symbol} position was liquidated."))
        elif row.action == "close" and row.status == "skipped":
            alerts.append(Alert("Trader's close not copied",
                                f"{name}: the trader closed {row.symbol} but your copy did "
                                f"not — {in_sentence(reason_words(row.reason))}."))
    return alerts


def alerts_from_copies(before: dict[int, str], copies: Sequence[CopyRow],
                       label: Callable[[int], str]) -> list[Alert]:
    """Copies that went from active to stopped (their stop-loss ended them)."""
    return [Alert("Copy stopped by its stop-loss",
                  f"{label(c.copy_id)} ended: its equity fell to the stop-loss.")
            for c in copies if c.status == "stopped" and before.get(c.copy_id) == "active"]


class CopyAlerts:
    """Turns updates into throttled notifications; ``enabled`` turns them off."""

    def __init__(self, notifier: Notifier, min_interval_s: float = MIN_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.notifier = notifier
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.enabled = True
        self._statuses: dict[int, str] = {}
        self._started = False
        self._pending: list[Alert] = []
        self._last: float | None = None

    def update(self, activity: Sequence[ActivityRow], copies: Sequence[CopyRow],
               label: Callable[[int], str]) -> None:
        """Look at one update's new outcomes and the copies' statuses; notify. The
        first update only learns: its outcomes are the history of earlier launches."""
        new: list[Alert] = []
        if self._started:
            new = alerts_from_activity(activity, label)
            new += alerts_from_copies(self._statuses, copies, label)
        self._started = True
        self._statuses = {c.copy_id: c.status for c in copies}
        if self.enabled:
            self._pending += new
        self.flush()

    def flush(self) -> None:
        """Show what is pending if the last notification is old enough."""
        if not self._pending:
            return
        now = self.clock()
        if self._last is not None and now - self._last < self.min_interval_s:
            return
        first, more = self._pending[0], len(self._pending) - 1
        self._pending.clear()
        self._last = now
        message = first.message + (f" … and {more} more (see the Activity log)."
                                   if more else "")
        log.info("notification: %s: %s", first.title, message)
        self.notifier.show(first.title, message)


class TrayNotifier:
    """Shows messages from the system tray; a status bar message where there is none."""

    def __init__(self, icon: QtGui.QIcon, window: QtWidgets.QMainWindow) -> None:
        self.window = window
        self.tray: QtWidgets.QSystemTrayIcon | None = None
        if QtWidgets.QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QtWidgets.QSystemTrayIcon(icon, window)
            self.tray.setToolTip("SmartCopy")
            # A click on the icon or on a message brings the window back.
            self.tray.activated.connect(self.show_window)
            self.tray.messageClicked.connect(self.show_window)
            self.tray.show()

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def show(self, title: str, message: str) -> None:
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(title, message, QtWidgets.QSystemTrayIcon.MessageIcon.Warning,
                                  10_000)
        self.window.statusBar().showMessage(f"{title}: {message}", 15_000)
