"""Importing real data: price history CSV, trade history CSV / JSONL.

A bad file is refused with its line number and leaves the store unchanged, and a
re-import is a no-op.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from smartcopy_gui.cli import report
from smartcopy_gui.domain.events import parse_ts
from smartcopy_gui.engine.engine import Engine
from smartcopy_gui.sources.importers import (
    DEFAULT_BAR_MS,
    ImportFailed,
    import_events,
    parse_price_csv,
    parse_timestamp,
    parse_trades_csv,
    parse_trades_jsonl,
)
from smartcopy_gui.store import Store
from tests.scenario import alice_copied_by_me, run, snapshot, ts, write

D = Decimal
T0 = parse_ts(ts(0))  # 2026-03-24T00:00:00Z
PRICE_HEADER = "timestamp,open,high,low,close"
TRADE_HEADER = "timestamp,symbol,side,action,qty,price,leverage,margin_mode"


# ---------------------------------------------------------------------- helpers
def base(open_position: bool = False) -> tuple[Store, Engine]:
    """alice (10,000) copied by me (1,000 of 2,000, smart), BTC at 60,000; impact 0."""
    s = alice_copied_by_me()
    if open_position:
        s.add(5000, "open", "o1", trader="alice", symbol="BTCUSDT", side="long", qty="0.5",
              price="60000", leverage=10, margin_mode="isolated")
    store = Store(":memory:")
    run(s, store)  # flushes: the copier's open has run
    return store, Engine(store)


def iso(ms: int) -> str:
    return ts(ms).replace(".000Z", "Z")


def bar(at_s: int, o: str, h: str, lo: str, c: str) -> str:
    return f"{iso(at_s * 1000)},{o},{h},{lo},{c}"


GOOD_BARS = (
    bar(60, "60000", "60100", "59950", "60050"),   # rising: open, low, high, close
    bar(120, "60050", "60080", "59900", "59920"),  # falling: open, high, low, close
    bar(180, "59920", "60250", "59900", "60200"),
)


def import_prices(engine: Engine, path: Path | list[str], symbol: str = "BTCUSDT", **kw):
    return import_events(engine, parse_price_csv(path, symbol), source="prices.csv", **kw)


def import_trades(engine: Engine, path: Path, trader: str = "alice", **kw):
    return import_events(engine, parse_trades_csv(path, trader), source=path.name, **kw)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else D(value)


def outcomes_of(rep: dict, copier: str = "me") -> list[tuple]:
    """(action, status, qty, price) of a copier's outcomes, numbers as Decimals."""
    return [(o["action"], o["status"], _dec(o["qty"]), _dec(o["price"]))
            for o in rep["outcomes"] if o["copier"] == copier]


# ---------------------------------------------------------------------- timestamps
@pytest.mark.parametrize("text", [
    "2026-03-24T00:01:00Z", "2026-03-24T00:01:00.000Z", "2026-03-24T00:01:00+00:00",
    "2026-03-24 00:01:00Z", "1774310460", "1774310460000", " 1774310460 ",
])
def test_timestamp_forms(text):
    assert parse_timestamp(text) == T0 + 60_000


def test_timestamp_bare_date_is_midnight_utc():
    assert parse_timestamp("2026-03-24") == T0


