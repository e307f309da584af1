"""The unanswered-questions inbox attaches a group to one FAQ entry of a service (content/faq/), not only to
the service: the phrasings are stored with the entry's id and handed to the reader keyed by it at once."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, fields
from typing import Any

import pytest
from sqlalchemy import select

from bot import keys
from bot.content import Content, load_content
from bot.db.models import AuditEntry, ServiceExample, ServiceQuery, utcnow
from bot.handlers.services import phrasings
from bot.nlp.retrieve import Match
from bot.nlp.understand import Reading, Understanding
from tests.conftest import Bot
from tests.serving import CHROMIUM, CHROMIUM_ARGS, ROOT
from tests.staffing import add_questions, add_staff, csrf_token, sign_in

SERVICE = "elderly_allowance"
ASKED = ["ย้ายไปอยู่กับลูกที่อุดร เบี้ยคนเฒ่ายังได้อยู่บ่", "ย้ายไปอยู่กับลูกที่อุดร เบี้ยคนเฒ่ายังได้อยู่บ่ครับ"]


@dataclass(frozen=True)
class Faq:
    """An FAQ entry as the inbox relies on it (bot/content/faq.py FaqEntry: id "<service_id>.<slug>")."""

    service_id: str
    question: str


FAQ_ID = f"{SERVICE}.moved_house"
ENTRIES = {
    FAQ_ID: Faq(SERVICE, "ย้ายบ้านแล้วเบี้ยผู้สูงอายุยังได้ไหม"),
    f"{SERVICE}.payday": Faq(SERVICE, "เบี้ยผู้สูงอายุเข้าบัญชีไหน วันไหน"),
}


@pytest.fixture(autouse=True)
def faq(monkeypatch: pytest.MonkeyPatch) -> None:
    """These FAQ entries, whatever content/faq/ holds today."""
    monkeypatch.setattr(phrasings, "faq_entries", lambda content: ENTRIES)


def _entry(bot: Bot) -> tuple[str, str]:
    return FAQ_ID, ENTRIES[FAQ_ID].question


def _reads_as_the_entry(bot: Bot, monkeypatch: pytest.MonkeyPatch, faq_id: str | None) -> None:
    """The reader answers the asked texts with this FAQ entry (or only with its service): what the page
    shows must not hang on today's scores."""
    qa = bot.app[keys.QA]
    real = qa.read

    def read(text: str, context_service: str | None = None) -> Reading:
        if text not in ASKED:
            return real(text, context_service)
        return Reading(
            text=text,
            intent="out_of_scope",
            score=0.2,
            candidates=(Match(SERVICE, 0.2), Match("disability_allowance", 0.1)),
            faq_id=faq_id,
        )

    monkeypatch.setattr(qa, "read", read)


async def _ids(bot: Bot) -> list[int]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(ServiceQuery.id).where(ServiceQuery.text.in_(ASKED))))


async def test_a_group_attached_to_an_faq_entry_teaches_the_reader_that_entry(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    faq_id, question = _entry(bot)
    await add_staff(bot, "somchai", "exporter")
    await add_questions(bot, ASKED)
    _reads_as_the_entry(bot, monkeypatch, faq_id)
    taught: list[dict[str, list[str]]] = []

    def spy(content: Any, extra_examples: dict[str, list[str]] | None = None, *args: Any, **kw: Any) -> Any:
        taught.append(dict(extra_examples or {}))
        return Understanding(content, extra_examples, *args, **kw)

    monkeypatch.setattr("bot.handlers.services.qa.Understanding", spy)
    await sign_in(bot.client, "somchai")
    page = await (await bot.client.get("/staff/questions")).text()
    # The entry's question, in Thai, where staff read the group and in the choice, chosen already.
    assert f"คำถามที่พบบ่อยที่ใกล้ที่สุด: {question}" in page
    assert re.search(rf'<option value="faq:{re.escape(faq_id)}" selected>{re.escape(question)}</option>', page)
    before = bot.app[keys.QA].understanding
    token = await csrf_token(bot.client, "/staff/questions")
    ids = ",".join(map(str, await _ids(bot)))
    done = await bot.client.post(
        "/staff/questions",
        data={"csrf": token, "action": "attach", "target": f"faq:{faq_id}", "ids": ids},
        allow_redirects=False,
    )
    assert done.status == 303
    assert taught and taught[-1] == {faq_id: ASKED}  # keyed by the entry, not its service
    assert bot.app[keys.QA].understanding is not before  # learned without a restart
    async with bot.sessions() as session:
        rows = (await session.execute(select(ServiceExample.service_id, ServiceExample.faq_id))).all()
        audit = await session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "question_triage"))
    assert set(rows) == {(SERVICE, faq_id)}
    assert audit is not None and json.loads(audit)["faq"] == faq_id


