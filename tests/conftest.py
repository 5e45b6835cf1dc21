"""Shared fixtures. Qt runs offscreen: set before any QApplication exists."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import pytest  # noqa: E402

# Helper modules whose asserts are the tests' own: show their values when they fail.
pytest.register_assert_rewrite("tests.scenario", "tests.ui.app_process")

from smartcopy_gui.store import Store  # noqa: E402


@pytest.fixture
def db_path(tmp_path):
    """A path for a fresh database file."""
    return tmp_path / "smartcopy.db"


@pytest.fixture
def fresh_db(db_path):
    """A fresh, migrated store; closed at teardown."""
    store = Store(db_path)
    yield store
    store.close()
