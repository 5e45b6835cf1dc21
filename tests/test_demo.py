"""``smartcopy demo``: the simulated world headless, its statistics and the report."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from smartcopy_gui.cli import main

COPIES = ["--copy", "rotation:smart:1000", "--copy", "scalper:fixed_amount:1000:50"]


@pytest.fixture(scope="module")
def demo_json(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    return db, ["demo", "--days", "5", "--seed", "3", "--db", str(db), *COPIES, "--json"]


def run(capsys, argv):
    assert main(argv) == 0
    return capsys.readouterr().out


def test_json_has_every_trader_with_differing_records_and_the_copies(capsys, demo_json):
    _, argv = demo_json
    out = json.loads(run(capsys, argv))
    assert (out["seed"], out["days"]) == (3, 5)
    traders = {t["trader"]: t for t in out["traders"]}
    assert len(traders) >= 8
    rois = {t["periods"]["7"]["roi"] for t in traders.values()}
    assert len(rois) >= 8, "traders with different styles should not share a record"
    assert traders["rotation"]["copiers"] == 1 and traders["scalper"]["copiers"] == 1
    copies = {c["trader"]: c for c in out["copies"]}
    assert copies["rotation"]["mode"] == "smart"
    assert copies["scalper"]["mode"] == "fixed_amount"
    assert sum(copies["scalper"]["divergence"]["by_status"].values()) > 0
    assert out["refused_copies"] == []
    copiers = {c["copier"] for c in out["report"]["copies"]}
    assert copiers == {"me"}


def test_same_seed_same_numbers_and_text_names_every_trader(capsys, tmp_path, demo_json):
    _, argv = demo_json
    first = json.loads(run(capsys, [a if not a.endswith(".db") else str(tmp_path / "a.db")
                                    for a in argv]))
    second = json.loads(run(capsys, [a if not a.endswith(".db") else str(tmp_path / "b.db")
                                     for a in argv]))
    assert first == second
    text = run(capsys, ["demo", "--days", "5", "--seed", "3", *COPIES])
    for t in first["traders"]:
        assert t["name"] in text
    pnl = Decimal(next(c for c in first["copies"] if c["trader"] == "scalper")["pnl"])
    assert f"{pnl:,.2f}" in text
    assert "outcomes:" in text


def test_an_unknown_trader_is_named(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--days", "1", "--copy", "nobody:smart:100"])
    assert "nobody" in str(exc.value)
