"""What-if: what a copy would have done, before it is made.

- history.py: where the recorded events come from (``History``: the store's
  ``recorded_events``; ``EventHistory`` and ``RecordingEngine`` for captured runs);
- runner.py: the same ``Engine`` on an in-memory store replays the trader's history
  with hypothetical copies made at T (one replay carries any number of them);
- report.py: the figures per copy (their definitions are in its docstring);
- sweep.py: K investments × modes in one replay, and the smallest clean smart
  investment found by replays;
- command.py: ``smartcopy whatif``.

Defaults: a what-if covers the last 30 days; a fixed_amount copy without an amount
puts a tenth of its investment into each copied open; a fixed_ratio copy without a
ratio mirrors the trader scaled by investment / the trader's equity at T; the sweep
is 12 investments log-spaced from 10 to 100,000 USDT (two significant digits) for
each of the three modes.
"""
