"""The demo's text output says modes, statuses and reasons in the app's words."""

from __future__ import annotations

from smartcopy_gui.demo import format_demo


def test_copies_are_named_and_worded_as_in_the_app():
    result = {
        "seed": 7, "days": 8, "traders": [],
        "copies": [{"trader": "averager", "mode": "fixed_amount", "status": "stopped",
                    "pnl": "-12.5", "roi": "-0.025",
                    "divergence": {"mean_entry_slippage_bps": "2.01",
                                   "utilization_ratio": None,
                                   "by_status": {"copied": 4, "skipped": 1},
                                   "by_reason": {"slippage_limit": 1}}}],
    }
    text = format_demo(result)
    assert "averager · Fixed amount" in text  # no name known: the id, never "(fixed_amount)"
    assert "Stopped" in text
    assert "outcomes: 4 × Copied, 1 × Skipped" in text
    assert "skipped because: 1 × The price moved beyond the slippage limit" in text
