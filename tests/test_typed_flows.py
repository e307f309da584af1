"""The opinion and report flows typed only (LINE for PC and Mac shows no quick replies): every chip a step
offers has a typed form, nothing typed is thrown away, and the report flow speaks of reports (issue 16, 1-3)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select

from bot import keys
from bot.chat import participation as shared
from bot.content import Content, load_content
from bot.db.models import Opinion, Report, Resident
from tests.chatting import Message, chip_actions, opening, say, walk
from tests.conftest import ROOT, Bot, new_user_id


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(ROOT / "content")


OPINION_TYPED = (
    "อยากให้มีสวนสาธารณะสำหรับเด็กในหมู่บ้าน",
    "อ่านฉบับเต็ม",  # the link chip typed: the link comes as text, and the consent question again
    "ยินยอมค่ะ",
    "ม.๓",
    "เสร็จแล้ว",
    "ด้านการเมือง",  # a category by the start of its name, not among the two suggested
    "ส่ง",
)
REPORT_TYPED = (
    "แจ้งปัญหา",
    "ตกลง",
    "ขยะ",
    "บ้านดอนยาง",
    "ขยะกองหน้าตลาดไม่มีคนเก็บ",
    "ส่งตำแหน่ง",  # no location picker on PC: how to tell the place instead, the step stays
    "เสร็จ",
    "ข้าม",
    "ยืนยัน",
)


async def test_an_opinion_typed_only_is_stored(bot: Bot) -> None:
    user = new_user_id()
    replies = await walk(bot, user, *OPINION_TYPED)
    content = bot.app[keys.CONTENT]
    assert replies[1][0]["text"].startswith(opening(content, "link_typed")) and "/privacy" in replies[1][0]["text"]
    assert replies[3][-1]["text"].startswith(opening(content, "opinion_ask_text_kept"))  # ม.๓ -> the kept text
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.reference in replies[-1][0]["text"]
    assert (opinion.village, opinion.category) == (3, "politics_administration")
    assert opinion.text == "อยากให้มีสวนสาธารณะสำหรับเด็กในหมู่บ้าน"


async def test_a_report_typed_only_is_filed(bot: Bot) -> None:
    user = new_user_id()
    replies = await walk(bot, user, *REPORT_TYPED)
    content = bot.app[keys.CONTENT]
    assert replies[5][0]["text"] == content.responses["location_typed"].text
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.reference in replies[-1][0]["text"]
    assert (report.type, report.village, report.place) == ("waste", 3, None)
    assert report.text == "ขยะกองหน้าตลาดไม่มีคนเก็บ"  # "แจ้งปัญหา" only started the flow


async def test_every_chip_the_flows_offer_has_a_typed_form(bot: Bot) -> None:
    """Each chip's label, and the text its tap shows, typed at its step means what the tap means; a link or
    location chip typed gets its stand-in. Walks both flows, twice (the second time offers "ใช้หมู่เดิม"),
    with the decline chip, every category, and the general suggestion of a closed consultation."""
    user = new_user_id()
    shown = await walk(bot, user, *OPINION_TYPED[:5], "อื่นๆ", "ด้านสังคม", "ส่ง")
    shown += await walk(bot, user, "menu: เสนอความคิดเห็น", "ใช้หมู่เดิม", "ไฟดับ", "เสร็จ", "แก้ไข")
    shown += await walk(bot, user, "ยกเลิก", *REPORT_TYPED[:-1], "แก้ไข", "ยกเลิก")
    stranger = new_user_id()
    shown += await walk(bot, stranger, "menu: แจ้งปัญหา/ร้องเรียน", "ไม่ยินยอม")
    bot.app[keys.QA].clock = lambda: dt.datetime(2027, 3, 1, 5, 0, tzinfo=dt.UTC)
    shown += [await say(bot, new_user_id(), "menu: เสนอความคิดเห็น")]
    content = bot.app[keys.CONTENT]
    # The flows' own questions (chips tapping 'action=op|rp&...'); a 'message' chip (เมนู) is typed text already.
    offered = [m for turn in shown for m in turn if any(f"action={a}&" in str(chip_actions(m)) for a in ("op", "rp"))]
    kinds = set()
    for message in offered:
        for chip in chip_actions(message):
            kinds.add(chip["type"])
            if chip["type"] == "message":
                continue
            for typed in {chip["label"], chip.get("displayText", chip["label"])}:
                answer = shared.typed_answer(content, message, typed)
                if chip["type"] == "postback":
                    assert answer == dict(parse_qsl(chip["data"])), (typed, message["text"][:40])
                else:
                    expected = shared.TYPED_LINK if chip["type"] == "uri" else shared.TYPED_LOCATION
                    assert answer.get("do") == expected, (typed, chip)
    assert kinds == {"postback", "location"}  # the full notice is a link in the text (see the test below)
    labels = {c["label"] for m in offered for c in chip_actions(m)}
    for chip_id in ("accept", "decline", "same_village", "unspecified_village", "other_category", "skip", "edit"):
        assert content.phrases[f"chip_{chip_id}"] in labels, chip_id
    assert content.phrases["chip_keep_general"] in labels
    assert {c.short for c in content.categories.values()} <= labels


async def test_the_consent_choices_stay_after_the_full_notice_is_opened(bot: Bot) -> None:
    """LINE hides a message's quick replies once any chip is tapped, and a link chip sends the bot no event, so a
    link chip "อ่านฉบับเต็ม" left the resident who opened the notice nothing to tap. The link is in the text:
    opening it taps no chip, รับทราบ / ไม่ส่งตอนนี้ stay; typed "อ่านฉบับเต็ม" gets the link and the question."""
    user = new_user_id()
    content = bot.app[keys.CONTENT]
    accept, decline = content.phrases["chip_accept"], content.phrases["chip_decline"]
    for start in ("menu: เสนอความคิดเห็น", "menu: แจ้งปัญหา/ร้องเรียน"):
        question = (await walk(bot, user, "ยกเลิก", start))[-1][-1]
        chips = [(c["type"], c["label"]) for c in chip_actions(question)]
        assert chips == [("postback", accept), ("postback", decline)]
        assert "/privacy" in question["text"].split("\n")[-1]  # the link, where tapping it keeps the chips
        [typed] = await walk(bot, user, "อ่านฉบับเต็มค่ะ")
        assert typed[0]["text"].startswith(opening(content, "link_typed")) and "/privacy" in typed[0]["text"]
        assert typed[-1] == question  # the consent question again, with both choices under it
    await walk(bot, user, "รับทราบ")
    async with bot.sessions() as session:
        resident = await session.scalar(select(Resident))
    assert resident is not None and resident.consent_version == content.privacy.version


@pytest.mark.parametrize(
    ("typed", "village"),
    [
        ("บ้านดอนยาง", 3),
        ("ดอนยาง", 3),
        ("หมู่ 3", 3),
        ("หมู่ที่ 3", 3),
        ("ม.3", 3),
        ("ม. 3 ค่ะ", 3),
        ("3", 3),
        ("๓", 3),
        ("หมู่ ๓ บ้านดอนยาง", 3),
        ("moo 3", 3),
        ("หมู่ 99", 99),  # a village answer, of a village there is not: the step says so
        ("หมู่ 3 บ้านสุขใจ", None),  # two different villages
        ("ถนนหมู่ 3 พัง", None),
        ("ขอบคุณ", None),
    ],
)
def test_a_village_is_read_by_name_number_or_thai_digits(content: Content, typed: str, village: int | None) -> None:
    assert shared.typed_village(content, typed) == village


def test_typed_answers_ignore_spaces_case_and_polite_endings(content: Content) -> None:
    accept, decline = content.phrases["chip_accept"], content.phrases["chip_decline"]
    question: Message = {
        "quickReply": {
            "items": [
                {"action": {"type": "postback", "label": accept, "data": "action=op&do=accept"}},
                {"action": {"type": "postback", "label": decline, "data": "action=op&do=decline"}},
            ]
        }
    }
    for typed in ("ยินยอม", "ยินยอมค่ะ", " ตกลง ครับ ", "OK", "ok!"):
        assert shared.typed_answer(content, question, typed).get("do") == "accept", typed
    for typed in ("ไม่", "ไม่ยินยอมค่ะ", "ไม่ค่ะ"):
        assert shared.typed_answer(content, question, typed).get("do") == "decline", typed
    assert shared.typed_answer(content, question, "ยินยอมให้ลาดยางถนน") == {}


# -- nothing typed is thrown away ----------------------------------------------------------------------------


async def test_an_opinion_typed_again_at_the_village_step_is_kept_once(bot: Bot) -> None:
    user = new_user_id()
    idea = "อยากให้ขุดลอกคลองหน้าหมู่บ้าน"
    replies = await walk(bot, user, idea, "tap: รับทราบ", idea, "tap: หมู่ 2")
    content = bot.app[keys.CONTENT]
    assert replies[2][0]["text"] == content.responses["text_repeated"].text  # not "ยังรอคำตอบข้อนี้อยู่"
    assert replies[3][0]["text"].startswith(opening(content, "opinion_ask_text_kept")) and idea in replies[3][0]["text"]
    await walk(bot, user, "เสร็จ", "tap: กายภาพ ถนน น้ำ ไฟ", "tap: ยืนยันส่ง")
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.text == idea and opinion.village == 2


async def test_an_opinion_typed_when_asked_for_the_village_becomes_the_opinion(bot: Bot) -> None:
    user = new_user_id()
    idea = "อยากให้มีลานกีฬาสำหรับเด็ก"
    replies = await walk(bot, user, "menu: เสนอความคิดเห็น", "tap: รับทราบ", idea, "หมู่ 5")
    content = bot.app[keys.CONTENT]
    assert replies[2][0]["text"] == content.responses["opinion_text_kept"].text
    assert replies[2][1]["text"].startswith(opening(content, "opinion_ask_village"))  # the village asked again
    assert idea in replies[3][0]["text"]
    await walk(bot, user, "เสร็จ", "tap: กายภาพ ถนน น้ำ ไฟ", "tap: ยืนยันส่ง")
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.text == idea and opinion.village == 5


async def test_a_report_started_from_its_description_keeps_it(bot: Bot) -> None:
    user = new_user_id()
    problem = "ไฟถนนดับทั้งซอยหน้าวัดมาสามวันแล้ว"
    replies = await walk(bot, user, problem, "tap: รับทราบ")
    content = bot.app[keys.CONTENT]
    if replies[1][0]["text"].startswith(opening(content, "report_ask_type")):
        replies += await walk(bot, user, "tap: ไฟถนนดับ")
    replies += await walk(bot, user, "tap: หมู่ 4", problem)
    assert replies[-2][0]["text"].startswith(opening(content, "report_ask_text_kept"))
    assert replies[-1][0]["text"] == content.responses["text_repeated_more"].text
    await walk(bot, user, "เสร็จ", "tap: ข้าม", "tap: ยืนยันส่ง")
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.text == problem and report.type == "street_light"


async def test_a_description_typed_at_the_type_step_is_kept_and_the_type_asked_again(bot: Bot) -> None:
    user = new_user_id()
    problem = "น้ำท่วมขังหน้าบ้านทุกครั้งที่ฝนตก"
    replies = await walk(bot, user, "menu: แจ้งปัญหา/ร้องเรียน", "tap: รับทราบ", problem, "ท่อ/น้ำท่วมขัง")
    content = bot.app[keys.CONTENT]
    assert replies[2][0]["text"] == content.responses["report_text_kept"].text
    assert replies[2][1]["text"].startswith(opening(content, "report_ask_type"))
    await walk(bot, user, "ไม่ระบุ", "เสร็จ", "หน้าบ้านเลขที่ 12", "ส่ง")
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.text == problem and report.type == "drainage"
    assert report.village is None and report.place == "หน้าบ้านเลขที่ 12"


async def test_the_summary_words_typed_early_act_and_are_never_filed(bot: Bot) -> None:
    """ "แก้ไข" and "ส่ง" typed at the description step were filed as the opinion's text ("... | แก้ไข | ส่ง"),
    and "ส่ง" at the report's place step became the place: now แก้ไข clears the description, ส่ง finishes it
    (as เสร็จ), and no chip's word is ever kept as text or place."""
    user = new_user_id()
    content = bot.app[keys.CONTENT]
    idea = "อยากให้มีไฟส่องสว่างริมถนน"
    opened = ("menu: เสนอความคิดเห็น", "tap: รับทราบ", "tap: หมู่ 2")
    replies = await walk(bot, user, *opened, "ข้อความที่จะเขียนใหม่", "แก้ไข", idea, "ข้าม", "ส่ง")
    assert replies[4][0]["text"] == content.responses["opinion_edit_cleared"].text
    assert replies[6][0]["text"] == content.responses["flow_reask"].text  # "ข้าม" is not the opinion
    assert replies[7][-1]["text"].startswith(opening(content, "opinion_ask_category"))
    await walk(bot, user, "tap: กายภาพ ถนน น้ำ ไฟ", "ส่ง")
    problem = "ขยะกองหน้าตลาดไม่มีคนเก็บ"
    replies = await walk(
        bot, user, "menu: แจ้งปัญหา/ร้องเรียน", "tap: ขยะ/ความสะอาด", "หมู่ 2", problem, "แก้ไข", problem, "ส่ง"
    )
    assert replies[4][0]["text"] == content.responses["report_edit_cleared"].text
    assert replies[6][-1]["text"].startswith(opening(content, "report_ask_where"))
    replies = await walk(bot, user, "แก้ไข", "ส่ง")
    assert replies[0][0]["text"] == content.responses["flow_reask"].text  # not a place called แก้ไข
    assert replies[1][-1]["text"].startswith(opening(content, "report_summary"))
    await walk(bot, user, "ส่ง")
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        report = await session.scalar(select(Report))
    assert opinion is not None and opinion.text == idea
    assert report is not None and (report.text, report.place) == (problem, None)


