"""Where SmartCopy keeps its files in the user's directories, private to the user.

The database lives in the user data directory and the log in the user log directory
(never beside the program). Directories are created 0700 and files 0600: the
database holds what a user has deposited and copied.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "SmartCopy"
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by the user alone; returns it.
    An existing ``path`` (SmartCopy's own directory) is made private too."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for created in {path, *missing}:
        os.chmod(created, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 if it does not exist yet; returns it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    return path


def data_dir() -> Path:
    """The user data directory of SmartCopy (created)."""
    return private_dir(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))


def log_dir() -> Path:
    """The user log directory of SmartCopy (created)."""
    return private_dir(Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)))


def default_db_path() -> Path:
    """The database in the user's data directory."""
    return data_dir() / "smartcopy.db"


def log_path() -> Path:
    """Where the app and the command line write their log (crashes included)."""
    return log_dir() / "smartcopy.log"
