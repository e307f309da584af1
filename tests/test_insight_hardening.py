"""/staff/insight must not starve the bot (issue 14, item 8): the grouping runs in a worker process, once
per filters and data, its result cached until an opinion changes; long opinions are read by their start
(and the page says so); the grouping itself keeps its memory bounded on thousands of texts."""

from __future__ import annotations

import asyncio
import multiprocessing
import tracemalloc

from aiohttp.test_utils import TestClient, TestServer

from bot import keys
from bot.staff.insight import group_similar
from tests.conftest import Bot
from tests.staffing import add_opinions, add_staff, sign_in

LIGHTS = [
    ("ขอไฟส่องสว่างซอย 5 ด้วยครับ", "physical", 5),
    ("อยากได้ไฟส่องสว่างในซอย5ครับ", "physical", 5),
    ("ขอไฟส่องสว่างซอย 5 มืดมาก", "physical", 4),
    ("อยากให้มีตลาดนัดชุมชนทุกวันเสาร์", "economy", 3),
]


async def test_viewers_share_one_run_in_a_worker_process_cached_until_an_opinion_is_added(bot: Bot) -> None:
    await add_staff(bot, "somchai", "viewer")
    await add_staff(bot, "somsri", "viewer")
    await add_opinions(bot, LIGHTS)
    other = TestClient(TestServer(bot.app))  # a second viewer, with a session of their own
    other._server = bot.client.server  # type: ignore[attr-defined]
    other._session.cookie_jar.clear()  # type: ignore[attr-defined]
    await sign_in(bot.client, "somchai")
    await sign_in(other, "somsri")
    runner = bot.app[keys.STAFF_INSIGHT]
    first, second = await asyncio.gather(bot.client.get("/staff/insight"), other.get("/staff/insight"))
    pages = [await first.text(), await second.text()]
    assert first.status == second.status == 200
    assert all("<td><strong>3</strong></td>" in p and "ส่องสว่าง 3" in p for p in pages)
    assert runner.runs == 1  # two viewers at once: one grouping
    # It ran in a process of its own, not in the web process's interpreter.
    assert any(p.name.startswith("SpawnProcess") for p in multiprocessing.active_children())
    assert "<td><strong>3</strong></td>" in await (await bot.client.get("/staff/insight")).text()
    assert runner.runs == 1  # nothing changed: the cached result
    await add_opinions(bot, [("ไฟส่องสว่างซอย 5 ดับหลายดวง ขอไฟส่องสว่างด้วย", "physical", 5)])
    page = await (await bot.client.get("/staff/insight")).text()
    assert runner.runs == 2 and "จาก 5 ความคิดเห็น" in page
    await other._session.close()  # type: ignore[attr-defined]


async def test_long_opinions_are_grouped_by_their_start_and_the_page_says_so(bot: Bot) -> None:
    await add_staff(bot, "somchai", "viewer")
    start = "ขอให้เทศบาลซ่อมถนนสายหลักหมู่ 3 ที่เป็นหลุมเป็นบ่อ รถมอเตอร์ไซค์ล้มบ่อยมาก " * 2
    tails = ["ตลาดนัด", "ศูนย์เด็กเล็ก", "ประปา", "ขยะ"]
    await add_opinions(
        bot,
        [
            *((start + (tail + "เล่าเรื่องยาว ๆ ") * 300, "physical", 3) for tail in tails[:3]),
            ("อยากให้มีตลาดนัดชุมชนทุกวันเสาร์", "economy", 3),
        ],
    )
    await sign_in(bot.client, "somchai")
    page = await (await bot.client.get("/staff/insight")).text()
    assert "<td><strong>3</strong></td>" in page
    assert 'id="shortened"' in page and "จัดกลุ่มและนับคำจาก 300 ตัวอักษรแรกเท่านั้น" in page
    assert "(3 รายการ)" in page


def test_thousands_of_copies_group_in_bounded_memory() -> None:
    """A campaign: 3,000 copies of one message among 3,000 different ones. The old grouping built the full
    similarity matrix three times over (6,000 x 6,000) and walked every similar pair in Python."""
    texts = [f"ขอให้ซ่อมถนนหน้าวัดหมู่ {i % 12} สายที่ {i} เพราะเป็นหลุมลึก" for i in range(3000)]
    texts += ["ขอไฟส่องสว่างซอย 5 ด้วยครับ มืดมาก"] * 3000
    tracemalloc.start()
    try:
        groups = group_similar(texts)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [copies] = [g for g in groups if 3000 in g.members]
    assert set(range(3000, 6000)) <= set(copies.members)
    assert peak < 100 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"
