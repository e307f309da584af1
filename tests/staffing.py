"""Helpers for tests of the staff workspace: accounts, signing in over HTTP, and residents' submissions
written straight to the database (the chat flows that create them have their own tests)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.db.models import Opinion, Report, Resident, ServiceQuery
from bot.handlers.residents.rules import pseudonym_for
from bot.references import format_reference
from bot.staff.accounts import add_user
from tests.conftest import Bot, new_user_id

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def add_staff(bot: Bot, username: str, role: str, password: str = PASSWORD) -> None:
    async with bot.sessions() as session, session.begin():
        await add_user(session, username, role, password)


async def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> ClientResponse:
    return await client.post(
        "/staff/login", data={"username": username, "password": password, "next": "/staff"}, allow_redirects=False
    )


async def csrf_token(client: TestClient, path: str = "/staff") -> str:
    page = await (await client.get(path)).text()
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def add_resident(bot: Bot, user_id: str | None = None, **values: object) -> Resident:
    user_id = user_id or new_user_id()
    values = {"followed": True, **values}
    resident = Resident(line_user_id=user_id, pseudonym=pseudonym_for("k" * 32, user_id), **values)
    async with bot.sessions() as session, session.begin():
        session.add(resident)
    return resident


async def add_opinions(
    bot: Bot, texts: Iterable[tuple[str, str, int | None]], resident: Resident | None = None, **values: object
) -> list[str]:
    """Opinions (text, category, village) from one resident; their references, in order."""
    resident = resident or await add_resident(bot)
    references = []
    async with bot.sessions() as session, session.begin():
        start = int(await session.scalar(select(func.count()).select_from(Opinion)) or 0)
        for i, (text, category, village) in enumerate(texts, start=start + 1):
            reference = format_reference("opinion", 2569, i)
            session.add(
                Opinion(
                    reference=reference,
                    resident_id=resident.id,
                    consultation_id="local_plan_2571_2575",
                    village=village,
                    category=category,
                    category_suggested=category,
                    text=text,
                    **values,
                )
            )
            references.append(reference)
    return references


async def add_report(bot: Bot, resident: Resident, reference: str, text: str, **values: object) -> None:
    async with bot.sessions() as session, session.begin():
        session.add(
            Report(
                reference=reference,
                resident_id=resident.id,
                type="road",
                division="engineering",
                village=3,
                text=text,
                **values,
            )
        )


async def add_questions(bot: Bot, texts: Iterable[str], answered: bool = False, **values: object) -> None:
    now = dt.datetime.now(dt.UTC)
    async with bot.sessions() as session, session.begin():
        for text in texts:
            session.add(
                ServiceQuery(
                    text=text,
                    intent="out_of_scope" if not answered else "service",
                    score=0.1,
                    answered=answered,
                    **{"created_at": now, **values},
                )
            )
