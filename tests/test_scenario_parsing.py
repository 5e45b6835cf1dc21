"""scenario-format.md: malformed lines, idempotent re-import, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from smartcopy_gui.domain.enums import EventType, MarginMode, Side
from smartcopy_gui.domain.events import Event, OpenFields
from smartcopy_gui.domain.numbers import parse_decimal_text
from smartcopy_gui.sources.scenario import read_lines
from smartcopy_gui.store import Store
from tests.scenario import Scenario, run, ts

D = Decimal
ROOT = Path(__file__).resolve().parent.parent


def _line(id_: str | None, at_ms: int, type_: str, **fields) -> str:
    obj: dict = {} if id_ is None else {"id": id_}
    obj.update({"ts": ts(at_ms), "type": type_})
    obj.update(fields)
    return json.dumps(obj)


GOOD_FIRST = _line("t1", 5000, "trader", trader="alice", name="Alice", balance="10000")
GOOD_LAST = _line("d9", 6000, "deposit", account="me", amount="250")
T = ts(5000)

# name → (the bad line's text, the id it carries or None)
MALFORMED = {
    "array": ("[1, 2]", None),
    "json_string": ('"deposit"', None),
    "json_number": ("42", None),
    "invalid_json": ('{"id": "b1", "ts": ', None),
    "missing_id": (_line(None, 5000, "deposit", account="me", amount="1"), None),
    "empty_id": (_line("", 5000, "deposit", account="me", amount="1"), None),
    "missing_ts": ('{"id": "b1", "type": "deposit", "account": "me", "amount": "1"}', "b1"),
    "missing_type": (f'{{"id": "b1", "ts": "{T}", "account": "me", "amount": "1"}}', "b1"),
    "missing_amount": (_line("b1", 5000, "deposit", account="me"), "b1"),
    "missing_price": (_line("b1", 5000, "price", symbol="BTCUSDT"), "b1"),
    "open_missing_qty": (_line("b1", 5000, "open", trader="alice", symbol="BTCUSDT",
                               side="long", price="60000", leverage=10,
                               margin_mode="isolated"), "b1"),
    "qty_json_number": (f'{{"id": "b1", "ts": "{T}", "type": "open", "trader": "alice", '
                        '"symbol": "BTCUSDT", "side": "long", "qty": 0.5, "price": "60000", '
                        '"leverage": 10, "margin_mode": "isolated"}', "b1"),
    "amount_json_integer": (f'{{"id": "b1", "ts": "{T}", "type": "deposit", '
                            '"account": "me", "amount": 100}', "b1"),
    "account_not_a_string": (_line("b1", 5000, "deposit", account=7, amount="1"), "b1"),
    "amount_not_a_decimal": (_line("b1", 5000, "deposit", account="me", amount="lots"), "b1"),
    "ts_text": ('{"id": "b1", "ts": "yesterday", "type": "deposit", "account": "me", '
                '"amount": "1"}', "b1"),
    "ts_impossible_date": ('{"id": "b1", "ts": "2026-02-30T00:00:00.000Z", '
                           '"type": "deposit", "account": "me", "amount": "1"}', "b1"),
    "ts_number": ('{"id": "b1", "ts": 1774310400000, "type": "deposit", "account": "me", '
                  '"amount": "1"}', "b1"),
    "ts_earlier": (_line("b1", 4999, "deposit", account="me", amount="1"), "b1"),
    "unknown_type": (_line("b1", 5000, "teleport", account="me", amount="1"), "b1"),
    "nan_literal": (f'{{"id": "b1", "ts": "{T}", "type": "price", "symbol": "BTCUSDT", '
                    '"price": NaN}', None),
    "nan_string": (_line("b1", 5000, "price", symbol="BTCUSDT", price="NaN"), "b1"),
    "infinity_literal": (f'{{"id": "b1", "ts": "{T}", "type": "price", "symbol": "BTCUSDT", '
                         '"price": Infinity}', None),
    "infinity_string": (_line("b1", 5000, "price", symbol="BTCUSDT", price="Infinity"), "b1"),
    "minus_infinity_rate": (_line("b1", 5000, "funding", symbol="BTCUSDT", rate="-Infinity"),
                            "b1"),
    "negative_qty": (_line("b1", 5000, "open", trader="alice", symbol="BTCUSDT", side="long",
                           qty="-0.5", price="60000", leverage=10, margin_mode="isolated"),
                     "b1"),
    "exponent_above_30": (_line("b1", 5000, "deposit", account="me", amount="1e31"), "b1"),
    "exponent_below_minus_30": (_line("b1", 5000, "price", symbol="BTCUSDT",
                                      price="1e-31"), "b1"),
    # Numbers are strings, config values too; JSON integers only for leverage.
    "delay_ms_json_integer": (f'{{"id": "b1", "ts": "{T}", "type": "config", '
                              '"delay_ms": 500}', "b1"),
    "reused_id_other_content": (_line("t1", 5000, "trader", trader="alice", name="Alice",
                                      balance="20000"), "t1"),
    # The decimal syntax is the spec's and nothing else.
    "underscore_digits": (_line("b1", 5000, "deposit", account="me", amount="5_000"), "b1"),
    "arabic_indic_digits": (_line("b1", 5000, "deposit", account="me", amount="\u0665"), "b1"),
    "padded_with_spaces": (_line("b1", 5000, "deposit", account="me", amount=" 5 "), "b1"),
    "hexadecimal": (_line("b1", 5000, "deposit", account="me", amount="0x10"), "b1"),
    "fractional_leverage": (_line("b1", 5000, "open", trader="alice", symbol="BTCUSDT",
                                  side="long", qty="0.5", price="60000", leverage="10.5",
                                  margin_mode="isolated"), "b1"),
    "json_integer_of_5000_digits": (
        f'{{"id": "b1", "ts": "{T}", "type": "leverage", "trader": "alice", '
        f'"symbol": "BTCUSDT", "leverage": {"9" * 5000}}}', None),
}

# The reason names what is wrong (the field, the ts, the type, the id).
REASON_NAMES = {
    "missing_id": "id", "empty_id": "id", "missing_ts": "ts", "missing_type": "type",
    "missing_amount": "amount", "missing_price": "price", "open_missing_qty": "qty",
    "qty_json_number": "qty", "amount_json_integer": "amount",
    "account_not_a_string": "account", "amount_not_a_decimal": "amount", "ts_text": "ts",
    "ts_impossible_date": "ts", "ts_number": "ts", "ts_earlier": "ts",
    "unknown_type": "teleport", "nan_string": "price", "infinity_string": "price",
    "minus_infinity_rate": "rate", "negative_qty": "qty", "exponent_above_30": "amount",
    "exponent_below_minus_30": "price", "reused_id_other_content": "t1",
    "delay_ms_json_integer": "delay_ms", "underscore_digits": "amount",
    "arabic_indic_digits": "amount", "padded_with_spaces": "amount", "hexadecimal": "amount",
    "fractional_leverage": "leverage", "json_integer_of_5000_digits": "5000 digits",
}


def _with_bad_line(bad: str) -> list[str]:
    # Physical lines: 1 good, 2 blank, 3 bad, 4 blank (whitespace only), 5 good.
    return [GOOD_FIRST, "", bad, "   ", GOOD_LAST]


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_line_is_rejected_with_its_line_number_and_the_rest_applies(case):
    bad, event_id = MALFORMED[case]
    rep = run(_with_bad_line(bad))
    (rej,) = rep["rejected"]
    assert rej["line"] == 3
    assert isinstance(rej["reason"], str) and rej["reason"].strip()
    if event_id is not None:
        assert rej["event_id"] == event_id
    word = REASON_NAMES.get(case)
    if word is not None:
        assert word in rej["reason"].lower(), rej["reason"]
    # Both good lines applied.
    assert D(rep["traders"]["alice"]["wallet"]) == D("10000")
    assert rep["accounts"]["me"]["contract_balance"] == "250"
    assert rep["outcomes"] == []


def test_every_malformed_line_of_one_file_is_reported_with_its_physical_line():
    lines = [GOOD_FIRST]
    expected = []
    for case, (bad, _) in MALFORMED.items():
        if case == "delay_ms_json_integer":
            continue  # its own test above; this one is about line numbers
        lines.append("")
        lines.append(bad)
        expected.append(len(lines))
    lines.append(GOOD_LAST)
    rep = run(lines)
    assert [r["line"] for r in rep["rejected"]] == expected
    assert rep["accounts"]["me"]["contract_balance"] == "250"


def test_exponents_of_plus_or_minus_30_and_extra_fields_are_accepted():
    lines = [
        GOOD_FIRST,
        _line("p1", 5000, "price", symbol="SOLUSDT", price="1E+30"),
        _line("f1", 5000, "funding", symbol="SOLUSDT", rate="1e-30"),
        _line("d1", 5000, "deposit", account="me", amount="12.5", note="extra", n=3),
        _line("l1", 5000, "open", trader="alice", symbol="BTCUSDT", side="long", qty="0.001",
              price="60000", leverage="10", margin_mode="isolated"),
    ]
    rep = run(lines)
    assert rep["rejected"] == []
    assert rep["accounts"]["me"]["contract_balance"] == "12.5"
    # Leverage as a decimal string works as well as a JSON integer.
    assert rep["traders"]["alice"]["positions"][0]["leverage"] == "10"


def test_the_same_id_with_the_same_content_is_silently_skipped():
    dep = _line("d1", 5000, "deposit", account="me", amount="100")
    rep = run([GOOD_FIRST, dep, dep, GOOD_LAST])
    assert rep["rejected"] == []
    # 100 once, plus 250.
    assert rep["accounts"]["me"]["contract_balance"] == "350"


def test_the_same_id_and_content_with_an_extra_unknown_field_is_silently_skipped():
    dep = _line("d1", 5000, "deposit", account="me", amount="100")
    dep_extra = _line("d1", 5000, "deposit", account="me", amount="100", memo="again")
    rep = run([GOOD_FIRST, dep, dep_extra, GOOD_LAST])
    assert rep["rejected"] == []
    assert rep["accounts"]["me"]["contract_balance"] == "350"


def _rich_scenario() -> Scenario:
    s = Scenario()
    s.add(0, "config", delay_ms="500", impact_bps="2")
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "trader", trader="bob", name="Bob", balance="10000")
    s.add(0, "deposit", account="me", amount="2000")
    s.add(1000, "price", symbol="BTCUSDT", price="60000")
    s.add(2000, "copy", copier="me", trader="alice", mode="smart", investment="1000")
    s.add(2000, "copy", "low", copier="me", trader="bob", mode="smart", investment="1")
    s.add(10_000, "open", "o1", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
          price="60000", leverage=10, margin_mode="isolated")
    s.add(20_000, "close", "c1", trader="alice", symbol="BTCUSDT", price="61000", qty="0.2")
    s.add(30_000, "settle")
    s.add(40_000, "open", "o2", trader="alice", symbol="BTCUSDT", side="long", qty="0.1",
          price="61500", leverage=10, margin_mode="isolated")  # pending at the end
    return s


def test_reimporting_the_same_file_is_a_silent_no_op():
    s = _rich_scenario()
    store = Store(":memory:")
    try:
        first = run(s, store)
        assert len(first["rejected"]) == 1  # the business rejection "low"
        second = run(s, store)
        assert second == first
    finally:
        store.close()


def test_reimporting_a_file_with_malformed_lines_changes_nothing():
    lines = _with_bad_line(MALFORMED["qty_json_number"][0])
    store = Store(":memory:")
    try:
        first = run(lines, store)
        assert len(first["rejected"]) == 1
        assert run(lines, store) == first
    finally:
        store.close()


# ---------------------------------------------------------------------------- CLI


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smartcopy_gui", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_cli_replay_and_report_print_the_same_report(tmp_path):
    scenario = tmp_path / "s.jsonl"
    scenario.write_text(_rich_scenario().text(), encoding="utf-8")
    db = tmp_path / "s.db"
    replay = _cli("replay", str(scenario), "--db", str(db), "--json")
    # A business rejection is reported, not an error.
    assert replay.returncode == 0, replay.stderr
    replayed = json.loads(replay.stdout)
    assert [r["event_id"] for r in replayed["rejected"]] == ["low"]
    assert replayed == run(_rich_scenario())
    report = _cli("report", "--db", str(db), "--json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout) == replayed
    # Replaying the same file again changes nothing and still succeeds.
    again = _cli("replay", str(scenario), "--db", str(db), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == replayed


def test_cli_replay_exits_non_zero_on_a_malformed_line_but_applies_the_rest(tmp_path):
    scenario = tmp_path / "bad.jsonl"
    scenario.write_text("\n".join(_with_bad_line(MALFORMED["unknown_type"][0])) + "\n",
                        encoding="utf-8")
    db = tmp_path / "bad.db"
    replay = _cli("replay", str(scenario), "--db", str(db), "--json")
    assert replay.returncode != 0
    rep = json.loads(replay.stdout)
    assert [(r["line"], r["event_id"]) for r in rep["rejected"]] == [(3, "b1")]
    assert rep["accounts"]["me"]["contract_balance"] == "250"
    report = _cli("report", "--db", str(db), "--json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout) == rep


# ---------------------------------------------------------------------- typed events
OPEN_LINE = ('{"id":"o1","ts":"2026-03-24T00:00:10.000Z","type":"open","trader":"alice",'
             '"symbol":"BTCUSDT","side":"long","qty":"0.50","price":"60000","leverage":10,'
             '"margin_mode":"isolated"}')
INSTRUMENT_LINE = ('{"id":"i1","ts":"2026-03-24T00:00:01.000Z","type":"instrument",'
                   '"symbol":"X","qty_step":"1","min_qty":"1","tick":"0.00000001",'
                   '"max_leverage":"20","tiers":[["1000","0.01","0"]]}')


def test_event_digests_are_those_existing_databases_hold():
    # Databases dedupe a re-import by digest: these are the values main's parser gave.
    (opened, instrument) = read_lines([OPEN_LINE, INSTRUMENT_LINE])
    assert opened.digest == "b44250a65a6cc59ca867df47328e34c9"
    assert instrument.digest == "ec9afb67c3749b25484a29e5ba1d1bee"


def test_a_parsed_event_has_typed_fields_and_still_answers_get():
    (ev,) = read_lines([OPEN_LINE])
    p = ev.payload_as(OpenFields)
    assert (p.side, p.margin_mode, p.qty, p.leverage, p.fee_rate) == (
        Side.LONG, MarginMode.ISOLATED, D("0.5"), D(10), None)
    assert p.side == "long" and ev.type == EventType.OPEN == "open"
    assert ev.get("qty") == D("0.5") and ev.get("fee_rate", "none") == "none"
    # A source that builds events itself, with plain strings, gets the same payload.
    built = Event("o1", ev.ts, "open", dict(ev.fields, side="long"))
    assert built.payload == p and built.digest == ev.digest


# ---------------------------------------------------------------------- hostile bytes
def test_the_decimal_syntax_is_ascii_digits_sign_point_and_exponent_only():
    for good, value in [("5", "5"), ("-2.50", "-2.5"), (".5", "0.5"), ("1e-3", "0.001"),
                        ("+7E+2", "700")]:
        assert parse_decimal_text(good) == D(value)
    for bad in ["5_000", "\u0665\u0660", " 5 ", "5\n", "Infinity", "-inf", "NaN", "0x10",
                "", ".", "1e", "1,5", "\uff15"]:
        with pytest.raises(ValueError, match="not a decimal number"):
            parse_decimal_text(bad)


def test_leverage_may_be_a_whole_decimal_string_or_a_json_integer():
    s = Scenario()
    s.add(0, "trader", trader="alice", name="Alice", balance="10000")
    s.add(0, "price", symbol="BTCUSDT", price="60000")
    s.add(1000, "open", "o1", trader="alice", symbol="BTCUSDT", side="long", qty="0.1",
          price="60000", leverage="10", margin_mode="isolated")
    s.add(2000, "leverage", "l1", trader="alice", symbol="BTCUSDT", leverage=20)
    rep = run(s)
    assert rep["rejected"] == []
    assert rep["traders"]["alice"]["positions"][0]["leverage"] == "20"


def _replay_file(path: Path, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smartcopy_gui", "replay", str(path), "--db",
                           str(db), "--json"], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_an_undecodable_byte_spoils_its_line_only_and_every_other_line_applies(tmp_path):
    # 305 physical lines (70 deposits among blank lines), a \xff on line 306, 301 after.
    lines: list[bytes] = []
    deposits = 0
    for i in range(305):
        if i % 4 == 0 and deposits < 70:
            deposits += 1
            lines.append(_line(f"a{i}", 1000 + i, "deposit", account="me", amount="1").encode())
        else:
            lines.append(b"")
    lines.append(_line("bad", 2000, "deposit", account="me", amount="1000").encode()
                 .replace(b"me", b"m\xff"))
    lines += [_line(f"b{i}", 3000 + i, "deposit", account="you", amount="1").encode()
              for i in range(301)]
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = _replay_file(path, tmp_path / "r.db")
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    rep = json.loads(out.stdout)
    assert rep["accounts"] == {"me": {"contract_balance": "70"},
                               "you": {"contract_balance": "301"}}
    (rej,) = rep["rejected"]
    assert rej["line"] == 306 and "UTF-8" in rej["reason"] and "0xff" in rej["reason"]


def test_a_byte_order_mark_at_the_start_of_a_scenario_file_is_ignored(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes("\ufeff".encode() + f"{GOOD_FIRST}\n{GOOD_LAST}\n".encode())
    out = _replay_file(path, tmp_path / "r.db")
    assert out.returncode == 0, out.stdout + out.stderr
    rep = json.loads(out.stdout)
    assert rep["rejected"] == []
    assert rep["traders"]["alice"]["wallet"] == "10000"