async def test_a_village_is_remembered_only_when_the_submission_is_filed(bot: Bot) -> None:
    """ "ยกเลิก" says nothing unconfirmed was saved: the village typed in the cancelled flow was kept anyway."""
    user = new_user_id()
    await walk(bot, user, "menu: เสนอความคิดเห็น", "รับทราบ", "หมู่ 3", "ยกเลิก")
    async with bot.sessions() as session:
        resident = await session.scalar(select(Resident))
    assert resident is not None and resident.village is None
    await walk(bot, user, "menu: แจ้งปัญหา/ร้องเรียน", "tap: ขยะ/ความสะอาด", "หมู่ 5", "ขยะล้นถังหน้าวัด", "ส่ง")
    await walk(bot, user, "ข้าม", "ส่ง")
    async with bot.sessions() as session:
        resident = await session.scalar(select(Resident))
    assert resident is not None and resident.village == 5


async def test_a_stray_word_at_a_choice_step_is_not_kept(bot: Bot) -> None:
    user = new_user_id()
    replies = await walk(bot, user, "menu: แจ้งปัญหา/ร้องเรียน", "tap: รับทราบ", "อ้าว", "หมู่ 99")
    content = bot.app[keys.CONTENT]
    assert replies[2][0]["text"] == content.responses["flow_reask"].text


