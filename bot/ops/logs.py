"""Structured logs: one JSON object per line, with ids and outcomes, never message text or secrets."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

# Attributes every LogRecord has; anything else was passed in `extra=` and is part of the event.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: a traceback's locals and messages may hold residents' words.
            entry["exc_type"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False, default=str)


class RepeatLimiter(logging.Filter):
    """Lets through at most `burst` warnings or errors of one kind (logger and message) per `window`
    seconds; the next one let through says how many were held back. A flood of bad requests, or a server
    out of file descriptors, would otherwise write the same line thousands of times a second."""

    def __init__(self, burst: int = 10, window: float = 60.0, kinds: int = 1000) -> None:
        super().__init__()
        self.burst, self.window, self.kinds = burst, window, kinds
        self._seen: dict[tuple[str, object], list[float]] = {}  # kind -> [window start, passed, held back]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = (record.name, record.msg)
        now = record.created
        seen = self._seen.get(kind)
        if seen is None or now - seen[0] >= self.window:
            held_back = int(seen[2]) if seen else 0
            if seen is None and len(self._seen) >= self.kinds:
                self._seen.pop(next(iter(self._seen)))  # the oldest kind: memory stays bounded
            self._seen[kind] = seen = [now, 0, 0]
            if held_back:
                record.held_back = held_back
        if seen[1] >= self.burst:
            seen[2] += 1
            return False
        seen[1] += 1
        return True


# Loggers that write residents' data (statements with their parameters, response bodies, URLs) at DEBUG
# or INFO: they stay at WARNING whatever LOG_LEVEL says.
_QUIET = ("linebot", "aiohttp.access", "aiosqlite", "asyncpg", "sqlalchemy", "alembic", "urllib3", "PIL")


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RepeatLimiter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
