"""Prompts a resident who only types can answer (LINE for PC shows no chips): each prompt says its choices in
its text, a list is numbered and a typed number picks its line; and nothing typed at a question step is lost
later: further text is added to the description, the step asked again (issue 16 items 1-2, review defects
2, 3)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from bot import keys
from bot.chat import participation as shared
from bot.chat.numbered import chip_names, listed_name, numbered
from bot.content import Content, load_content
from bot.db.models import Opinion, Report
from tests.chatting import Message, chip_actions, opening, say, walk
from tests.conftest import ROOT, Bot, new_user_id


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(ROOT / "content")


def _synonyms(content: Content, label: str) -> set[str]:
    """The typed_<phrase> words of the phrase that is this chip's label, as written in responses.yaml."""
    ids = [pid for pid, text in content.phrases.items() if text == label and not pid.startswith("typed_")]
    return {w.strip() for pid in ids for w in content.phrases.get(f"typed_{pid}", "").split(",") if w.strip()}


# -- B: nothing typed at a question step is lost ----------------------------------------------------------------


async def test_later_lines_typed_at_the_notice_and_the_village_are_added_to_the_opinion(bot: Bot) -> None:
    """The review's case: the second and third lines were answered "ยังรอคำตอบข้อนี้อยู่" and lost."""
    user = new_user_id()
    first, second, third = "อยากให้มีสวนสาธารณะให้เด็กเล่น", "ใกล้ๆ โรงเรียนด้วยค่ะ", "มีม้านั่งให้ผู้ปกครองด้วย"
    replies = await walk(bot, user, first, second, "ยินยอม", third, "หมู่ 2", "เสร็จ", "1", "ส่ง")
    content = bot.app[keys.CONTENT]
    assert replies[1][0]["text"] == content.responses["text_added"].text
    assert replies[1][1]["text"].startswith(opening(content, "opinion_consent_lead"))  # the notice asked again
    assert replies[3][0]["text"] == content.responses["text_added"].text
    assert replies[3][1]["text"].startswith(opening(content, "opinion_ask_village"))
    assert all(line in replies[4][0]["text"] for line in (first, second, third))  # the text step shows them
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.reference in replies[-1][0]["text"]
    assert opinion.text == "\n".join((first, second, third))
    assert opinion.category == opinion.category_suggested  # "1": the first line of the list, the suggestion


async def test_text_after_done_and_at_the_summary_is_added_and_the_summary_shows_it(bot: Bot) -> None:
    user = new_user_id()
    problem, more, last = "ถนนหน้าโรงเรียนพังมาก", "หลุมเยอะมากหน้าโรงเรียน", "เด็กนักเรียนเดินลำบาก"
    replies = await walk(bot, user, "menu: เสนอความคิดเห็น", "ยินยอม", "หมู่ 1", problem, "เสร็จ", more)
    content = bot.app[keys.CONTENT]
    assert replies[-1][0]["text"] == content.responses["text_added"].text  # was "ยังรอคำตอบข้อนี้อยู่"
    assert replies[-1][1]["text"].startswith(opening(content, "opinion_ask_category"))
    replies = await walk(bot, user, "ด้านกายภาพ", last)
    assert replies[-1][0]["text"] == content.responses["text_added_summary"].text
    summary = replies[-1][1]["text"]
    assert summary.startswith(opening(content, "opinion_summary")) and last in summary and more in summary
    replies = await walk(bot, user, "ครับ", "โอเคค่ะ")  # a bare particle is not kept; โอเค at the summary sends
    assert replies[0][0]["text"] == content.responses["flow_reask"].text
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.reference in replies[1][0]["text"]
    assert opinion.text == "\n".join((problem, more, last))


async def test_text_added_beyond_the_limit_is_cut_and_said(bot: Bot) -> None:
    user = new_user_id()
    long = ("ถนนพังเป็นหลุม " * 200)[: shared.MAX_DESCRIPTION_CHARS - 5].strip()
    replies = await walk(bot, user, "menu: แจ้งปัญหา/ร้องเรียน", "tap: รับทราบ", long, "ขยะล้นถังหน้าตลาด")
    content = bot.app[keys.CONTENT]
    assert replies[-2][0]["text"] == content.responses["report_text_kept"].text
    assert replies[-1][0]["text"] == content.responses["text_full"].text
    await walk(bot, user, "ถนน", "หมู่ 1", "เสร็จ", "ข้าม", "ส่ง")
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
    room = shared.MAX_DESCRIPTION_CHARS - len(long)  # the parts' letters count, not the lines joining them
    assert report is not None and report.text == f"{long}\n{'ขยะล้นถังหน้าตลาด'[:room]}"


