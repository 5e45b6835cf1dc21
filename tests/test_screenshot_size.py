"""`--screenshot DIR --size WxH`: the size is read, and a bad one is a usage error."""

from __future__ import annotations

import pytest

from smartcopy_gui.cli import build_parser


def test_the_size_is_read():
    args = build_parser().parse_args(["--screenshot", "shots", "--size", "1366x768",
                                      "--theme", "dark"])
    assert (args.size, args.theme) == ((1366, 768), "dark")
    assert build_parser().parse_args(["--screenshot", "shots"]).size == (1920, 1080)


@pytest.mark.parametrize("size", ["1366", "1366x", "x768", "0x768", "1366×768", "10x10"])
def test_a_bad_size_is_a_usage_error(size, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--screenshot", "shots", f"--size={size}"])
    assert exit_.value.code == 2
    assert "expected WxH, e.g. 1366x768" in capsys.readouterr().err