@pytest.mark.parametrize("text, reason", [
    ("yesterday", "expected ISO-8601 UTC"),
    ("1774310460.5", "expected ISO-8601 UTC"),
    ("-1", "expected ISO-8601 UTC"),
    ("2026-03-24T00:01:00", "must be UTC"),
    ("2026-03-24T02:01:00+02:00", "must be UTC"),
    ("2026-02-30T00:00:00Z", "expected ISO-8601 UTC"),
    ("99999999999999999", "out of range"),
    ("", "empty"),
])
def test_bad_timestamps(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_timestamp(text)


# ---------------------------------------------------------------------- price CSV
def test_bars_become_four_prices_in_candle_order(tmp_path):
    events = list(parse_price_csv(write(tmp_path, "prices.csv", PRICE_HEADER, *GOOD_BARS),
                             "BTCUSDT"))
    assert len(events) == 12
    assert all(e.type == "price" and e.get("symbol") == "BTCUSDT" for e in events)
    assert all(type(e.get("price")) is Decimal for e in events)
    first = T0 + 60_000
    assert [(e.id, e.ts - first, str(e.get("price")), e.line) for e in events[:8]] == [
        (f"csv-BTCUSDT-{first}-0", 0, "60000", 2),
        (f"csv-BTCUSDT-{first}-1", 15_000, "59950", 2),  # rising bar: low first
        (f"csv-BTCUSDT-{first}-2", 30_000, "60100", 2),
        (f"csv-BTCUSDT-{first}-3", 45_000, "60050", 2),
        (f"csv-BTCUSDT-{first + 60_000}-0", 60_000, "60050", 3),
        (f"csv-BTCUSDT-{first + 60_000}-1", 75_000, "60080", 3),  # falling: high first
        (f"csv-BTCUSDT-{first + 60_000}-2", 90_000, "59900", 3),
        (f"csv-BTCUSDT-{first + 60_000}-3", 105_000, "59920", 3),
    ]
    assert [e.ts for e in events] == sorted(e.ts for e in events)


def test_header_any_case_and_order_extra_columns_bom_and_epoch_times():
    lines = ["\ufeffVolume, Close ,LOW,High,Open,TimeStamp,note",
             "12,60050,59950,60100,60000,1774310460,x",
             "",
             "7,59920,59900,60080,60050,1774310520000,y"]
    events = list(parse_price_csv(lines, "BTCUSDT", name="p.csv"))
    assert [str(e.get("price")) for e in events] == [
        "60000", "59950", "60100", "60050", "60050", "60080", "59900", "59920"]
    assert events[4].ts == T0 + 120_000 and events[4].line == 4


def test_one_bar_uses_a_minute_unless_interval_given():
    one = list(parse_price_csv([PRICE_HEADER, GOOD_BARS[0]], "BTCUSDT"))
    assert [e.ts - one[0].ts for e in one] == [0, DEFAULT_BAR_MS // 4, DEFAULT_BAR_MS // 2,
                                               DEFAULT_BAR_MS * 3 // 4]
    hourly = list(parse_price_csv([PRICE_HEADER, GOOD_BARS[0]], "BTCUSDT", interval_ms=3_600_000))
    assert hourly[3].ts - hourly[0].ts == 2_700_000


def test_gaps_do_not_stretch_a_bar():
    # bars at 1, 2 and 10 minutes: every bar spans the smallest gap (one minute)
    events = list(parse_price_csv([PRICE_HEADER, GOOD_BARS[0], GOOD_BARS[1],
                              bar(600, "1", "1", "1", "1")], "BTCUSDT"))
    assert events[-1].ts - events[-4].ts == 45_000


def test_price_import_drives_the_market(tmp_path):
    store, engine = base(open_position=True)
    summary = import_prices(engine, write(tmp_path, "prices.csv", PRICE_HEADER, *GOOD_BARS))
    assert (summary.applied, summary.duplicates, summary.rejected) == (12, 0, [])
    assert summary.first_ts == T0 + 60_000 and summary.last_ts == T0 + 180_000 + 45_000
    assert engine.state.prices["BTCUSDT"] == D("60200")
    assert engine.state.last_ts == T0 + 225_000
    rep = report(store)
    assert D(rep["traders"]["alice"]["positions"][0]["unrealized_pnl"]) == D("100")  # 0.5×200
    assert D(rep["copies"][0]["positions"][0]["unrealized_pnl"]) == D("9.8")  # 0.049×200
    assert Engine(store).state.prices["BTCUSDT"] == D("60200")  # committed, not just memory


def test_an_imported_low_liquidates(tmp_path):
    store, engine = base(open_position=True)  # alice's liquidation price is 54,271.36
    import_prices(engine, write(tmp_path, "prices.csv", PRICE_HEADER,
                                bar(60, "60000", "60000", "54000", "55000")))
    engine.flush()
    rep = report(store)
    assert rep["traders"]["alice"]["positions"] == []
    liq = [o for o in rep["outcomes"] if o["action"] == "liquidation"]
    assert liq and liq[0]["copier"] is None and liq[0]["ts"] == ts(60_000 + 30_000)
    # the copier (liquidation price 54,298.49) goes at the same low; alice's close
    # signal then finds nothing to close
    assert outcomes_of(rep)[1:] == [("liquidation", "done", D("0.049"), D("54000")),
                                    ("close", "skipped", None, None)]


def test_price_reimport_is_a_no_op(tmp_path):
    store, engine = base()
    path = write(tmp_path, "prices.csv", PRICE_HEADER, *GOOD_BARS)
    import_prices(engine, path)
    before = snapshot(store)
    again = import_prices(engine, path)
    assert (again.applied, again.duplicates, again.changed) == (0, 12, False)
    assert snapshot(store) == before


def test_a_longer_export_adds_only_the_new_bars(tmp_path):
    store, engine = base()
    import_prices(engine, write(tmp_path, "prices.csv", PRICE_HEADER, *GOOD_BARS[:2]))
    summary = import_prices(engine, write(tmp_path, "prices.csv", PRICE_HEADER, *GOOD_BARS))
    assert (summary.applied, summary.duplicates) == (4, 8)
    assert engine.state.prices["BTCUSDT"] == D("60200")


BAD_PRICES = {
    # name: (lines after the file is written, line named, reason fragment)
    "empty_file": ([], 1, "the file is empty"),
    "only_blank_lines": (["", "  "], 1, "the file is empty"),
    "header_only": ([PRICE_HEADER], 2, "no price rows after the header"),
    "missing_column": (["timestamp,open,high,low", "2026-03-24T00:01:00Z,1,1,1"], 1,
                       "missing column 'close'"),
    "no_header": ([GOOD_BARS[0], GOOD_BARS[1]], 1, "the first line must be a header"),
    "duplicate_column": (["timestamp,open,high,low,close,OPEN"], 1, "appears twice"),
    "bad_number": ([PRICE_HEADER, GOOD_BARS[0], bar(120, "60050", "6O080", "59900", "59920")],
                   3, "high '6O080' is not a number"),
    "negative_price": ([PRICE_HEADER, bar(60, "60000", "60100", "-5", "60050")], 2,
                       "low must be positive, got -5"),
    "zero_price": ([PRICE_HEADER, bar(60, "0", "60100", "59950", "60050")], 2,
                   "open must be positive"),
    "nan": ([PRICE_HEADER, bar(60, "NaN", "60100", "59950", "60050")], 2, "finite"),
    "infinity": ([PRICE_HEADER, bar(60, "60000", "Infinity", "59950", "60050")], 2, "finite"),
    "huge_exponent": ([PRICE_HEADER, bar(60, "60000", "1e31", "59950", "60050")], 2,
                      "exponent"),
    "empty_cell": ([PRICE_HEADER, bar(60, "60000", "", "59950", "60050")], 2, "high is empty"),
    "high_below_low": ([PRICE_HEADER, bar(60, "60000", "59000", "59500", "60050")], 2,
                       "high 59000 is below low 59500"),
    "low_above_open": ([PRICE_HEADER, bar(60, "60000", "60100", "60010", "60050")], 2,
                       "low 60010 is above open 60000"),
    "repeated_time": ([PRICE_HEADER, GOOD_BARS[0], GOOD_BARS[0].replace("60050", "60060")],
                      3, "is not after the previous row's"),
    "time_going_back": ([PRICE_HEADER, GOOD_BARS[1], "", GOOD_BARS[0]], 4,
                        "(line 2); rows must be in time order"),
    "bad_timestamp": ([PRICE_HEADER, "soon,1,1,1,1"], 2, "bad timestamp 'soon'"),
    "local_timestamp": ([PRICE_HEADER, "2026-03-24T00:01:00,1,1,1,1"], 2, "must be UTC"),
    "missing_field": ([PRICE_HEADER, "2026-03-24T00:01:00Z,1,1,1"], 2,
                      "has 4 fields, the header has 5"),
    "bad_quoting": ([PRICE_HEADER, '2026-03-24T00:01:00Z,"1"x,1,1,1'], 2, "not valid CSV"),
}


@pytest.mark.parametrize("case", sorted(BAD_PRICES))
def test_a_malformed_price_file_names_the_line_and_changes_nothing(tmp_path, case):
    lines, line, reason = BAD_PRICES[case]
    store, engine = base(open_position=True)
    before = snapshot(store)
    path = write(tmp_path, "prices.csv", *lines)
    with pytest.raises(ImportFailed) as info:
        import_prices(engine, path)
    assert info.value.line == line
    assert str(info.value).startswith(f"prices.csv line {line}: ")
    assert reason in str(info.value)
    assert snapshot(store) == before
    assert engine.state.prices["BTCUSDT"] == D("60000")


def test_the_message_reads_like_the_issue(tmp_path):
    rows = [bar(60 * i, "61000", "61300", "60900", "61100") for i in range(1, 6)]
    path = write(tmp_path, "prices.csv", PRICE_HEADER, *rows,
                 bar(360, "60900", "61000", "60800", "61200"))
    with pytest.raises(ImportFailed) as info:
        parse_price_csv(path, "BTCUSDT")
    assert str(info.value) == "prices.csv line 7: high 61000 is below close 61200"
    assert (info.value.source, info.value.line) == ("prices.csv", 7)


def test_unreadable_files(tmp_path):
    with pytest.raises(ImportFailed, match=r"^nope\.csv: cannot read the file"):
        parse_price_csv(tmp_path / "nope.csv", "BTCUSDT")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{PRICE_HEADER}\n{GOOD_BARS[0]}\n\xff,1,1,1,1\n".encode("latin-1"))
    with pytest.raises(ImportFailed, match="not UTF-8"):
        parse_price_csv(latin, "BTCUSDT")


def test_interval_longer_than_a_gap_is_refused():
    with pytest.raises(ImportFailed, match="line 3: .*less than interval_ms=3600000"):
        parse_price_csv([PRICE_HEADER, *GOOD_BARS], "BTCUSDT", interval_ms=3_600_000)


# ------------------------------------------------- refusals at import (store checks)
def test_prices_older_than_the_store_are_refused_whole(tmp_path):
    store, engine = base(open_position=True)  # last event at T0 + 5 s
    before = snapshot(store)
    path = write(tmp_path, "prices.csv", PRICE_HEADER, bar(4, "1", "1", "1", "1"),
                 *GOOD_BARS)
    with pytest.raises(ImportFailed) as info:
        import_prices(engine, path)
    assert info.value.line == 2
    assert "earlier than the store's last event at 2026-03-24T00:00:05.000Z" in str(info.value)
    assert snapshot(store) == before


def test_an_edited_reimport_is_refused_whole(tmp_path):
    store, engine = base()
    import_prices(engine, write(tmp_path, "prices.csv", PRICE_HEADER, *GOOD_BARS[:2]))
    before = snapshot(store)
    edited = write(tmp_path, "prices.csv", PRICE_HEADER, GOOD_BARS[0],
                   GOOD_BARS[1].replace("59920", "59930"), GOOD_BARS[2])
    with pytest.raises(ImportFailed) as info:
        import_prices(engine, edited)
    assert info.value.line == 3 and "already imported with other content" in str(info.value)
    assert snapshot(store) == before  # the new third bar was not applied either


def test_unknown_instrument_is_refused(tmp_path):
    store, engine = base()
    before = snapshot(store)
    with pytest.raises(ImportFailed, match=r"prices\.csv line 2: unknown instrument 'DOGE"):
        import_prices(engine, write(tmp_path, "p.csv", PRICE_HEADER, *GOOD_BARS), "DOGEUSDT")
    assert snapshot(store) == before


# ---------------------------------------------------------------------- trades CSV
TRADES = (
    f"{iso(10_000)},BTCUSDT,long,open,0.5,60000,10,isolated",
    f"{iso(20_000)},BTCUSDT,long,close,0.2,60500,,",
    f"{iso(30_000)},btcusdt,LONG,Close,,61000,10,isolated",  # leverage ignored on a close
)


def test_trade_rows_become_open_and_close_events(tmp_path):
    events = list(parse_trades_csv(write(tmp_path, "trades.csv", TRADE_HEADER, *TRADES), "alice"))
    assert [(e.id, e.type, e.line) for e in events] == [
        (f"csv-alice-{T0 + 10_000}-0", "open", 2),
        (f"csv-alice-{T0 + 20_000}-0", "close", 3),
        (f"csv-alice-{T0 + 30_000}-0", "close", 4)]
    assert events[0].fields == {"trader": "alice", "symbol": "BTCUSDT", "side": "long",
                                "qty": D("0.5"), "price": D("60000"), "leverage": D("10"),
                                "margin_mode": "isolated"}
    assert events[1].fields == {"trader": "alice", "symbol": "BTCUSDT", "price": D("60500"),
                                "qty": D("0.2")}
    assert events[2].fields == {"trader": "alice", "symbol": "BTCUSDT", "price": D("61000")}


def test_same_digest_as_the_scenario_form(tmp_path):
    """A CSV row and the equivalent JSONL line are the same event content."""
    csv_ev = list(parse_trades_csv([TRADE_HEADER, TRADES[0]], "alice"))[0]
    line = json.dumps({"id": "x", "ts": ts(10_000), "type": "open", "trader": "alice",
                       "symbol": "BTCUSDT", "side": "long", "qty": "0.5", "price": "60000",
                       "leverage": 10, "margin_mode": "isolated"})
    assert list(parse_trades_jsonl([line], "alice"))[0].digest == csv_ev.digest


def test_optional_columns_ids_and_same_time_rows():
    lines = ["id,timestamp,symbol,side,action,qty,price,leverage,margin_mode,fee_rate",
             f"t-1,{iso(10_000)},BTCUSDT,long,open,0.1,60000,10,cross,0",
             f",{iso(10_000)},ETHUSDT,short,open,1,3000,5,isolated,",
             f",{iso(10_000)},ETHUSDT,short,close,,3000,,,0.0002"]
    events = list(parse_trades_csv(lines, "alice"))
    assert [e.id for e in events] == ["t-1", f"csv-alice-{T0 + 10_000}-0",
                                      f"csv-alice-{T0 + 10_000}-1"]
    assert events[0].get("fee_rate") == 0 and "fee_rate" not in events[1].fields
    assert events[2].get("fee_rate") == D("0.0002")


def test_a_trade_history_replays_and_copiers_follow(tmp_path):
    store, engine = base()
    path = write(tmp_path, "trades.csv", TRADE_HEADER, *TRADES)
    summary = import_trades(engine, path)
    assert (summary.applied, summary.rejected) == (3, [])
    engine.flush()
    rep = report(store)
    # §9 of the copy rules: smart copier, u = 0.3 → 0.049; f = 0.4 → 0.020; the rest.
    assert outcomes_of(rep) == [("open", "copied", D("0.049"), D("60000")),
                                ("close", "copied", D("0.020"), D("60500")),
                                ("close", "copied", D("0.029"), D("61000"))]
    assert rep["traders"]["alice"]["positions"] == []
    # 10,000 − 18 (fee) + 100 − 7.26 + 300 − 10.98
    assert D(rep["traders"]["alice"]["wallet"]) == D("10363.76")
    before = snapshot(store)
    again = import_trades(engine, path)
    assert (again.applied, again.duplicates) == (0, 3)
    assert snapshot(store) == before


def test_prices_and_trades_merge_by_time(tmp_path):
    """The worked example from real files: the copier fills at the price 500 ms later."""
    store, engine = base()
    prices = parse_price_csv([PRICE_HEADER, bar(10, "60000", "60030", "60000", "60030"),
                              bar(11, "60030", "60030", "60030", "60030")], "BTCUSDT")
    trades = parse_trades_csv([TRADE_HEADER, TRADES[0]], "alice")
    summary = import_events(engine, {"prices.csv": prices, "trades.csv": trades})
    assert summary.applied == 9 and summary.source == "prices.csv, trades.csv"
    engine.flush()
    rep = report(store)
    assert outcomes_of(rep) == [("open", "copied", D("0.049"), D("60030"))]
    assert D(rep["copies"][0]["positions"][0]["margin"]) == D("294.147")


def test_merged_import_names_the_right_file(tmp_path):
    store, engine = base()
    before = snapshot(store)
    prices = parse_price_csv([PRICE_HEADER, *GOOD_BARS], "BTCUSDT")
    trades = parse_trades_csv([TRADE_HEADER, f"{iso(150_000)},BTCUSDT,long,close,,60000,,"],
                              "alice")
    with pytest.raises(ImportFailed) as info:
        import_events(engine, {"prices.csv": prices, "trades.csv": trades})
    assert str(info.value).startswith("trades.csv line 2: trader 'alice' has no open BTCUSDT")
    assert snapshot(store) == before


BAD_TRADES = {
    "empty_file": ([], 1, "the file is empty"),
    "header_only": ([TRADE_HEADER], 2, "no trade rows"),
    "missing_column": (["timestamp,symbol,side,action,qty", TRADES[0]], 1,
                       "missing column 'price'"),
    "unknown_side": ([TRADE_HEADER, TRADES[0].replace("long", "buy")], 2,
                     "unknown side 'buy'; expected one of long, short"),
    "unknown_action": ([TRADE_HEADER, TRADES[0], TRADES[1].replace("close", "reduce")], 3,
                       "unknown action 'reduce'"),
    "missing_leverage": ([TRADE_HEADER, TRADES[0].replace(",10,", ",,")], 2,
                         "an open needs a leverage"),
    "no_leverage_column": (["timestamp,symbol,side,action,qty,price",
                            f"{iso(10_000)},BTCUSDT,long,open,0.5,60000"], 2,
                           "an open needs a leverage"),
    "missing_margin_mode": ([TRADE_HEADER, TRADES[0].replace("isolated", "")], 2,
                            "an open needs a margin mode"),
    "bad_margin_mode": ([TRADE_HEADER, TRADES[0].replace("isolated", "hedged")], 2,
                        "unknown margin_mode 'hedged'"),
    "open_without_qty": ([TRADE_HEADER, TRADES[0].replace("0.5", "")], 2, "qty is empty"),
    "bad_qty": ([TRADE_HEADER, TRADES[0].replace("0.5", "half")], 2,
                "qty 'half' is not a number"),
    "negative_price": ([TRADE_HEADER, TRADES[0].replace("60000", "-60000")], 2,
                       "price must be positive"),
    "negative_fee_rate": (["timestamp,symbol,side,action,qty,price,fee_rate",
                           f"{iso(20_000)},BTCUSDT,long,close,,1,-0.1"], 2,
                          "fee_rate must not be negative"),
    "bad_timestamp": ([TRADE_HEADER, "noon" + TRADES[0][len(iso(10_000)):]], 2,
                      "bad timestamp 'noon'"),
    "time_going_back": ([TRADE_HEADER, TRADES[1], TRADES[0]], 3,
                        "earlier than the previous row's"),
    "close_of_the_other_side": ([TRADE_HEADER, TRADES[0], TRADES[1].replace("long", "short")],
                                3, "closes a short BTCUSDT position, but the open at line 2"),
    "repeated_id": (["id," + TRADE_HEADER, "a," + TRADES[0], "a," + TRADES[1]], 3,
                    "id 'a' is used again (first at line 2)"),
    "empty_symbol": ([TRADE_HEADER, TRADES[0].replace("BTCUSDT", "")], 2, "symbol is empty"),
    # refused at import, after the file parsed: still nothing applied
    "close_without_position": ([TRADE_HEADER, *TRADES, f"{iso(40_000)},BTCUSDT,long,close,,"
                                "61000,,"], 5, "trader 'alice' has no open BTCUSDT position"),
    "unaffordable_open": ([TRADE_HEADER, TRADES[0], TRADES[1],
                           f"{iso(25_000)},ETHUSDT,short,open,100,3000,1,cross"], 4,
                          "cannot afford"),
    "qty_off_step": ([TRADE_HEADER, TRADES[0].replace("0.5", "0.0005")], 2,
                     "must be a positive multiple of 0.001"),
    "leverage_too_high": ([TRADE_HEADER, TRADES[0].replace(",10,", ",200,")], 2,
                          "leverage 200 is outside 1..100"),
    "before_the_store": ([TRADE_HEADER, TRADES[0].replace(iso(10_000), iso(1_500))], 2,
                         "earlier than the store's last event"),
    "unknown_symbol": ([TRADE_HEADER, TRADES[0].replace("BTCUSDT", "XRPUSDT")], 2,
                       "unknown instrument 'XRPUSDT'"),
}


@pytest.mark.parametrize("case", sorted(BAD_TRADES))
def test_a_malformed_trade_file_names_the_line_and_changes_nothing(tmp_path, case):
    lines, line, reason = BAD_TRADES[case]
    store, engine = base()
    before = snapshot(store)
    path = write(tmp_path, "trades.csv", *lines)
    with pytest.raises(ImportFailed) as info:
        import_trades(engine, path)
    assert info.value.line == line
    assert str(info.value).startswith(f"trades.csv line {line}: ")
    assert reason in str(info.value)
    assert snapshot(store) == before
    assert engine.pending_count == 0 and engine.state.traders["alice"].account.positions == {}


def test_unknown_trader_is_refused(tmp_path):
    store, engine = base()
    before = snapshot(store)
    with pytest.raises(ImportFailed, match=r"trades\.csv line 2: unknown trader 'bob'"):
        import_trades(engine, write(tmp_path, "trades.csv", TRADE_HEADER, *TRADES), "bob")
    assert snapshot(store) == before


def test_allow_rejections_applies_the_rest_and_reports(tmp_path):
    store, engine = base()
    path = write(tmp_path, "trades.csv", TRADE_HEADER, *TRADES,
                 f"{iso(40_000)},BTCUSDT,long,close,,61000,,")
    summary = import_trades(engine, path, allow_rejections=True)
    assert summary.applied == 3 and len(summary.rejected) == 1
    rej = summary.rejected[0]
    assert (rej.source, rej.line, rej.event_id) == ("trades.csv", 5, f"csv-alice-{T0 + 40_000}-0")
    assert "has no open BTCUSDT position" in rej.reason
    assert report(store)["rejected"][-1]["line"] == 5
    assert str(summary) == "trades.csv: 3 applied, 0 already imported, 1 rejected"
    before = snapshot(store)
    assert not import_trades(engine, path, allow_rejections=True).changed
    assert snapshot(store) == before


# ---------------------------------------------------------------------- trades JSONL
def jsonl(*objs: dict) -> list[str]:
    return [json.dumps(o) for o in objs]


def ev(id_: str, at_ms: int, type_: str, **fields) -> dict:
    return {"id": id_, "ts": ts(at_ms), "type": type_, **fields}


CAROL = (
    ev("c0", 10_000, "trader", trader="carol", name="Carol", balance="5000"),
    ev("c1", 11_000, "price", symbol="ETHUSDT", price="3000"),
    ev("c2", 12_000, "open", trader="carol", symbol="ETHUSDT", side="short", qty="2",
       price="3000", leverage=5, margin_mode="cross"),
    ev("c3", 13_000, "leverage", trader="carol", symbol="ETHUSDT", leverage="4"),
    ev("c4", 14_000, "close", trader="carol", symbol="ETHUSDT", price="2900", qty="1"),
)


def test_a_jsonl_history_imports(tmp_path):
    store, engine = base()
    path = tmp_path / "carol.jsonl"
    path.write_text("\n".join(jsonl(*CAROL)) + "\n\n", encoding="utf-8")
    summary = import_events(engine, parse_trades_jsonl(path, "carol"), source=path.name)
    assert (summary.applied, summary.rejected) == (5, [])
    pos = report(store)["traders"]["carol"]["positions"]
    assert [(p["side"], D(p["qty"]), D(p["leverage"])) for p in pos] == [("short", 1, 4)]
    before = snapshot(store)
    assert import_events(engine, parse_trades_jsonl(path, "carol")).duplicates == 5
    assert snapshot(store) == before


BAD_JSONL = {
    "empty": ([], 1, "the file holds no events"),
    "not_json": ([*jsonl(*CAROL[:2]), '{"id": "c2", "ts": '], 3, "not valid JSON"),
    "missing_field": (jsonl(CAROL[0], ev("c1", 11_000, "price", symbol="ETHUSDT")), 2,
                      "missing field 'price'"),
    "other_trader": (jsonl(*CAROL[:2], {**CAROL[2], "trader": "alice"}), 3,
                     "is for trader 'alice', not 'carol'"),
    "registers_another_trader": (jsonl({**CAROL[0], "trader": "dave"}), 1,
                                 "is for trader 'dave'"),
    "moves_money": (jsonl(CAROL[0], ev("d", 10_500, "deposit", account="me", amount="1")), 2,
                    "type 'deposit' is not allowed in a trade history"),
    "time_going_back": (jsonl(CAROL[0], CAROL[2], CAROL[1]), 3, "is earlier than line 2's"),
    "reused_id": (jsonl(CAROL[0], {**CAROL[1], "id": "c0"}), 2,
                  "id 'c0' was already used at line 1"),
    "zero_price": (jsonl(CAROL[0], {**CAROL[1], "price": "0"}), 2, "a price must be positive"),
    "business_rejection": (jsonl(*CAROL[:2], {**CAROL[2], "qty": "200000"}), 3,
                           "cannot afford"),
}


@pytest.mark.parametrize("case", sorted(BAD_JSONL))
def test_a_malformed_jsonl_history_names_the_line_and_changes_nothing(tmp_path, case):
    lines, line, reason = BAD_JSONL[case]
    store, engine = base()
    before = snapshot(store)
    path = tmp_path / "carol.jsonl"
    path.write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_events(engine, parse_trades_jsonl(path, "carol"), source=path.name)
    assert info.value.line == line
    assert str(info.value).startswith(f"carol.jsonl line {line}: ")
    assert reason in str(info.value)
    assert snapshot(store) == before
    assert "carol" not in engine.state.traders
