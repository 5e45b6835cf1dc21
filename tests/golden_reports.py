"""The replay reports the engine must keep producing byte for byte.

A behaviour-preserving change (a refactor) leaves every report here identical; a change
of the rules (the spec) shows up as a diff of these files, regenerated on purpose with
``python -m tests.golden_reports --update`` and explained in its commit.

Each case is the exact stdout of a ``smartcopy`` command run in a child process:
``replay --json`` of every scenario in ``resources/scenarios/`` and of a generated
scenario with many copiers, and a 90-day ``demo --json`` with copies in every mode.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIOS = ROOT / "resources" / "scenarios"
DEMO_COPIES = ["rotation:smart:1000", "averager:smart:1000", "degen:smart:500",
               "scalper:fixed_amount:1000:50", "trend:fixed_ratio:2000:0.5"]


def _smartcopy(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "smartcopy_gui", *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"smartcopy {' '.join(args)} failed ({out.returncode}):\n"
                           f"{out.stderr}")
    return out.stdout


def _replay(scenario: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        return _smartcopy("replay", str(scenario), "--db", str(Path(tmp) / "r.db"), "--json")


def _generated() -> str:
    from tests.gen_scenario import big_scenario

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        path.write_text(big_scenario(20261202, traders=3, copiers=10, events=1200).text(),
                        encoding="utf-8")
        return _replay(path)


def _demo() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["demo", "--days", "90", "--json", "--db", str(Path(tmp) / "d.db")]
        for spec in DEMO_COPIES:
            args += ["--copy", spec]
        return _smartcopy(*args)


def cases() -> dict[str, Callable[[], str]]:
    """Golden file name → how to produce its content."""
    found: dict[str, Callable[[], str]] = {
        f"replay-{p.stem}.json": (lambda p=p: _replay(p))  # type: ignore[misc]
        for p in sorted(SCENARIOS.glob("*.jsonl"))}
    found["replay-generated.json"] = _generated
    found["demo-90d.json"] = _demo
    return found


def main(argv: list[str]) -> int:
    update = "--update" in argv
    differ = []
    for name, produce in cases().items():
        text = produce()
        path = GOLDEN / name
        if update:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            differ.append(name)
            print(f"DIFFERS: {name}")
        else:
            print(f"identical: {name}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
