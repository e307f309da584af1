"""The "for the plan" workbook: opinions grouped by plan category and village, with counts and the issues
raised most, in the order the plan's project list (ผ. 02) is written, ready to paste. Counts and village
numbers are numbers, so they sum in the spreadsheet; opinions their authors withdrew are counted in a column
of their own, never in the count."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.db.models import Opinion
from bot.db.statuses import OpinionStatus
from bot.staff.exports import NUMBER, TEXT, Filters, Heading, neutralise, opinion_conditions
from bot.staff.insight import group_similar

ISSUES_PER_ROW = 5
# Near-duplicate grouping per category and village looks at this many opinions (the newest).
GROUPING_CAP = 2000

# (header, width in characters, kind of value)
HEADER = [
    ("หมวด (ยุทธศาสตร์)", 32, TEXT),
    ("หมู่ที่", 8, NUMBER),
    ("หมู่บ้าน", 18, TEXT),
    ("จำนวนความคิดเห็น", 12, NUMBER),
    ("ประเด็นที่เสนอมากที่สุด (จำนวน)", 60, TEXT),
    ("เลขที่อ้างอิง", 30, TEXT),
    ("ถอนแล้ว (ไม่นับรวม)", 12, NUMBER),
]


def _issues(texts: list[str]) -> str:
    groups = group_similar(texts[:GROUPING_CAP])[:ISSUES_PER_ROW]
    return "\n".join(f"{texts[g.members[0]][:150]} ({g.size})" for g in groups)


async def _withdrawn(session: AsyncSession, filters: Filters) -> dict[tuple[str, int | None], int]:
    """Withdrawn opinions per (category, village) under the same filters."""
    rows = await session.execute(
        select(Opinion.category, Opinion.village, func.count())
        .where(*opinion_conditions(filters), Opinion.status == OpinionStatus.WITHDRAWN)
        .group_by(Opinion.category, Opinion.village)
    )
    return {(category, village): int(count) for category, village, count in rows.all()}


async def plan_rows(session: AsyncSession, content: Content, filters: Filters) -> AsyncIterator[list[list[Any]]]:
    """Batches of rows: the header, then one row per category and village that has opinions (withdrawn ones
    included, counted apart)."""
    yield [[Heading(neutralise(text), width, kind) for text, width, kind in HEADER]]
    # A withdrawn opinion was taken back: its text is gone, and it is no one's wish any more.
    conditions = [*opinion_conditions(filters), Opinion.status != OpinionStatus.WITHDRAWN]
    withdrawn = await _withdrawn(session, filters)
    villages = {v.no: v.name for v in content.municipality.villages}
    for category in content.categories.values():
        texts: dict[int | None, list[str]] = defaultdict(list)
        references: dict[int | None, list[str]] = defaultdict(list)
        result = await session.stream(
            select(Opinion.village, Opinion.text, Opinion.reference)
            .where(*conditions, Opinion.category == category.id)
            .order_by(Opinion.id.desc())
            .execution_options(yield_per=2000)
        )
        async for village, text, reference in result:
            if len(texts[village]) < GROUPING_CAP:
                texts[village].append(text)
            references[village].append(reference)
        batch: list[list[Any]] = []
        taken_back = {village: n for (cat, village), n in withdrawn.items() if cat == category.id}
        for village in sorted({*texts, *taken_back}, key=lambda v: (v is None, v or 0)):
            issues = await asyncio.to_thread(_issues, texts[village]) if texts.get(village) else ""
            shown = references[village][:50]
            more = len(references[village]) - len(shown)
            batch.append(
                [
                    neutralise(category.label),
                    village if village is not None else "ไม่ระบุ",
                    neutralise(villages.get(village, "") if village is not None else ""),
                    len(references[village]),
                    neutralise(issues),
                    neutralise(", ".join(shown) + (f" และอีก {more}" if more else "")),
                    taken_back.get(village, 0),
                ]
            )
        if batch:
            yield batch
