"""The "for the plan" workbook: opinions grouped by plan category and village, with counts and the issues
raised most, in the order the plan's project list (ผ. 02) is written, ready to paste."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.db.models import Opinion
from bot.staff.exports import Filters, neutralise, opinion_conditions
from bot.staff.insight import group_similar

ISSUES_PER_ROW = 5
# Near-duplicate grouping per category and village looks at this many opinions (the newest).
GROUPING_CAP = 2000

HEADER = ["หมวด (ยุทธศาสตร์)", "หมู่ที่", "หมู่บ้าน", "จำนวนความคิดเห็น", "ประเด็นที่เสนอมากที่สุด (จำนวน)", "เลขที่อ้างอิง"]


def _issues(texts: list[str]) -> str:
    groups = group_similar(texts[:GROUPING_CAP])[:ISSUES_PER_ROW]
    return "\n".join(f"{texts[g.members[0]][:150]} ({g.size})" for g in groups)


async def plan_rows(session: AsyncSession, content: Content, filters: Filters) -> AsyncIterator[list[list[str]]]:
    """Batches of rows: the header, then one row per category and village that has opinions."""
    yield [[neutralise(h) for h in HEADER]]
    conditions = [*opinion_conditions(filters), Opinion.status != "withdrawn"]
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
        batch = []
        for village in sorted(texts, key=lambda v: (v is None, v or 0)):
            issues = await asyncio.to_thread(_issues, texts[village])
            shown = references[village][:50]
            more = len(references[village]) - len(shown)
            batch.append(
                [
                    neutralise(category.label),
                    neutralise(str(village) if village is not None else "ไม่ระบุ"),
                    neutralise(villages.get(village, "") if village is not None else ""),
                    str(len(references[village])),
                    neutralise(issues),
                    neutralise(", ".join(shown) + (f" และอีก {more}" if more else "")),
                ]
            )
        if batch:
            yield batch
