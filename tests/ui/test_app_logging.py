"""Started from a shell, the app and the command line keep their INFO lines in the log
file: the terminal shows warnings and errors only."""

from __future__ import annotations

import signal
import time

from tests.cli_process import DEPOSIT_LINE
from tests.ui.app_process import NOISE, launch_command, log_text


def wait_for(cond, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "the app never got there"
        time.sleep(0.1)


def test_the_app_started_from_a_shell_keeps_info_out_of_the_terminal(tmp_path):
    db = tmp_path / "app.db"
    proc = launch_command(tmp_path, "gui", "--db", db)
    try:
        wait_for(lambda: "applied migration" in log_text(tmp_path))
        proc.send_signal(signal.SIGTERM)  # closes the window as the user would
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert [line for line in err.splitlines() if line.strip() != NOISE] == []
    log = log_text(tmp_path)
    assert " INFO smartcopy.store: applied migration 001_initial" in log
    assert "SmartCopy closed cleanly" in log


def test_a_command_keeps_info_out_of_the_terminal(tmp_path):
    scenario = tmp_path / "s.jsonl"
    scenario.write_text(DEPOSIT_LINE, encoding="utf-8")
    proc = launch_command(tmp_path, "replay", scenario, "--db", tmp_path / "c.db")
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (0, "")
    assert "applied migration 001_initial" in log_text(tmp_path)
