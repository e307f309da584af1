"""What matters most: near-duplicate opinions grouped with their counts and villages, and the top words of
each plan category, for the filters chosen (a village, a consultation, a period).

The grouping runs in InsightRunner's worker process, on the newest MAX_OPINIONS opinions, each read up to its
first MAX_CHARS characters; a result is kept until an opinion is added, withdrawn or changed, or for five
minutes (docs/decisions/insight-limits.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import func, select

from bot import keys
from bot.db.models import Opinion, OpinionChange
from bot.db.statuses import OpinionStatus
from bot.staff.exports import Filters, opinion_conditions
from bot.staff.insight import MAX_CHARS, Insight, InsightRunner, OpinionGroup, Row
from bot.staff.pages.filtering import filters_from
from bot.staff.shell import render, requires

MAX_OPINIONS = 10_000
_ROWS_PER_READ = 1_000
TOP_GROUPS = 30

__all__ = ["MAX_OPINIONS", "Insight", "OpinionGroup", "insight_runner", "load_insight"]


async def insight_runner(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the runner (its worker process starts on the first visit to the page)."""
    content = app[keys.CONTENT]
    # The same domain words as bot.nlp.tokenize.for_content, so the worker splits words as the web process.
    words = (word for service in content.services.values() for word in (service.name, *service.aliases))
    app[keys.STAFF_INSIGHT] = runner = InsightRunner(words)
    yield
    await runner.close()


async def load_insight(request: web.Request, filters: Filters) -> Insight:
    conditions = [*opinion_conditions(filters), Opinion.status != OpinionStatus.WITHDRAWN]
    sessions = request.app[keys.SESSIONS]
    async with sessions() as db:
        # What the result depends on besides the filters: a new, withdrawn or changed opinion makes a new key.
        count, newest = (await db.execute(select(func.count(), func.max(Opinion.id)).where(*conditions))).one()
        changed = await db.scalar(select(func.max(OpinionChange.id)))

    async def rows() -> tuple[list[Row], bool]:
        found: list[Row] = []
        before: int | None = None
        # A page of rows per statement, newest first: on SQLite the webhook's intake shares the one connection,
        # and reading all 10,000 in one statement held it for a few hundred milliseconds.
        while len(found) < MAX_OPINIONS:
            async with sessions() as db:
                result = await db.execute(
                    # Only what the grouping reads crosses from the database: the first MAX_CHARS characters.
                    select(
                        Opinion.id,
                        Opinion.reference,
                        func.substr(Opinion.text, 1, MAX_CHARS),
                        Opinion.category,
                        Opinion.village,
                        func.length(Opinion.text) > MAX_CHARS,
                    )
                    .where(*conditions, *([Opinion.id < before] if before is not None else []))
                    .order_by(Opinion.id.desc())
                    .limit(min(_ROWS_PER_READ, MAX_OPINIONS - len(found)))
                )
                page = result.all()
            found.extend((r[1], r[2], r[3], r[4], bool(r[5])) for r in page)
            if len(page) < _ROWS_PER_READ:
                break
            before = page[-1][0]
        return found, count > MAX_OPINIONS

    return await request.app[keys.STAFF_INSIGHT].get((filters, count, newest, changed), rows)


async def count_withdrawn(request: web.Request, filters: Filters) -> int:
    """Withdrawn opinions the filters would take in: in no group and no count, but said apart (as the list does),
    so a figure that fell since yesterday is explained."""
    async with request.app[keys.SESSIONS]() as db:
        taken_back = [*opinion_conditions(replace(filters, status=None)), Opinion.status == OpinionStatus.WITHDRAWN]
        return int(await db.scalar(select(func.count()).select_from(Opinion).where(*taken_back)) or 0)


@requires("view")
async def page(request: web.Request) -> web.Response:
    """Groups of near-duplicate opinions and the top words per category."""
    filters, problems = filters_from(request)
    insight = await load_insight(request, filters)
    withdrawn = await count_withdrawn(request, filters)
    content = request.app[keys.CONTENT]
    context: dict[str, Any] = {"max_opinions": MAX_OPINIONS, "max_chars": MAX_CHARS}
    return render(
        request,
        "insight.html",
        insight=insight,
        groups=insight.groups[:TOP_GROUPS],
        singles=insight.singles,
        withdrawn=withdrawn,
        withdrawn_link=_withdrawn_link(request),
        query=request.query,
        problems=problems,
        categories=content.categories,
        consultations=content.consultations,
        villages=content.municipality.villages,
        statuses={},
        **context,
    )


def _withdrawn_link(request: web.Request) -> str:
    """The opinions list of the withdrawn ones, under the same filters as this page."""
    kept = [(k, v) for k, v in request.query.items() if k not in ("status", "page") and v]
    return "/staff/opinions?" + urlencode([*kept, ("status", OpinionStatus.WITHDRAWN)])
