"""The money fields' rules, without Qt: one syntax, one maximum, a message for the rest."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from smartcopy_gui.domain.copy_form import (
    DEPOSIT_RULE,
    INVESTMENT_RULE,
    check_investment,
    decimal_places,
    parse_amount_text,
)
from smartcopy_gui.domain.words import copy_label, outcome_status_words, reason_words, words

TOO_MUCH = "can be at most 10,000,000,000 USDT"


@pytest.mark.parametrize(("text", "value"), [
    ("250", D(250)), ("-3", D(-3)), (".5", D("0.5")), ("5.", D(5)), ("1e3", D(1000)),
    ("+2.5E-1", D("0.25")),
])
def test_the_scenario_syntax_is_read_exactly(text, value):
    assert parse_amount_text(text) == value


@pytest.mark.parametrize("text", [
    "1,000", "250%", "1,0,0", "5_000", " 5", "0x10", "nan", "Infinity", "١٢", "1e", "e3",
    "", "1e99999999999999999999",
])
def test_anything_else_is_not_a_number(text):
    with pytest.raises(ValueError):
        parse_amount_text(text)


@pytest.mark.parametrize(("text", "message"), [
    ("1e309", f"The deposit {TOO_MUCH}"),
    ("1e99999999999999999999", f"The deposit {TOO_MUCH}"),  # beyond what Decimal holds
    ("1e-99999999999999999999", "Use at most 8 decimal places"),
    ("99999999999999999999", f"The deposit {TOO_MUCH}"),
    ("10000000000.01", f"The deposit {TOO_MUCH}"),
    ("0.000000001", "Use at most 8 decimal places"),
    ("250%", "Enter a number, e.g. 1000"),
    ("1,0,0", "Enter a number, e.g. 1000"),
    ("5_000", "Enter a number, e.g. 1000"),
    ("0", "The deposit must be positive"),
    ("-5", "The deposit must be positive"),
])
def test_a_bad_deposit_gets_a_message(text, message):
    checked = DEPOSIT_RULE.check(text)
    assert (checked.value, checked.error) == (None, message)


@pytest.mark.parametrize(("text", "value"), [
    ("1e3", D(1000)), ("10000000000", D(10) ** 10), ("0.00000001", D("1e-8")),
    (" 250 ", D(250)), ("1.500000000", D("1.5")),
])
def test_a_good_amount_is_accepted_in_deposit_and_investment_alike(text, value):
    assert DEPOSIT_RULE.check(text).value == value
    assert INVESTMENT_RULE.check(text).value == value


def test_1e3_gets_the_same_verdict_in_the_deposit_and_the_wizard():
    assert DEPOSIT_RULE.check("1e3").ok
    assert check_investment("1e3", D(10), D(5000)).value == D(1000)


def test_decimal_places_ignore_trailing_zeros():
    assert [decimal_places(D(t)) for t in ("1.50", "1e-9", "1e3", "0", "12.345")] == \
        [1, 9, 0, 0, 3]


def test_words_are_spelled_one_way():
    assert copy_label(1, "Dmitri Averages", "smart") == "Dmitri Averages · Smart · #1"
    assert copy_label(4, "Rita Rotation", "fixed_amount") == "Rita Rotation · Fixed amount · #4"
    assert outcome_status_words("copied_min_qty") == "Copied at min. qty"
    assert reason_words("slippage_limit") == "The price moved beyond the slippage limit"
    assert reason_words(None, "copied_reduced") == \
        "Reduced to what the copy account could afford"
    assert words({}, "some_new_code") == "Some new code"
