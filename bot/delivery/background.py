"""Stopping background loops without cancelling them in the middle of a database call.

A task cancelled while SQLAlchemy's asyncpg adapter is inside a query can stay pending for ever
(MagicStack/asyncpg#873); waiting for it then hangs the server's shutdown, which the test suite saw on
PostgreSQL. So loops check a shared signal between units of work and sleep on it; stop() sets the signal,
waits a grace period for the loops to finish what they are doing, and only then cancels stragglers,
without waiting on them for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)
GRACE_SECONDS = 10.0


class Stopping:
    """The signal a process's background loops watch."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self) -> None:
        self._event.set()

    async def sleep(self, seconds: float) -> bool:
        """Sleep, waking early on a stop request; True when the loop should end."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        return self._event.is_set()


async def stop_tasks(tasks: Iterable[asyncio.Task[object]], stopping: Stopping, grace: float = GRACE_SECONDS) -> None:
    """Ask the loops to end, give them `grace` seconds, then cancel what is left (and wait no longer)."""
    stopping.request()
    pending = {t for t in tasks if not t.done()}
    if not pending:
        return
    _, pending = await asyncio.wait(pending, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        _, stuck = await asyncio.wait(pending, timeout=grace)
        if stuck:
            log.warning("background tasks did not stop", extra={"tasks": len(stuck)})
