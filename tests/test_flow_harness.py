"""The report and opinion flows in-process (tests/flow_harness.py): the real inbox, dispatcher and routers on
SQLite in memory, no HTTP. The same conversations over the signed webhook and the fake LINE are in
tests/conversations/*.yaml; these are for changing a flow and knowing in a moment that it still works."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Opinion, Report
from tests.conftest import new_user_id
from tests.flow_harness import FlowHarness
from tests.taps import chips


def _text(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(m.get("text") or m.get("altText") or "") for m in replies)


def _labels(replies: list[dict[str, object]]) -> list[str]:
    return [a["label"] for a in chips(replies[-1])]


async def test_a_report_typed_and_tapped_to_its_reference(flow: FlowHarness) -> None:
    user = new_user_id()
    notice = await flow.say(user, "แจ้งปัญหา")
    assert "โปรดอย่าส่งข้อมูลอ่อนไหว" in _text(notice)
    kinds = await flow.say(user, "tap: รับทราบ")
    assert _labels(kinds)[0] == "ถนน/ทางเท้าชำรุด"
    await flow.say_all(user, "tap: ถนน/ทางเท้าชำรุด", "tap: หมู่ 3")
    assert "ส่งตำแหน่ง" in _labels(await flow.say(user, "ถนนทรุดเป็นหลุมใหญ่หน้าโรงเรียน"))
    where = await flow.say(user, "tap: เสร็จ")
    assert "เกิดที่ไหน" in _text(where)
    summary = await flow.say(user, "หน้าโรงเรียนบ้านดอนยาง")
    assert "สถานที่: หน้าโรงเรียนบ้านดอนยาง" in _text(summary)
    filed = await flow.say(user, "tap: ยืนยันส่ง")
    assert "เรื่องแจ้งเลขที่ ร-2569-00001" in _text(filed)
    async with flow.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and (report.type, report.village) == ("road", 3)
    assert report.text == "ถนนทรุดเป็นหลุมใหญ่หน้าโรงเรียน" and report.place == "หน้าโรงเรียนบ้านดอนยาง"


async def test_a_report_answered_by_typing_alone(flow: FlowHarness) -> None:
    """Each chip's word typed instead of tapped reaches the same steps."""
    user = new_user_id()
    replies = await flow.say_all(
        user, "แจ้งปัญหา", "รับทราบ", "ไฟถนนดับ", "หมู่ 2", "ไฟดับทั้งซอยมาสามวันแล้ว", "เสร็จ", "ข้าม", "ยืนยันส่ง"
    )
    assert "เรื่องแจ้งเลขที่ ร-2569-00001" in _text(replies[-1])
    async with flow.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and (report.type, report.village) == ("street_light", 2)


async def test_an_opinion_from_the_menu_to_its_reference(flow: FlowHarness) -> None:
    user = new_user_id()
    assert _labels(await flow.say(user, "menu: เสนอความคิดเห็น")) == ["รับทราบ", "ไม่ส่งตอนนี้"]
    await flow.say_all(user, "tap: รับทราบ", "tap: หมู่ 3", "ตอนนี้เป็นหลุมลึก ฝนตกน้ำขัง รถล้มบ่อย")
    categories = await flow.say(user, "tap: เสร็จ")
    assert _labels(categories)[0] == "กายภาพ ถนน น้ำ ไฟ"
    summary = await flow.say(user, "tap: กายภาพ ถนน น้ำ ไฟ")
    assert "หมู่บ้าน: หมู่ 3 บ้านดอนยาง" in _text(summary) and _labels(summary) == ["ยืนยันส่ง", "แก้ไขข้อความ"]
    filed = await flow.say(user, "tap: ยืนยันส่ง")
    assert "ความเห็นเลขที่ ค-2569-00001" in _text(filed)
    async with flow.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and (opinion.category, opinion.village) == ("physical", 3)


async def test_an_opinion_started_by_typing_a_proposal_keeps_it(flow: FlowHarness) -> None:
    user = new_user_id()
    proposal = "อยากให้เทศบาลทำถนนลาดยางในซอยบ้านดอนยาง"
    await flow.say_all(user, proposal, "tap: รับทราบ", "tap: หมู่ 3", "tap: เสร็จ", "tap: กายภาพ ถนน น้ำ ไฟ")
    assert "ความเห็นเลขที่ ค-2569-00001" in _text(await flow.say(user, "tap: ยืนยันส่ง"))
    async with flow.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.text.startswith(proposal)


async def test_cancelling_in_the_middle_files_nothing(flow: FlowHarness) -> None:
    user = new_user_id()
    await flow.say_all(user, "menu: เสนอความคิดเห็น", "tap: รับทราบ", "tap: หมู่ 1", "ถนนพัง")
    assert flow.content.responses["cancelled"].text in _text(await flow.say(user, "ยกเลิก"))
    async with flow.sessions() as session:
        assert await session.scalar(select(Opinion)) is None


async def test_tapping_what_was_not_offered_fails_and_names_what_was(flow: FlowHarness) -> None:
    user = new_user_id()
    await flow.say(user, "menu: เสนอความคิดเห็น")
    with pytest.raises(AssertionError, match=r"nothing labelled 'หมู่ 3' offered; offered: \['รับทราบ', 'ไม่ส่งตอนนี้'\]"):
        await flow.say(user, "tap: หมู่ 3")
