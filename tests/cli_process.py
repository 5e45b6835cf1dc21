"""The ``smartcopy`` command run as a user runs it: in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One valid scenario line: 5 USDT into the contract account of "me".
DEPOSIT_LINE = ('{"id": "d1", "ts": "2026-03-24T00:00:00.000Z", "type": "deposit", '
                '"account": "me", "amount": "5"}\n')


def smartcopy(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``smartcopy ARGS…`` to the end; its status, stdout and stderr."""
    return subprocess.run([sys.executable, "-m", "smartcopy_gui", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def start_smartcopy(*args: str | Path) -> subprocess.Popen[str]:
    """``smartcopy ARGS…`` started, not waited for."""
    return subprocess.Popen([sys.executable, "-m", "smartcopy_gui", *map(str, args)],
                            cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