async def test_words_for_another_question_are_not_added(bot: Bot) -> None:
    """A chip's word typed at the wrong step ("ไม่ส่งตอนนี้" at the summary) is asked again, not kept."""
    user = new_user_id()
    problem = "ไฟถนนหน้าวัดดับทั้งซอย"
    await walk(bot, user, "menu: แจ้งปัญหา/ร้องเรียน", "tap: รับทราบ", "ไฟถนนดับ", "หมู่ 4", problem, "เสร็จ", "ข้าม")
    replies = await walk(bot, user, "ไม่ส่งตอนนี้", "ใช้หมู่เดิม", "ยืนยัน")
    content = bot.app[keys.CONTENT]
    assert [r[0]["text"] for r in replies[:2]] == [content.responses["flow_reask"].text] * 2
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.text == problem


# -- A: each prompt says its choices; typed numbers pick them ---------------------------------------------------


async def test_the_category_prompt_names_the_suggestion_and_lists_its_choices(bot: Bot) -> None:
    user = new_user_id()
    replies = await walk(bot, user, "อยากให้มีตลาดนัดชุมชนสร้างรายได้", "ยินยอม", "หมู่ 2", "เสร็จ")
    content = bot.app[keys.CONTENT]
    question = replies[-1][0]
    chips = chip_actions(question)
    suggested = content.categories[chips[0]["data"].rsplit("=", 1)[1]].label
    assert f"“{suggested}”" in question["text"]
    for number, chip in enumerate(chips, start=1):
        assert f"\n{number} {chip.get('displayText', chip['label'])}" in question["text"]
    replies = await walk(bot, user, str(len(chips)))  # the last line, อื่นๆ: every category, numbered
    every = replies[0][0]
    assert every["text"].startswith(opening(content, "opinion_all_categories"))
    assert len(chip_actions(every)) == len(content.categories)
    replies = await walk(bot, user, "๒")  # Thai digit: the second line of the list shown now
    second = chip_actions(every)[1]["displayText"]
    assert f"ด้าน: {second}" in replies[0][0]["text"]


async def test_the_report_type_is_picked_by_its_number(bot: Bot) -> None:
    user = new_user_id()
    replies = await walk(bot, user, "menu: แจ้งปัญหา/ร้องเรียน", "tap: รับทราบ")
    content = bot.app[keys.CONTENT]
    types = list(content.report_types.values())
    assert replies[1][0]["text"] == content.responses["report_ask_type"].text.format(
        choices=numbered(t.label for t in types)
    )
    await walk(bot, user, "3 ค่ะ", "หมู่ 1", "ขยะกองหน้าตลาด", "เสร็จ", "ข้าม", "ส่ง")
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.type == types[2].id


async def test_which_one_lists_the_candidates_by_name_and_number(bot: Bot) -> None:
    user = new_user_id()
    replies = await walk(bot, user, "เบี้ย")
    question = replies[0][0]
    content = bot.app[keys.CONTENT]
    names = chip_names([{"action": a} for a in chip_actions(question)])
    assert len(names) >= 2 and question["text"].startswith(opening(content, "clarify"))
    assert numbered(names) in question["text"]
    # "2" typed then shows the second line's card: the offered choices' matcher, tests/test_offered_choices.py


async def test_a_number_picks_only_from_a_list_the_text_shows(content: Content) -> None:
    """At the village question (no numbered list) "3" is not the third chip; where a list is shown it is."""
    chips = [
        {"type": "action", "action": {"type": "postback", "label": f"หมู่ {n}", "data": f"action=op&do=village&n={n}"}}
        for n in (5, 6, 7)
    ]
    unlisted: Message = {"type": "text", "text": "คุณอยู่หมู่ไหนคะ", "quickReply": {"items": chips}}
    assert shared.typed_answer(content, unlisted, "3") == {}
    listed = {**unlisted, "text": "เลือกค่ะ\n" + numbered(chip_names(chips))}
    assert shared.typed_answer(content, listed, "3").get("n") == "7"
    assert shared.typed_answer(content, listed, "๑").get("n") == "5"
    assert shared.typed_answer(content, listed, "4") == {}
    assert listed_name("ข้อความ\n1 ก\n2 ข", "2") == "ข" and listed_name("1 ก", "ก") is None


