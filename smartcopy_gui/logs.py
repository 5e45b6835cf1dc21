"""The one logging configuration, made by the entry points (``app.main``, ``cli.main``).

Library modules only ask for loggers. Levels sit on the handlers: the terminal gets
warnings and errors alone, so a user who started SmartCopy from a shell never sees its
INFO lines; the rotating log file in the user log directory gets everything from INFO.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import sys
from pathlib import Path

from .paths import FILE_MODE, log_path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_BYTES = 2_000_000
BACKUPS = 3


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created readable by the user alone."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        os.fchmod(fd, FILE_MODE)  # a log an older version left readable to others
        return open(fd, "a", encoding=self.encoding)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """The terminal: whatever ``sys.stderr`` is when a record is written."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class _OneLine(logging.Formatter):
    """The terminal's format: one line per record, never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return f"smartcopy: {record.name}: {record.getMessage()}"


# ``log.error(..., extra={FILE_ONLY: True})`` writes to the log file alone.
FILE_ONLY = "file_only"
_configured: list[Path | None] = []


def configure_logging(log_file: Path | None = None) -> Path | None:
    """Log INFO and up to the rotating ``log_file`` (the user log file by default) and
    WARNING and up to stderr. Once per process: later calls change nothing. Returns the
    log file (None when it could not be opened: the terminal alone then gets the
    warnings)."""
    if _configured:
        return _configured[0]
    root = logging.getLogger()
    console = _Stderr()
    console.setLevel(logging.WARNING)
    console.setFormatter(_OneLine())
    console.addFilter(lambda record: not getattr(record, FILE_ONLY, False))
    root.addHandler(console)
    path: Path | None = None
    try:
        path = log_file or log_path()
        file_handler = PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES,
                                                  backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        path = None
    else:
        file_handler.setLevel(logging.INFO)
        file_handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(file_handler)
    root.setLevel(logging.INFO)
    _configured.append(path)
    return path
