"""Every golden report is reproduced byte for byte (see tests/golden_reports.py)."""

from __future__ import annotations

import pytest

from tests.golden_reports import GOLDEN, cases

CASES = cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_report_is_byte_identical_to_the_golden_file(name):
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    produced = CASES[name]()
    assert produced == expected, (
        f"{name} differs from tests/golden/{name}. If the rules changed on purpose, "
        "regenerate with `python -m tests.golden_reports --update` and explain the diff")
