"""Flows as tables (bot/chat/flows.py): the opinion and report flows list the steps they share, written once,
and a chat saved in the middle of a flow by the code before the tables (conversation_state rows as that code
wrote them: flow, step and data by name) goes on where it was after the deploy."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.chat.participation import CONSENT_STEP, SUMMARY_STEP, TEXT_STEP, VILLAGE_STEP
from bot.chat.state import FlowState, save_state
from bot.db.models import ConversationState, Opinion, Report
from bot.handlers.opinions.chat import OPINION
from bot.handlers.reports.chat import REPORT
from tests.conftest import new_user_id
from tests.flow_harness import FlowHarness

SHARED = (CONSENT_STEP, VILLAGE_STEP, TEXT_STEP, SUMMARY_STEP)


def test_both_flows_list_the_shared_steps_written_once() -> None:
    assert list(OPINION.steps) == ["consultation", "consent", "village", "text", "category", "confirm"]
    assert list(REPORT.steps) == ["consent", "type", "village", "text", "where", "confirm"]
    for name in SHARED:
        opinion, report = OPINION.steps[name], REPORT.steps[name]
        # The same functions (the description and summary steps are built per flow from one definition); each
        # flow's summary says its own things, so only the summary's question is the flow's.
        if name != SUMMARY_STEP:
            assert opinion.ask.__code__ is report.ask.__code__, name
        assert opinion.answer.__code__ is report.answer.__code__, name


async def _resident_mid_flow(flow: FlowHarness, state: FlowState) -> str:
    """A resident who has chatted before, whose chat was saved at `state` before the deploy."""
    user = new_user_id()
    await flow.say(user, "สวัสดีค่ะ")
    async with flow.sessions() as session, session.begin():
        await save_state(session, user, state)  # a resident's own chat is the lane of their user id
    return user


def _text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or m.get("altText") or "") for m in replies)


OPINION_DATA = {"parts": ["อยากให้ซ่อมถนนหน้าโรงเรียน"], "consultation": "general", "village": 4}
REPORT_DATA = {"parts": ["ขยะกองหน้าตลาดไม่มีคนเก็บ"], "type": "waste", "village": 5}


@pytest.mark.parametrize(
    ("step", "data", "turns"),
    [
        ("consent", {"parts": [], "consultation": "general"}, ["รับทราบ", "หมู่ 4", "อยากให้ซ่อมถนนหน้าโรงเรียน"]),
        ("village", {"parts": [], "consultation": "general"}, ["หมู่ 4", "อยากให้ซ่อมถนนหน้าโรงเรียน"]),
        ("text", OPINION_DATA, []),
        (
            "category",
            {**OPINION_DATA, "suggested": "physical", "runner_up": "economy"},
            ["กายภาพ ถนน น้ำ ไฟ", "ยืนยันส่ง"],
        ),
        ("confirm", {**OPINION_DATA, "suggested": "physical", "runner_up": "economy", "category": "physical"}, []),
    ],
)
async def test_an_opinion_saved_mid_flow_before_the_tables_is_filed_after_them(
    flow: FlowHarness, step: str, data: dict[str, Any], turns: list[str]
) -> None:
    user = await _resident_mid_flow(flow, FlowState(flow="opinion", step=step, data=data))
    if step in ("consent", "village", "text"):
        turns = [*turns, "เสร็จ", "กายภาพ ถนน น้ำ ไฟ"]
    await flow.say_all(user, *turns)
    filed = await flow.say(user, "ยืนยันส่ง")
    assert "ค-2569-" in _text(filed), _text(filed)
    async with flow.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        left = await session.scalar(select(ConversationState))
    assert opinion is not None and left is None
    assert (opinion.text, opinion.village, opinion.category) == ("อยากให้ซ่อมถนนหน้าโรงเรียน", 4, "physical")


@pytest.mark.parametrize(
    ("step", "data", "turns"),
    [
        ("type", {"parts": []}, ["ขยะ/ความสะอาด", "หมู่ 5", "ขยะกองหน้าตลาดไม่มีคนเก็บ", "เสร็จ", "หน้าตลาดสด"]),
        ("text", REPORT_DATA, ["เสร็จ", "หน้าตลาดสด"]),
        ("where", REPORT_DATA, ["หน้าตลาดสด"]),
        ("confirm", {**REPORT_DATA, "place": "หน้าตลาดสด"}, []),
    ],
)
async def test_a_report_saved_mid_flow_before_the_tables_is_filed_after_them(
    flow: FlowHarness, step: str, data: dict[str, Any], turns: list[str]
) -> None:
    user = await _resident_mid_flow(flow, FlowState(flow="report", step=step, data=data))
    await flow.say_all(user, *turns)
    filed = await flow.say(user, "ยืนยันส่ง")
    assert "ร-2569-" in _text(filed), _text(filed)
    async with flow.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    assert (report.text, report.type, report.village, report.place) == (
        "ขยะกองหน้าตลาดไม่มีคนเก็บ",
        "waste",
        5,
        "หน้าตลาดสด",
    )


async def test_a_step_this_version_does_not_have_starts_the_flow_over_keeping_what_was_given(
    flow: FlowHarness,
) -> None:
    """A state saved by a newer version (then rolled back) names a step unknown here: the flow asks its first
    step that applies, and the description already given is still there."""
    user = await _resident_mid_flow(flow, FlowState(flow="report", step="photo_review", data=REPORT_DATA))
    replies = await flow.say(user, "สวัสดี")
    # Type, village and description are kept; this resident never agreed to the notice, so it comes first.
    assert "โปรดอย่าส่งข้อมูลอ่อนไหว" in _text(replies), _text(replies)
    await flow.say_all(user, "รับทราบ", "หมู่ 5")
    kept = await flow.say(user, "เสร็จ")
    assert "เกิดที่ไหน" in _text(kept), _text(kept)
