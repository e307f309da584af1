"""The unanswered-questions inbox shows each question's context (issue 16 item 11): a follow-up such as
"กี่วัน" is listed with the service it followed, and a question close to no service ("555555") suggests none
instead of the first service of the list."""

from __future__ import annotations

import re

from sqlalchemy import update

from bot import keys
from bot.db.models import ServiceQuery
from tests.conftest import Bot
from tests.staffing import add_questions, add_staff, sign_in


async def _inbox(bot: Bot) -> str:
    await add_staff(bot, "somsri", "exporter")
    await sign_in(bot.client, "somsri")
    response = await bot.client.get("/staff/questions")
    assert response.status == 200
    return await response.text()


def _group(page: str, text: str) -> str:
    """The section of the page that lists text."""
    for section in page.split('<section class="card stack question-group">')[1:]:
        if f"<li>{text}" in section:
            return section
    raise AssertionError(f"no group lists {text!r}")


async def test_a_follow_up_is_listed_with_the_service_it_followed(bot: Bot) -> None:
    await add_questions(bot, ["ค่าธรรมเนียมเท่าไหร่คะ"])
    async with bot.sessions() as session, session.begin():
        # 👎 on the follow-up's answer: it reaches the inbox although it was answered.
        await session.execute(
            update(ServiceQuery).values(
                intent="service", service_id="building_permit", follow_up=True, answered=True, feedback="down"
            )
        )
    group = _group(await _inbox(bot), "ค่าธรรมเนียมเท่าไหร่คะ")
    name = bot.app[keys.CONTENT].services["building_permit"].name
    assert f"(ถามต่อจาก: {name})" in group
    # The followed service is the one offered first to attach the question to.
    selected = re.search(r'<option value="service:([a-z_]+)" selected>', group)
    assert selected is not None and selected.group(1) == "building_permit"


async def test_no_service_is_suggested_for_a_question_close_to_none(bot: Bot) -> None:
    await add_questions(bot, ["555555"])
    group = _group(await _inbox(bot), "555555")
    assert "ไม่มีบริการที่ใกล้พอ" in group
    assert re.search(r'<option value="service:[^"]+" selected>', group) is None
    assert re.search(r'<option value="faq:[^"]+" selected>', group) is None
    assert '<option value="" selected>' in group  # the select asks for a choice (and is required)
    assert "ถามต่อจาก" not in group


async def test_a_question_close_to_a_service_keeps_its_suggestion(bot: Bot) -> None:
    await add_questions(bot, ["ขอใบอนุญาตก่อสร้างบ้านต้องทำยังไง"])
    group = _group(await _inbox(bot), "ขอใบอนุญาตก่อสร้างบ้านต้องทำยังไง")
    assert "ไม่มีบริการที่ใกล้พอ" not in group and '<option value="" selected>' not in group


async def test_a_question_merely_asked_after_a_service_is_not_its_follow_up(bot: Bot) -> None:
    """The audit's case: a fresh question answered as building_permit (follow_up false) right after an ID-card
    answer is no follow-up of the ID card; the suggestion is the reader's own match, with its real score."""
    text = "ขอใบอนุญาตสร้างบ้านต้องทำยังไง"
    await add_questions(bot, [text])
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(ServiceQuery).values(
                intent="service",
                service_id="building_permit",
                score=0.8,
                follow_up=False,
                context_service_id="id_card",
                answered=True,
                feedback="down",
            )
        )
    group = _group(await _inbox(bot), text)
    services = bot.app[keys.CONTENT].services
    assert "ถามต่อจาก" not in group
    assert services["id_card"].name not in group.split("<select")[0]
    assert "(1.00)" not in group
    closest = re.search(r'<span class="closest-service">([^<]*)</span>', group)
    assert closest is not None and closest.group(1).startswith(services["building_permit"].name), closest
    selected = re.search(r'<option value="service:([a-z_]+)" selected>', group)
    assert selected is not None and selected.group(1) == "building_permit"


async def test_the_previous_service_is_not_suggested_for_a_question_close_to_none(bot: Bot) -> None:
    await add_questions(bot, ["555555"], context_service_id="id_card")
    group = _group(await _inbox(bot), "555555")
    assert "ไม่มีบริการที่ใกล้พอ" in group and "ถามต่อจาก" not in group
    assert re.search(r'<option value="service:[^"]+" selected>', group) is None
