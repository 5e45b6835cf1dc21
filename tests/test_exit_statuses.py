"""Exit statuses: 0 ok, 1 malformed lines, 2 bad usage or unreadable input, 3 database
busy or unusable, 4 a bug; never a traceback on the terminal."""

from __future__ import annotations

import pytest

from smartcopy_gui import cli
from tests.cli_process import DEPOSIT_LINE, smartcopy


@pytest.mark.parametrize("args, says", [
    (("demo", "--days", "-5"), "the days must be at least 1"),
    (("demo", "--days", "0"), "the days must be at least 1"),
    (("demo", "--copy", "trend:smart:1e400"), "out of range"),
    (("demo", "--copy", "trend:fixed_ratio:100:1e-400"), "out of range"),
])
def test_bad_usage_is_status_2_with_a_message(args, says):
    done = smartcopy(*args)
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr


def test_a_screenshot_onto_an_existing_file_is_refused(tmp_path):
    target = tmp_path / "shot.png"
    target.write_bytes(b"keep me")
    done = smartcopy("--screenshot", target)
    assert done.returncode == 2
    assert "is a file, not a directory" in done.stderr and "Traceback" not in done.stderr
    assert target.read_bytes() == b"keep me"


def test_malformed_lines_are_status_1_and_the_rest_applies(tmp_path):
    scenario = tmp_path / "s.jsonl"
    scenario.write_text(DEPOSIT_LINE + "not json\n", encoding="utf-8")
    done = smartcopy("replay", scenario, "--db", tmp_path / "s.db")
    assert done.returncode == 1
    assert "1 applied" in done.stdout and "1 malformed" in done.stdout


def test_a_bug_is_not_status_1_and_shows_no_traceback(tmp_path, monkeypatch, capsys):
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the report")

    scenario = tmp_path / "s.jsonl"
    scenario.write_text(DEPOSIT_LINE, encoding="utf-8")
    monkeypatch.setattr(cli, "report", broken)
    status = cli.main(["replay", str(scenario), "--db", str(tmp_path / "s.db"), "--json"])
    out, err = capsys.readouterr()
    assert status == 4
    assert "internal error (RuntimeError: a bug in the report)" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_the_cli_module_alone_does_not_start_the_desktop_app(capsys):
    assert cli.main([]) == 2
    assert "smartcopy_gui.app" in capsys.readouterr().err