# -- the report flow speaks of reports ------------------------------------------------------------------------


async def test_no_report_flow_reply_speaks_of_opinions(bot: Bot) -> None:
    user = new_user_id()
    shown = await walk(
        bot,
        user,
        "menu: แจ้งปัญหา/ร้องเรียน",
        "ไม่ใช่คำตอบ",  # kept as the description, the consent asked again
        "tap: รับทราบ",
        "tap: ถนน/ทางเท้าชำรุด",
        "บ้านไหนก็ไม่รู้",
        "tap: หมู่ 1",
        "x" * 2100,
        "tap: เสร็จ",
        "tap: ข้าม",
        "tap: แก้ไขข้อความ",
        "tap: เสร็จ",
        "ถนนทรุด",
        "tap: เสร็จ",
        # raw data on purpose: a confirm tapped out of order, at the place step (no such chip there); its
        # "still waiting" reply is checked too
        "action=rp&do=confirm",
        "menu: แจ้งปัญหา/ร้องเรียน",
        "เสร็จ",
    )
    shown += await walk(bot, new_user_id(), "menu: แจ้งปัญหา/ร้องเรียน", "tap: ไม่ส่งตอนนี้")
    content = bot.app[keys.CONTENT]
    values = {**content.municipality.placeholders(), "retention_months": content.privacy.retention_months}
    notice = content.privacy.notice.format_map(values)
    texts = [m.get("text", "") for turn in shown for m in turn]
    assert len(texts) > 20 and sum(notice in t for t in texts) >= 2
    for text in texts:
        # The privacy notice itself is one legal text for both flows (it lists withdrawing an opinion among the
        # rights): its lead line is the flow's own, and that is checked here with everything else.
        plain = text.replace(notice, "")
        assert "ความคิดเห็น" not in plain and "ความเห็น" not in plain, text