async def test_every_flow_prompt_says_its_choices_in_its_text(bot: Bot) -> None:
    """Each postback chip of the flows' questions is named in the text: its label, the name it shows, a typed
    word for it in quotes ("พิมพ์ “ส่ง”"), or a numbered line; villages are typed as the text shows ("หมู่ 3")."""
    user = new_user_id()
    shown = await walk(bot, user, "อยากให้มีไฟส่องทางในซอย", "ยินยอม", "หมู่ 3", "เสร็จ", "อื่นๆ", "1", "แก้ไข")
    shown += await walk(bot, user, "ยกเลิก", "menu: เสนอความคิดเห็น", "ใช้หมู่เดิม", "ยกเลิก")
    shown += await walk(bot, user, "menu: แจ้งปัญหา/ร้องเรียน", "1", "หมู่ 3", "ถนนพัง", "เสร็จ", "ข้าม", "แก้ไข")
    shown += await walk(bot, new_user_id(), "menu: แจ้งปัญหา/ร้องเรียน")
    bot.app[keys.QA].clock = lambda: dt.datetime(2027, 3, 1, 5, 0, tzinfo=dt.UTC)
    shown += [await say(bot, new_user_id(), "menu: เสนอความคิดเห็น")]
    content = bot.app[keys.CONTENT]
    notice = content.privacy.notice
    offered = [m for turn in shown for m in turn if any(f"action={a}&" in str(chip_actions(m)) for a in ("op", "rp"))]
    assert len(offered) >= 12
    for message in offered:
        text = message["text"]
        for chip in chip_actions(message):
            if chip["type"] != "postback" or re.search(r"do=village&n=[1-9]", chip["data"]):
                continue
            names = {chip["label"], chip.get("displayText", "")} - {""}
            quoted = {f"“{w}”" for w in _synonyms(content, chip["label"])}
            said = any(n in text for n in names) or any(q in text for q in quoted)
            assert said, (chip["label"], text[:60])
        assert "เลือกจากปุ่ม" not in text and "👇" not in text.replace(notice, ""), text[:60]


# -- C: small ---------------------------------------------------------------------------------------------------


async def test_a_village_the_municipality_has_not_is_told_which_it_has(bot: Bot) -> None:
    user = new_user_id()
    replies = await walk(bot, user, "menu: แจ้งปัญหา/ร้องเรียน", "tap: รับทราบ", "ถนน", "หมู่ 9")
    content = bot.app[keys.CONTENT]
    numbers = sorted(v.no for v in content.municipality.villages)
    assert replies[-1][0]["text"].startswith("ไม่มีหมู่นี้ค่ะ")
    assert f"หมู่ {numbers[0]}-{numbers[-1]}" in replies[-1][0]["text"]
    assert replies[-1][1]["text"].startswith(opening(content, "report_ask_village"))


async def test_edit_says_the_description_was_cleared(bot: Bot) -> None:
    user = new_user_id()
    flow = ("menu: แจ้งปัญหา/ร้องเรียน", "tap: รับทราบ", "ขยะ", "หมู่ 1", "ขยะไม่มีคนเก็บ", "เสร็จ", "ข้าม", "แก้ไข")
    replies = await walk(bot, user, *flow)
    content = bot.app[keys.CONTENT]
    assert replies[-1][0]["text"] == content.responses["report_edit_cleared"].text
    assert replies[-1][1]["text"].startswith(opening(content, "report_ask_text"))
    replies = await walk(bot, new_user_id(), "อยากได้ถังขยะเพิ่ม", "ยินยอม", "หมู่ 1", "เสร็จ", "1", "แก้ไข")
    assert replies[-1][0]["text"] == content.responses["opinion_edit_cleared"].text
