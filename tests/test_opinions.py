"""The opinion flow's effects: what is stored (and not), consent, restart mid-flow, idle expiry, numbering."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from bot import keys
from bot.db.models import ConversationState, InboundEvent, Opinion, Resident, ServiceQuery
from bot.handlers.residents.mydata import notice_version
from tests.chatting import say_all
from tests.conftest import Bot, BotFactory, new_user_id

CLOCK = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)


async def _say(bot: Bot, user: str, *turns: str) -> None:
    """Each turn as tests/chatting.py reads it ("tap: หมู่ 4", typed text); handled one after another."""
    await say_all(bot, user, *turns)


async def _started(make_bot: BotFactory) -> Bot:
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    return bot


HAPPY = (
    "menu: เสนอความคิดเห็น",
    "tap: รับทราบ",
    "tap: หมู่ 4",
    "ขอไฟส่องสว่างหน้าวัด",
    "มืดมากตอนกลางคืน",
    "tap: เสร็จ",
    "tap: กายภาพ ถนน น้ำ ไฟ",
    "tap: ยืนยันส่ง",
)


async def test_confirmed_opinion_is_stored_with_consent_and_reference(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    user = new_user_id()
    await _say(bot, user, *HAPPY)
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        resident = await session.scalar(select(Resident))
        open_flows = await session.scalar(select(func.count()).select_from(ConversationState))
    assert opinion is not None and resident is not None
    assert opinion.reference == "ค-2569-00001" and opinion.village == 4 and opinion.category == "physical"
    assert opinion.text == "ขอไฟส่องสว่างหน้าวัด\nมืดมากตอนกลางคืน"
    assert opinion.consultation_id == "local_plan_2571_2575_rev1" and opinion.resident_id == resident.id
    assert opinion.category_suggested in bot.app[keys.CONTENT].categories
    assert resident.consent_version == bot.app[keys.CONTENT].privacy.version and resident.village == 4
    assert open_flows == 0


async def test_second_opinion_skips_consent_offers_same_village_and_counts_up(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    user = new_user_id()
    await _say(bot, user, *HAPPY)
    seen = len(bot.fake.messages_to(user))
    await _say(bot, user, "menu: เสนอความคิดเห็น")
    question = bot.fake.messages_to(user)[seen]
    assert question["quickReply"]["items"][0]["action"]["data"] == "action=op&do=village&n=4"
    await _say(bot, user, "tap: ใช้หมู่เดิม", "อยากได้ลานกีฬา", "เสร็จ", "tap: ด้านสังคมและสิ่งแวดล้อม", "tap: ยืนยันส่ง")
    async with bot.sessions() as session:
        references = list(await session.scalars(select(Opinion.reference).order_by(Opinion.id)))
    assert references == ["ค-2569-00001", "ค-2569-00002"]


async def test_declining_stores_nothing(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    user = new_user_id()
    await _say(bot, user, "อยากให้ทำสวนสาธารณะ", "tap: ไม่ส่งตอนนี้")
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Opinion)) == 0
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0
        resident = await session.scalar(select(Resident))
    assert resident is not None and resident.consent_version is None


async def test_restart_mid_flow_loses_nothing(make_bot: BotFactory) -> None:
    first = await _started(make_bot)
    user = new_user_id()
    await _say(first, user, *HAPPY[:4])
    await first.client.close()
    second = await _started(make_bot)
    await _say(second, user, *HAPPY[4:])
    async with second.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.text == "ขอไฟส่องสว่างหน้าวัด\nมืดมากตอนกลางคืน" and opinion.village == 4


async def test_a_flow_idle_for_30_minutes_expires_with_a_message(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    user = new_user_id()
    await _say(bot, user, "menu: เสนอความคิดเห็น", "tap: รับทราบ")
    bot.app[keys.QA].clock = lambda: CLOCK + dt.timedelta(minutes=31)  # the chat's one clock moves on
    seen = len(bot.fake.messages_to(user))
    await _say(bot, user, "สอบถามเรื่องภาษีป้ายค่ะ")
    replies = bot.fake.messages_to(user)[seen:]
    content = bot.app[keys.CONTENT]
    assert replies[0]["text"] == content.responses["flow_expired"].text
    assert replies[1]["type"] == "flex"  # the question is then answered as usual (the service card)
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0


async def test_two_open_consultations_ask_which(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    content = bot.app[keys.CONTENT]
    original = next(iter(content.consultations.values()))
    other = dataclasses.replace(original, id="budget_2571", title="งบประมาณรายจ่ายประจำปี 2571")
    content.consultations[other.id] = other
    user = new_user_id()
    await _say(bot, user, "menu: เสนอความคิดเห็น")
    chips = [i["action"]["data"] for i in bot.fake.messages_to(user)[-1]["quickReply"]["items"]]
    assert chips == [f"action=op&do=consultation&id={original.id}", "action=op&do=consultation&id=budget_2571"]
    await _say(
        bot,
        user,
        "tap: งบประมาณรายจ่ายประจำปี 2571",
        "tap: รับทราบ",
        "tap: ไม่ระบุ",
        "ขอเพิ่มงบศูนย์เด็กเล็ก",
        "เสร็จ",
        "tap: ด้านสังคมและสิ่งแวดล้อม",
        "tap: ยืนยันส่ง",
    )
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.consultation_id == "budget_2571" and opinion.village is None


async def test_ten_rapid_messages_in_the_text_step_are_all_kept_in_order(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    user = new_user_id()
    await _say(bot, user, "menu: เสนอความคิดเห็น", "tap: รับทราบ", "tap: หมู่ 1")
    base = 1_800_000_000_000
    burst = [bot.text(user, f"ข้อ {i}", timestamp_ms=base + i) for i in range(10)]
    for event in reversed(burst):
        await bot.post(event)
    await bot.idle()
    await _say(bot, user, "เสร็จ", "tap: อื่นๆ", "tap: กายภาพ ถนน น้ำ ไฟ", "tap: ยืนยันส่ง")  # any category
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.text == "\n".join(f"ข้อ {i}" for i in range(10))


async def test_my_data_shows_what_is_held_and_withdraws_one_opinion(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    user = new_user_id()
    await _say(bot, user, *HAPPY, "menu: ข้อมูลของฉัน")
    shown = bot.fake.messages_to(user)[-1]
    assert "2569-00001" in shown["text"] and "หมู่ 4" in shown["text"]
    assert notice_version(bot.app[keys.CONTENT].privacy.version) in shown["text"]
    await _say(bot, user, "tap: ถอนความคิดเห็น", "ใช่")
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.status == "withdrawn" and opinion.text == ""
    # Someone else cannot withdraw it. Raw data on purpose: the resident's button, forged in another chat.
    stranger = new_user_id()
    await _say(bot, stranger, "action=md&do=withdraw_one&ref=2569-00001")
    assert bot.fake.messages_to(stranger)[-1]["text"] == bot.app[keys.CONTENT].responses["postback_expired"].text


async def test_notifications_can_be_switched_off_and_on(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    user = new_user_id()
    await _say(bot, user, "menu: ข้อมูลของฉัน", "tap: ปิดการแจ้งข่าวสาร")
    async with bot.sessions() as session:
        assert (await session.scalar(select(Resident.notify))) is False
    await _say(bot, user, "menu: ข้อมูลของฉัน", "tap: เปิดการแจ้งข่าวสาร")
    async with bot.sessions() as session:
        assert (await session.scalar(select(Resident.notify))) is True


async def test_deleting_everything_anonymises_opinions_and_removes_identifiers(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    user = new_user_id()
    await _say(
        bot,
        user,
        *HAPPY,
        "ภาษีป้ายต้องยื่นเดือนไหน",
        "menu: ข้อมูลของฉัน",
        "tap: ลบข้อมูลทั้งหมด",
        "tap: ยืนยันลบทั้งหมด",
    )
    assert bot.fake.messages_to(user)[-1]["text"].startswith(
        bot.app[keys.CONTENT].responses["mydata_deleted"].text.split(" ")[0]
    )
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        residents = await session.scalar(select(func.count()).select_from(Resident))
        questions = list(await session.scalars(select(ServiceQuery)))
        payloads = list(await session.scalars(select(InboundEvent.payload)))
    assert opinion is not None and opinion.resident_id is None and opinion.text  # still countable, unlinked
    assert residents == 0
    assert questions and all(q.resident_id is None and q.text == "" for q in questions)
    assert all(user not in p and "ภาษีป้าย" not in p for p in payloads)
    # Coming back, the resident starts afresh: the privacy notice is asked again.
    await _say(bot, user, "menu: เสนอความคิดเห็น")
    assert "โปรดอย่าส่งข้อมูลอ่อนไหว" in bot.fake.messages_to(user)[-1]["text"]


async def test_outcomes_are_pushed_to_residents_who_want_to_hear(make_bot: BotFactory) -> None:
    import pytest

    from bot.handlers.opinions.rules import UnknownOpinion, set_outcome

    bot = await _started(make_bot)
    user = new_user_id()
    await _say(bot, user, *HAPPY)
    content = bot.app[keys.CONTENT]
    with pytest.raises(ValueError, match="needs a detail"):
        async with bot.sessions() as session, session.begin():
            await set_outcome(session, content, "2569-00001", "in_plan", None, "staff", at=bot.now())
    async with bot.sessions() as session, session.begin():
        await set_outcome(
            session, content, "2569-00001", "in_plan", "โครงการติดตั้งไฟส่องสว่าง หมู่ 4", "staff:nid", at=bot.now()
        )
    await bot.idle()
    pushed = [m["text"] for d in bot.fake.deliveries if d.user_id == user and d.via == "push" for m in d.messages]
    assert len(pushed) == 1 and "2569-00001" in pushed[0] and "โครงการติดตั้งไฟส่องสว่าง หมู่ 4" in pushed[0]
    assert "ขอไฟส่องสว่างหน้าวัด" in pushed[0]
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.status == "in_plan" and opinion.outcome_by == "staff:nid"
    # Opted out: recorded, not pushed. Withdrawn: refused.
    await _say(bot, user, "menu: ข้อมูลของฉัน", "tap: ปิดการแจ้งข่าวสาร")
    before = len(bot.fake.messages_to(user))
    async with bot.sessions() as session, session.begin():
        await set_outcome(session, content, "2569-00001", "considering", None, "staff", at=bot.now())
    await bot.idle()
    assert len(bot.fake.messages_to(user)) == before
    await _say(bot, user, "menu: ข้อมูลของฉัน", "tap: ถอนความคิดเห็น", "tap: ถอน")
    with pytest.raises(UnknownOpinion):
        async with bot.sessions() as session, session.begin():
            await set_outcome(session, content, "2569-00001", "rejected", "ซ้ำกับโครงการเดิม", "staff", at=bot.now())


@pytest.mark.parametrize("steps_done", range(1, 7))
async def test_cancel_works_at_every_step(make_bot: BotFactory, steps_done: int) -> None:
    """After each step of the opinion flow, ยกเลิก ends it: nothing stored, the resident told so."""
    bot = await _started(make_bot)
    user = new_user_id()
    await _say(bot, user, *HAPPY[:steps_done], "ยกเลิก")
    assert bot.fake.messages_to(user)[-1]["text"] == bot.app[keys.CONTENT].responses["cancelled"].text
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Opinion)) == 0
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0
