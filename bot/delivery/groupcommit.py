"""Group commit: many callers, one transaction for whatever they handed over meanwhile.

Each caller hands over its items and waits for the commit that holds them, so when it resumes its items are
durable (or it gets the exception the commit raised). Whatever arrives while one commit runs goes into the
next. Used where many small writes would each cost a round trip and an fsync: storing webhook events, and
marking outbox rows 'sending' just before their requests leave.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """Runs `commit` on the items handed over meanwhile; every caller of a commit gets its result."""

    def __init__(
        self,
        commit: Callable[[list[Item]], Awaitable[Result]],
        max_size: int,
        size: Callable[[Item], int] = lambda _item: 1,
    ) -> None:
        self._commit = commit
        self._max_size = max_size
        self._size = size
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Wait until `item` is committed; return that commit's result (or raise what it raised)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await future

    async def close(self) -> None:
        """Let the commit under way finish (its callers may have gone)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer

    def _next_group(self) -> list[tuple[Item, asyncio.Future[Result]]]:
        # At least one item, then as many as fit, so one commit stays short.
        group = [self._waiting.pop(0)]
        total = self._size(group[0][0])
        while self._waiting and total + self._size(self._waiting[0][0]) <= self._max_size:
            item = self._waiting.pop(0)
            group.append(item)
            total += self._size(item[0])
        return group

    async def _write(self) -> None:
        while self._waiting:
            group = self._next_group()
            try:
                result = await self._commit([item for item, _ in group])
            except BaseException as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for _, future in group:
                if not future.done():
                    future.set_result(result)
