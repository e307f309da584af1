"""Residents' messages read in a child process at a lower CPU priority (the server's default; tests and the
command line read in a thread instead: QuestionAnswering.read_for_chat).

Reading one message costs 15-80 ms of CPU when the semantic model is consulted (bot/nlp/semantic.py), and
most of it holds Python's GIL (tokenizing, matching). Read in a thread of the server, that CPU competes with
the event loop that acknowledges LINE's webhooks: under a burst, acknowledgements fell to a quarter of what
the same server did with the old, cheap reader. A child process has its own GIL, and its higher niceness lets
the operating system run the acknowledgements (and the database) first whenever both want a core; the
child reads at full speed whenever the intake is quiet (docs/decisions/reader-process.md).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from bot.content import Content
from bot.nlp.understand import Reading, Understanding

log = logging.getLogger(__name__)

Examples = dict[str, list[str]]
PR_SET_PDEATHSIG = 1  # prctl(2)


class ProcessReader:
    """Reads in child processes, each started with the server's content and the phrasings known then.

    Each child is a fresh interpreter (spawned, not forked: the server has threads and open connections) and
    builds its matcher itself, once, from the content the server loaded (pickled, about 340 KB): never from
    the directory, which may hold a newer deploy's content than the server is answering with. A message
    goes to the child with the fewest messages waiting; new phrasings go to every child. A child that dies
    (killed for memory) is started again with the phrasings it last learned, and the message is read again
    there.
    """

    def __init__(self, content: Content, examples: Examples, niceness: int, processes: int = 1) -> None:
        self._content = content
        self._examples = examples
        self._niceness = niceness
        self._pools = [self._start() for _ in range(processes)]
        self._waiting = [0] * processes

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_start,
            initargs=(self._content, self._examples, self._niceness),
        )

    async def warm_up(self) -> None:
        """Start the children and build their matchers now, so the first resident does not wait for them."""
        await asyncio.gather(*(self._run(i, _child_read, "", None) for i in range(len(self._pools))))

    async def read(self, text: str, context_service: str | None = None) -> Reading:
        least_busy = min(range(len(self._pools)), key=self._waiting.__getitem__)
        reading: Reading = await self._run(least_busy, _child_read, text, context_service)
        return reading

    async def learn(self, examples: Examples) -> None:
        # One matcher per child: messages submitted to it after this are read with the new phrasings.
        self._examples = examples
        await asyncio.gather(*(self._run(i, _child_learn, examples) for i in range(len(self._pools))))

    async def close(self) -> None:
        for pool in self._pools:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    async def _run(self, child: int, function: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        self._waiting[child] += 1
        pool = self._pools[child]
        try:
            try:
                return await loop.run_in_executor(pool, function, *args)
            except BrokenProcessPool:
                # Every message waiting on the dead child lands here; the first one starts its successor.
                if self._pools[child] is pool:
                    log.error("a reader process died; starting it again", extra={"child": child})
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pools[child] = self._start()
                return await loop.run_in_executor(self._pools[child], function, *args)
        finally:
            self._waiting[child] -= 1


# -- in the child process ---------------------------------------------------------------------------------

_content: Content | None = None
_understanding: Understanding | None = None


def _child_start(content: Content, examples: Examples, niceness: int) -> None:
    global _content, _understanding
    # Ctrl-C and a service manager's SIGTERM reach the whole process group: the server stops its readers
    # itself, after its last batch, so the children leave those signals to it. And they die with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent()
    if niceness:
        os.nice(niceness)
    _content = content
    _understanding = Understanding(_content, examples)


def _die_with_parent() -> None:
    """Linux: the kernel kills this child when the server dies, however it dies (no orphaned readers)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # elsewhere the child exits when its pipe to the server closes


def _child_read(text: str, context_service: str | None) -> Reading:
    assert _understanding is not None, "the reader process reads only after _child_start"
    return _understanding.read(text, context_service)


def _child_learn(examples: Examples) -> None:
    global _understanding
    assert _content is not None, "the reader process learns only after _child_start"
    _understanding = Understanding(_content, examples)
