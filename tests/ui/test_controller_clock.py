"""The live clock: world time = wall time × speed, none lost while the engine is busy."""

from __future__ import annotations

import pytest

from smartcopy_gui.ui.controller import MAX_CATCH_UP_MS, Controller


class WallClock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(qtbot, monkeypatch):
    controller = Controller(lambda: None, monotonic=WallClock())
    controller.session = object()  # a session is open; the ticks are recorded instead
    ticks: list[int] = []
    monkeypatch.setattr(controller, "tick", lambda sim_ms, with_stats: sim_ms)
    monkeypatch.setattr(controller, "spawn", ticks.append)
    yield controller, ticks
    controller.engine.shutdown()


def wall_ago(controller: Controller, seconds: float) -> None:
    """Let ``seconds`` of wall time pass since the last tick."""
    controller.monotonic.now += seconds


def test_a_tick_advances_wall_time_times_speed(clock):
    controller, ticks = clock
    controller.set_speed(600)
    wall_ago(controller, 0.2)
    controller.on_timeout()
    assert ticks == [120_000]  # 200 ms of wall time at 600×


def test_time_skipped_while_busy_is_caught_up_on_the_next_tick(clock):
    controller, ticks = clock
    controller.set_speed(10)
    wall_ago(controller, 0.2)
    controller.busy = True
    controller.on_timeout()  # the engine is still on the last tick: nothing now…
    assert ticks == []
    wall_ago(controller, 0.4)  # …and 0.6 s in all have passed since the last tick ran
    controller.busy = False
    controller.on_timeout()
    assert ticks == [6_000]  # 0.6 s at 10×


def test_catching_up_is_capped_after_a_long_stall(clock):
    controller, ticks = clock
    controller.set_speed(60)
    wall_ago(controller, 3600)  # the machine slept for an hour
    controller.on_timeout()
    assert ticks == [60 * MAX_CATCH_UP_MS]


def test_paused_ticks_refresh_without_moving_the_world(clock):
    controller, ticks = clock
    controller.set_paused(True)
    wall_ago(controller, 0.5)
    controller.on_timeout()
    assert ticks == [0]
