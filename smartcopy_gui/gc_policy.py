"""How the process's cyclic garbage collector runs: set once, by the entry points.

The engine allocates one small, acyclic row per copier for every trader action, and
keeps its whole state in memory for as long as it runs. With the collector's default
thresholds, a fan-out to thousands of copiers triggers many young-generation scans and
rescans of that long-lived state. Library code never touches the collector; the
programs (``smartcopy``, the app, the benches) call :func:`tune_collector` once at start.
"""

from __future__ import annotations

import gc

# Young-generation allocations between collections (CPython's default is 700): a
# collection per ~50k allocations instead of per 700, so a batch for 10,000 copiers
# is scanned a few times rather than hundreds. Cycles are still collected.
YOUNG_THRESHOLD = 50_000

_tuned = False


def tune_collector() -> None:
    """Raise the collector's young threshold and move everything allocated so far (the
    imported modules) out of its scans. Idempotent: only the first call acts."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
