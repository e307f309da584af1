"""Phrasings staff taught the matcher: questions the bot could not answer, attached to a service, or to one
FAQ entry of a service, in the workspace. They live in the database, so the bot learns them without a code
or content change; every process reloads them when they change (checked every few seconds, and at once in
the process that added them)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content
from bot.db.models import ServiceExample
from bot.delivery.background import Stopping
from bot.handlers.services.qa import QuestionAnswering

log = logging.getLogger(__name__)
REFRESH_SECONDS = 10.0


class FaqLike(Protocol):
    """What the inbox needs of an FAQ entry (bot/content/faq.py FaqEntry)."""

    @property
    def service_id(self) -> str: ...

    @property
    def question(self) -> str: ...


def faq_entries(content: Content) -> Mapping[str, FaqLike]:
    """content.faq ("<service_id>.<slug>" -> entry); none while content has no FAQ entries at all."""
    entries: Mapping[str, FaqLike] = getattr(content, "faq", None) or {}
    return entries


async def load(session: AsyncSession, faq_ids: Collection[str] = ()) -> dict[str, list[str]]:
    """Phrasings by what they teach: an FAQ entry's id when the phrasing was attached to one that content
    still has (faq_ids), otherwise its service's id (the entry may have been removed since)."""
    rows = await session.execute(
        select(ServiceExample.service_id, ServiceExample.faq_id, ServiceExample.text).order_by(ServiceExample.id)
    )
    examples: dict[str, list[str]] = defaultdict(list)
    for service_id, faq_id, text in rows:
        examples[faq_id if faq_id is not None and faq_id in faq_ids else service_id].append(text)
    return dict(examples)


def add(
    session: AsyncSession,
    service_id: str,
    texts: list[str],
    added_by: str,
    faq_id: str | None = None,
    *,
    at: dt.datetime,
) -> None:
    session.add_all(
        ServiceExample(service_id=service_id, faq_id=faq_id, text=t, added_by=added_by, added_at=at)
        for t in texts
        if t.strip()
    )


async def _version(session: AsyncSession) -> tuple[int, int]:
    row = (await session.execute(select(func.count(), func.coalesce(func.max(ServiceExample.id), 0)))).one()
    return int(row[0]), int(row[1])


class PhrasingRefresher:
    """Keeps a QuestionAnswering's matcher in step with the phrasings in the database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], qa: QuestionAnswering) -> None:
        self._sessions = sessions
        self._qa = qa
        self._seen: tuple[int, int] = (0, 0)

    async def refresh(self) -> bool:
        """Rebuild the matcher if the phrasings changed; True when it did."""
        async with self._sessions() as session:
            version = await _version(session)
            if version == self._seen:
                return False
            examples = await load(session, faq_entries(self._qa.content).keys())
        await self._qa.learn(examples)
        self._seen = version
        log.info("matcher reloaded", extra={"phrasings": version[0]})
        return True

    async def run_forever(self, stopping: Stopping) -> None:
        while not stopping.requested:
            try:
                await self.refresh()
            except Exception:
                log.exception("could not reload staff phrasings; trying again")
            if await stopping.sleep(REFRESH_SECONDS):
                return
