"""One clock (issue 17 step 5): every time the chat reads or stores (a flow's step, its expiry, an offered
choice, a follow-up's context, a filed report and its first status, consent, the question log, reference
years) comes from the clock the dispatcher was given (Turn.now, which is qa.clock). A test pins it once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.db.models import ChatContext, ConversationState, OfferedChoice, Report, ReportStatus, Resident, ServiceQuery
from tests.conftest import new_user_id
from tests.flow_harness import FlowHarness

# Far from the real time on purpose: a time read from the machine's clock cannot pass for it.
PINNED = dt.datetime(2031, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def _text(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(m.get("text") or m.get("altText") or "") for m in replies)


async def test_every_time_a_filed_report_stores_is_the_pinned_clock(flow: FlowHarness) -> None:
    flow.set_clock(PINNED)
    user = new_user_id()
    await flow.say_all(user, "ภาษีป้ายต้องใช้เอกสารอะไร", "แจ้งปัญหา", "tap: รับทราบ", "tap: ขยะ/ความสะอาด")
    async with flow.sessions() as session:
        state = await session.get(ConversationState, user)
        offered = await session.get(OfferedChoice, user)
        context = await session.get(ChatContext, user)
        asked = await session.scalar(select(ServiceQuery))
    assert state is not None and state.updated_at == PINNED
    assert offered is not None and offered.offered_at == PINNED
    assert context is not None and context.updated_at == PINNED
    assert asked is not None and asked.created_at == PINNED
    await flow.say_all(user, "tap: หมู่ 5", "ขยะกองหน้าตลาด", "tap: เสร็จ", "หน้าตลาดสด")
    filed = await flow.say(user, "tap: ยืนยันส่ง")
    assert "ร-2574-00001" in _text(filed), _text(filed)  # 2031 in the Buddhist era
    async with flow.sessions() as session:
        report = await session.scalar(select(Report))
        first = await session.scalar(select(ReportStatus))
        resident = await session.scalar(select(Resident))
    assert report is not None and report.created_at == report.updated_at == PINNED
    assert first is not None and first.changed_at == PINNED
    assert resident is not None and resident.consent_at == PINNED


async def test_a_flow_expires_by_the_same_clock(flow: FlowHarness) -> None:
    flow.set_clock(PINNED)
    user = new_user_id()
    await flow.say_all(user, "แจ้งปัญหา", "tap: รับทราบ")
    flow.set_clock(PINNED + dt.timedelta(minutes=29))
    still = await flow.say(user, "tap: ขยะ/ความสะอาด")
    assert "หมู่" in _text(still), _text(still)  # the village question: the flow went on
    flow.set_clock(PINNED + dt.timedelta(minutes=29 + 31))
    expired = await flow.say(user, "หมู่ 5")
    assert flow.content.responses["flow_expired"].text in _text(expired), _text(expired)