async def test_the_whole_service_stays_the_choice_when_no_entry_fits(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    faq_id, question = _entry(bot)
    await add_staff(bot, "somchai", "exporter")
    await add_questions(bot, ASKED)
    _reads_as_the_entry(bot, monkeypatch, None)
    await sign_in(bot.client, "somchai")
    page = await (await bot.client.get("/staff/questions")).text()
    assert "คำถามที่พบบ่อยที่ใกล้ที่สุด" not in page
    assert f'<option value="faq:{faq_id}">{question}</option>' in page  # offered, not chosen
    assert f'<option value="service:{SERVICE}" selected>' in page
    token = await csrf_token(bot.client, "/staff/questions")
    ids = ",".join(map(str, await _ids(bot)))
    await bot.client.post(
        "/staff/questions", data={"csrf": token, "action": "attach", "target": f"service:{SERVICE}", "ids": ids}
    )
    async with bot.sessions() as session:
        assert set((await session.execute(select(ServiceExample.service_id, ServiceExample.faq_id))).all()) == {
            (SERVICE, None)
        }


async def test_an_unknown_faq_entry_or_service_is_refused(bot: Bot) -> None:
    await add_staff(bot, "somchai", "exporter")
    await add_questions(bot, ASKED)
    await sign_in(bot.client, "somchai")
    token = await csrf_token(bot.client, "/staff/questions")
    ids = ",".join(map(str, await _ids(bot)))
    for target in (f"faq:{SERVICE}.no_such_entry", "service:no_such_service", SERVICE):
        refused = await bot.client.post(
            "/staff/questions", data={"csrf": token, "action": "attach", "target": target, "ids": ids}
        )
        assert refused.status == 400, target
        assert "ไม่มี" in await refused.text()
    async with bot.sessions() as session:
        assert not list(await session.scalars(select(ServiceExample.id)))
        assert set(await session.scalars(select(ServiceQuery.triage))) == {None}


async def test_a_phrasing_of_an_entry_content_no_longer_has_teaches_its_service(bot: Bot) -> None:
    faq_id, _question = _entry(bot)
    async with bot.sessions() as session, session.begin():
        phrasings.add(session, SERVICE, ["เบี้ยคนเฒ่าย้ายบ้าน"], "somchai", faq_id, at=utcnow())
        phrasings.add(session, SERVICE, ["เบี้ยคนเฒ่าถูกตัด"], "somchai", f"{SERVICE}.removed_since", at=utcnow())
    async with bot.sessions() as session:
        loaded = await phrasings.load(session, {faq_id})
    assert loaded == {faq_id: ["เบี้ยคนเฒ่าย้ายบ้าน"], SERVICE: ["เบี้ยคนเฒ่าถูกตัด"]}


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is installed by scripts/test")
async def test_the_inbox_with_faq_questions_fits_a_390_px_phone(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page as served, laid out by chromium 390 px wide: the long FAQ questions in the choice stay
    inside the screen (a select is as wide as its longest option unless told otherwise)."""
    from playwright.async_api import async_playwright

    faq_id, _question = _entry(bot)
    await add_staff(bot, "somchai", "exporter")
    await add_questions(bot, ASKED)
    _reads_as_the_entry(bot, monkeypatch, faq_id)
    await sign_in(bot.client, "somchai")
    html = await (await bot.client.get("/staff/questions")).text()
    css = await (await bot.client.get("/staff/static/staff.css")).text()
    html = html.replace('<link rel="stylesheet" href="/staff/static/staff.css">', f"<style>{css}</style>")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.set_content(html)
            widest = await page.evaluate(
                "Math.max(document.documentElement.scrollWidth, ...[...document.querySelectorAll("
                "'select, .question-group')].map(e => e.getBoundingClientRect().right))"
            )
        finally:
            await browser.close()
    assert widest <= 390


def test_the_entries_are_contents_faq(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real faq_entries
    if "faq" not in {f.name for f in fields(Content)}:
        pytest.skip("Content.faq (bot/content/faq.py) is not in this checkout yet")
    content = load_content(ROOT / "content")
    assert phrasings.faq_entries(content) is content.faq  # type: ignore[attr-defined,unused-ignore]
