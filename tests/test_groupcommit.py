"""Group commit: what arrives while one commit runs goes into the next, within the size limit."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.groupcommit import GroupCommit


async def test_callers_arriving_during_a_commit_share_the_next_one() -> None:
    commits: list[list[int]] = []
    first_started = asyncio.Event()
    release_first = asyncio.Event()

    async def commit(items: list[int]) -> int:
        commits.append(items)
        if len(commits) == 1:
            first_started.set()
            await release_first.wait()
        return len(commits)

    group: GroupCommit[int, int] = GroupCommit(commit, max_size=3)
    first = asyncio.create_task(group.submit(0))
    await first_started.wait()
    later = [asyncio.create_task(group.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0)
    release_first.set()
    results = await asyncio.gather(first, *later)
    assert commits == [[0], [1, 2, 3], [4, 5]]
    assert results == [1, 2, 2, 2, 3, 3]


async def test_an_item_larger_than_the_limit_is_committed_alone() -> None:
    commits: list[list[list[int]]] = []

    async def commit(items: list[list[int]]) -> None:
        commits.append(items)

    group: GroupCommit[list[int], None] = GroupCommit(commit, max_size=4, size=len)
    await asyncio.gather(group.submit([1] * 6), group.submit([2, 2]), group.submit([3, 3]))
    assert [[len(item) for item in c] for c in commits] == [[6], [2, 2]]


async def test_every_caller_of_a_failed_commit_gets_its_error_and_the_next_commit_still_runs() -> None:
    async def commit(items: list[str]) -> set[str]:
        if "bad" in items:
            raise ConnectionError("database unreachable")
        return set(items)

    group: GroupCommit[str, set[str]] = GroupCommit(commit, max_size=10)
    outcomes = await asyncio.gather(group.submit("a"), group.submit("bad"), return_exceptions=True)
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    assert await group.submit("c") == {"c"}
    with pytest.raises(ConnectionError):
        await group.submit("bad")
