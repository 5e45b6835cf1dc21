"""The headless bootstrap: a session on the embedded default world. No Qt.

The desktop app, the screenshots and the tests build their sessions here, so the
wiring of store, engine and simulated world is written once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .engine.engine import Engine
from .session import Session, World
from .sources.world import World as SimulatedWorld

DEFAULT_SEED = 7


def world_factory(seed: int) -> Callable[[Engine, int], World]:
    """The embedded default world: the simulated market and traders."""

    def make(engine: Engine, _seed: int) -> World:
        return SimulatedWorld.open(engine, seed=seed)

    return make


SessionFactory = Callable[[Callable[[int, int], None] | None], Session]


def session_factory(db_path: Path | str, seed: int = DEFAULT_SEED) -> SessionFactory:
    """Opens a session on ``db_path`` with the simulated world of ``seed``; the argument
    hears the progress of a database upgrade (see :class:`Session`)."""

    def make(upgrade_progress: Callable[[int, int], None] | None = None) -> Session:
        return Session(db_path, seed=seed, world_factory=world_factory(seed),
                       upgrade_progress=upgrade_progress)

    return make
