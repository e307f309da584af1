"""A chip's label typed does what the tap does: LINE for PC and Mac shows no quick replies, so a resident there
can only type what the chips say."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot import keys
from bot.content import load_content
from bot.db.models import ConversationState
from bot.nlp.intents import Intent
from bot.nlp.understand import Understanding
from tests.conftest import ROOT, Bot, new_user_id


def _content() -> Any:
    return load_content(ROOT / "content")


@pytest.fixture(scope="module")
def reader() -> Understanding:
    return Understanding(_content(), use_embeddings=False)


def test_every_service_chip_typed_answers_with_its_service(reader: Understanding) -> None:
    content = _content()
    for service in content.services.values():
        for typed in (service.label, service.name, f" {service.label} "):
            reading = reader.read(typed)
            assert (reading.intent, reading.service_id, reading.chip) == (Intent.SERVICE, service.id, True), typed


def test_menu_chips_typed_are_read_as_their_tap(reader: Understanding) -> None:
    content = _content()
    with_action = [q for q in content.quick_replies.values() if q.postback]
    assert with_action, "the menu chips are in content/responses.yaml quick_replies"
    for option in with_action:
        reading = reader.read(option.label)
        # A command word ("ติดต่อเทศบาล" in content/commands.yaml) is read before the chips: same tap either way.
        assert reading.intent not in (Intent.OUT_OF_SCOPE, Intent.CLARIFY, Intent.SERVICE), option
    # A problem told in words still starts the report with its type; the menu label alone asks the type.
    assert reader.read(content.quick_replies["report"].label).report_type is None
    assert reader.read("ติดตามเรื่อง").intent == Intent.MY_CASES


def _texts(messages: list[dict[str, Any]]) -> list[tuple[str, Any, list[str]]]:
    """What a resident sees: each message's type, its text (or alt text), and its chips' labels."""
    return [
        (
            m["type"],
            m.get("text") or m.get("altText"),
            [i["action"]["label"] for i in m.get("quickReply", {}).get("items", [])],
        )
        for m in messages
    ]


async def _replies(bot: Bot, event_for: Any) -> list[tuple[str, Any, list[str]]]:
    user = new_user_id()
    await bot.post(event_for(user))
    await bot.idle()
    return _texts(bot.fake.messages_to(user))


@pytest.mark.parametrize("chip_id", ["services", "opinion", "report", "hearings", "mydata", "cases", "contact"])
async def test_typing_a_menu_chip_replies_as_tapping_it(bot: Bot, chip_id: str) -> None:
    option = bot.app[keys.CONTENT].quick_replies[chip_id]
    assert option.postback is not None
    tapped = await _replies(bot, lambda user: bot.postback(user, option.postback))
    typed = await _replies(bot, lambda user: bot.text(user, option.label))
    assert tapped and typed == tapped, (typed, tapped)


async def test_typing_a_service_chip_shows_its_card(bot: Bot) -> None:
    content = bot.app[keys.CONTENT]
    for service_id in ("complaint", "public_works_request"):
        service = content.services[service_id]
        tapped = await _replies(bot, lambda user, s=service: bot.postback(user, f"action=svc&id={s.id}"))
        typed = await _replies(bot, lambda user, s=service: bot.text(user, s.label))
        assert typed and typed[0][0] == "flex" and str(typed[0][1]).startswith(service.name), typed
        assert typed == tapped


@pytest.mark.parametrize("chip_id", ["opinion", "report"])
async def test_a_typed_menu_label_is_not_kept_as_the_first_part(bot: Bot, chip_id: str) -> None:
    """ "เสนอความคิดเห็น" typed starts the opinion flow as the tap does: it is not the opinion itself."""
    user = new_user_id()
    await bot.post(bot.text(user, bot.app[keys.CONTENT].quick_replies[chip_id].label))
    await bot.idle()
    async with bot.sessions() as session:
        rows = list(await session.scalars(select(ConversationState)))
    assert len(rows) == 1 and json.loads(rows[0].data).get("parts") == [], rows[0].data
