"""A pacer for what anonymous clients can ask for at will (sign-ins, metrics scrapes): one request at a time,
at most a given number a second, the rest waiting their turn idle. A waiting request costs the server a
connection and no CPU, so a flood that keeps hundreds of requests in flight is answered at this pace instead
of taking the event loop from LINE's webhook; past a bound on those waiting, requests are refused at once."""

from __future__ import annotations

import asyncio
import time


class Busy(Exception):
    """More requests are waiting than the pacer keeps in line."""


class Pacer:
    """`async with pacer:` one at a time, at most `rate` a second, `waiting` more in line; else Busy."""

    def __init__(self, rate: float, waiting: int) -> None:
        self._gap = 1.0 / rate
        self._waiting = waiting
        self._queued = 0
        self._lock = asyncio.Lock()
        self._next = 0.0

    async def __aenter__(self) -> None:
        if self._queued >= self._waiting:
            raise Busy
        self._queued += 1
        try:
            await self._lock.acquire()
        finally:
            self._queued -= 1
        try:
            await asyncio.sleep(max(0.0, self._next - time.monotonic()))
        except BaseException:
            self._lock.release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._next = time.monotonic() + self._gap
        self._lock.release()
