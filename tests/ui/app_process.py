"""The app as ``smartcopy`` runs it, in a child process on a private home: launch it,
then check it ended cleanly (exit 0, no warnings, a clean log)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
NOISE = "This plugin does not support propagateSizeHints()"


def private_home(tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose home and user dirs are under ``tmp_path``."""
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyside6",
                HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
                XDG_STATE_HOME=str(tmp_path / "state"), XDG_DATA_HOME=str(tmp_path / "data"),
                XDG_CACHE_HOME=str(tmp_path / "cache"))


def launch(tmp_path: Path, db: Path, days: int,
           quit_after_ms: int | None = None) -> subprocess.Popen[str]:
    """``run_gui`` on ``db`` with a ``days`` backfill, its user dirs under ``tmp_path``."""
    code = ("import sys\nfrom smartcopy_gui.app import run_gui\n"
            f"sys.exit(run_gui({str(db)!r}, backfill_days={days}, "
            f"quit_after_ms={quit_after_ms!r}))")
    return subprocess.Popen([sys.executable, "-c", code], env=private_home(tmp_path),
                            cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def launch_command(tmp_path: Path, *args: str | Path) -> subprocess.Popen[str]:
    """``smartcopy ARGS…`` as a user starts it from a shell, user dirs under ``tmp_path``."""
    return subprocess.Popen([sys.executable, "-m", "smartcopy_gui", *map(str, args)],
                            env=private_home(tmp_path), cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def log_text(tmp_path: Path) -> str:
    """The app's log under ``tmp_path`` ("" before it exists)."""
    logs = list((tmp_path / "state").rglob("smartcopy.log"))
    return logs[0].read_text() if logs else ""


def finish(proc: subprocess.Popen[str], tmp_path: Path) -> str:
    """Wait for the app to end; it must exit 0, print nothing but the offscreen
    platform's noise, and log a clean close. Returns the log."""
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert [line for line in err.splitlines() if line.strip() != NOISE] == []
    text = log_text(tmp_path)
    assert "SmartCopy closed cleanly" in text
    assert "ERROR" not in text and "CRITICAL" not in text
    return text


# A child that runs the app and plays the user in front of a "cannot start" dialog:
# prints the dialog's words, then presses Close.
_WATCH_START_FAILURE = """
import sys
from smartcopy_gui.ui.qt import QTimer, QtWidgets
app = QtWidgets.QApplication(sys.argv)
from smartcopy_gui.app import run_gui
waited = [0]
def watch():
    for w in QtWidgets.QApplication.allWidgets():
        if w.objectName() == "start_failed_dialog" and w.isVisible():
            print("DIALOG", w.windowTitle(), w.text(), w.informativeText(), sep="\\n",
                  flush=True)
            w.button(QtWidgets.QMessageBox.StandardButton.Close).click()
            return
    waited[0] += 1
    if waited[0] > 600:  # 30 s: no dialog; end the app so the test can say so
        print("NO DIALOG", flush=True)
        for top in QtWidgets.QApplication.topLevelWidgets():
            top.close()
        return
    QTimer.singleShot(50, watch)
QTimer.singleShot(0, watch)
sys.exit(run_gui(sys.argv[1], backfill_days=1))
"""


def run_app_expecting_a_start_failure(tmp_path: Path, db: Path) -> subprocess.CompletedProcess[str]:
    """Run the app on ``db``; its stdout has the "cannot start" dialog's words."""
    return subprocess.run([sys.executable, "-c", _WATCH_START_FAILURE, str(db)],
                          env=private_home(tmp_path), cwd=ROOT, text=True,
                          capture_output=True, timeout=120)
