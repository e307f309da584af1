"""What matters most: near-duplicate opinions grouped with their counts and villages, and the top words of
each plan category, for the filters chosen (a village, a consultation, a period)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select

from bot import keys
from bot.db.models import Opinion
from bot.staff.exports import Filters, opinion_conditions
from bot.staff.insight import Keywords, group_similar
from bot.staff.pages.filtering import filters_from
from bot.staff.web import render, requires

# Grouping compares every opinion with every group: the newest this many are enough for a committee meeting.
MAX_OPINIONS = 3000
TOP_GROUPS = 30


@dataclass(frozen=True)
class OpinionGroup:
    text: str  # the first opinion of the group stands for it
    references: tuple[str, ...]
    villages: tuple[tuple[int | None, int], ...]  # (village, count), most first
    category: str

    @property
    def size(self) -> int:
        return len(self.references)


@dataclass(frozen=True)
class Insight:
    groups: list[OpinionGroup]
    keywords: dict[str, list[tuple[str, int]]]  # category id -> (word, in how many opinions)
    considered: int
    truncated: bool


def summarise(rows: list[tuple[str, str, str, int | None]], keywords: Keywords) -> Insight:
    """rows: (reference, text, category, village). Pure and CPU-bound: run it in a thread."""
    groups = []
    for group in group_similar([text for _, text, _, _ in rows]):
        members = [rows[i] for i in group.members]
        villages = Counter(village for _, _, _, village in members).most_common()
        category = Counter(category for _, _, category, _ in members).most_common(1)[0][0]
        groups.append(OpinionGroup(members[0][1], tuple(m[0] for m in members), tuple(villages), category))
    by_category: dict[str, list[str]] = {}
    for _, text, category, _ in rows:
        by_category.setdefault(category, []).append(text)
    return Insight(
        groups=groups,
        keywords={category: keywords.top(texts) for category, texts in by_category.items()},
        considered=len(rows),
        truncated=len(rows) >= MAX_OPINIONS,
    )


async def load_insight(request: web.Request, filters: Filters) -> Insight:
    conditions = [*opinion_conditions(filters), Opinion.status != "withdrawn"]
    async with request.app[keys.SESSIONS]() as db:
        rows = (
            await db.execute(
                select(Opinion.reference, Opinion.text, Opinion.category, Opinion.village)
                .where(*conditions)
                .order_by(Opinion.id.desc())
                .limit(MAX_OPINIONS)
            )
        ).all()
    return await asyncio.to_thread(
        summarise, [(r[0], r[1], r[2], r[3]) for r in rows], request.app[keys.STAFF_KEYWORDS]
    )


@requires("view")
async def page(request: web.Request) -> web.Response:
    """Groups of near-duplicate opinions and the top words per category."""
    filters, problems = filters_from(request)
    insight = await load_insight(request, filters)
    content = request.app[keys.CONTENT]
    return render(
        request,
        "insight.html",
        insight=insight,
        groups=[g for g in insight.groups if g.size > 1][:TOP_GROUPS],
        singles=sum(1 for g in insight.groups if g.size == 1),
        query=request.query,
        problems=problems,
        categories=content.categories,
        consultations=content.consultations,
        villages=content.municipality.villages,
        statuses={},
    )


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(f"{prefix}/insight", page)
