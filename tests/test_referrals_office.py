"""Referrals (content/referrals.yaml: who handles what the municipality does not) and questions about the
office itself (bot/handlers/services/office.py: phone, hours, open on a day, where), on fixed dates, never the real
clock."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from bot.chat.messages import MessageBuilder
from bot.content import Content, check_content, load_content
from bot.handlers.services.office import OfficeTopic, asked_day, office_reply, office_words, read_office_question
from bot.handlers.services.referrals import referral_reply
from bot.handlers.services.timeline import WorkingCalendar, calendar_from, thai_date
from bot.nlp.understand import Understanding
from tests.serving import cli_env, run_cli

ROOT = Path(__file__).resolve().parent.parent
CONTENT = load_content(ROOT / "content")
BUILDER = MessageBuilder(CONTENT)
CALENDAR = calendar_from(CONTENT.extra_holidays, CONTENT.working_days)

# The ids other helpers label data with: they must all be there.
REFERRAL_IDS = (
    "passport",
    "driving_licence",
    "vehicle_tax",
    "social_security",
    "court",
    "pension",
    "electricity",
    "pwa_water",
    "land_office",
    "police",
    "cybercrime",
    "consumer_protection",
    "lottery",
    "gold_card",
    "state_welfare_card",
    "name_change",
)
# The agency each answer must name.
AGENCY = {
    "passport": "กรมการกงสุล",
    "driving_licence": "กรมการขนส่งทางบก",
    "vehicle_tax": "กรมการขนส่งทางบก",
    "social_security": "สำนักงานประกันสังคม",
    "court": "ศาล",
    "pension": "ประกันสังคม",
    "electricity": "การไฟฟ้าส่วนภูมิภาค",
    "pwa_water": "การประปาส่วนภูมิภาค",
    "land_office": "สำนักงานที่ดิน",
    "police": "ตำรวจ",
    "cybercrime": "1441",
    "consumer_protection": "สคบ.",
    "lottery": "สำนักงานสลากกินแบ่งรัฐบาล",
    "gold_card": "1330",
    "state_welfare_card": "welfare.mof.go.th",
    "name_change": "1548",
}
# Moved from intents.yaml out_of_scope into the referral that answers them.
MOVED = {
    "ต่อภาษีรถยนต์": "vehicle_tax",
    "ต่อทะเบียนรถ": "vehicle_tax",
    "ทำใบขับขี่": "driving_licence",
    "ทำพาสปอร์ต": "passport",
    "หนังสือเดินทาง": "passport",
    "ค่าไฟแพง": "electricity",
    "โอนที่ดินที่สำนักงานที่ดิน": "land_office",
    "ประกันสังคม": "social_security",
    "ค่าน้ำประปาภูมิภาค": "pwa_water",
    "ตรวจหวย": "lottery",
}

THURSDAY = dt.date(2026, 12, 3)  # a working day; Saturday 5 December 2569 is วันพ่อแห่งชาติ, Monday 7th its substitute


# -- content -------------------------------------------------------------------------------------------


def test_every_referral_is_loaded_with_examples_and_sources() -> None:
    assert set(REFERRAL_IDS) <= set(CONTENT.referrals)
    for rid in REFERRAL_IDS:
        referral = CONTENT.referrals[rid]
        assert referral.name and len(referral.examples) >= 5 and referral.sources, rid


def test_out_of_scope_examples_a_referral_covers_moved_to_it() -> None:
    assert not set(MOVED) & set(CONTENT.intents["out_of_scope"])
    assert "เลขเด็ดงวดนี้" in CONTENT.intents["out_of_scope"]  # asking for lucky numbers: nobody to refer it to
    for example, rid in MOVED.items():
        assert example in CONTENT.referrals[rid].examples


# Phrasings that are not among the referrals' examples (tests/data/qa_dev.tsv has more).
ASKED = {
    "งวดนี้หวยออกวันที่เท่าไหร่": "lottery",
    "ถูกลอตเตอรี่ต้องไปขึ้นเงินที่ไหน": "lottery",
    "อยากย้ายโรงพยาบาลบัตรทองทำยังไง": "gold_card",
    "บัตรสวัสดิการแห่งรัฐจะเปิดลงทะเบียนอีกเมื่อไหร่": "state_welfare_card",
    "บัตรคนจนเงินเข้าวันไหน": "state_welfare_card",
    "อยากเปลี่ยนนามสกุลตามสามี": "name_change",
    "โอนที่ดินให้ลูกเสียค่าธรรมเนียมเท่าไหร่": "land_office",
}


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(CONTENT)


@pytest.mark.parametrize(("question", "rid"), ASKED.items())
def test_a_question_for_another_agency_is_referred_to_it(understanding: Understanding, question: str, rid: str) -> None:
    reading = understanding.read(question)
    assert (reading.intent, reading.referral_id) == ("referral", rid), reading


def test_a_welfare_card_holder_asking_about_the_disability_allowance_gets_the_allowance(
    understanding: Understanding,
) -> None:
    """The referral names the card; a question about the municipality's own allowance is still answered."""
    reading = understanding.read("ลูกพิการแต่บ้านเราไม่ได้บัตรสวัสดิการแห่งรัฐ ยังรับเบี้ยความพิการได้ไหมคะ")
    assert (reading.intent, reading.service_id) == ("service", "disability_allowance"), reading


# Near a referral's words or meaning, and not that agency's work.
NOT_REFERRED = {
    "คุณชื่ออะไร": None,  # chit-chat, close to "เปลี่ยนชื่อตัว" by meaning only
    "ขายทองที่ไหนได้ราคาดี": None,  # gold, not the gold card
    "เปลี่ยนชื่อเจ้าของป้าย": "signboard_tax",  # the municipality's own tax, not a person's name
}


@pytest.mark.parametrize(("question", "service"), NOT_REFERRED.items())
def test_a_question_only_close_to_a_referral_is_not_sent_there(
    understanding: Understanding, question: str, service: str | None
) -> None:
    reading = understanding.read(question)
    assert reading.referral_id is None and reading.service_id == service, reading


def test_office_intent_has_a_dozen_phrasings() -> None:
    examples = CONTENT.intents["office"]
    assert len(examples) >= 12
    assert {"ขอเบอร์โทรเทศบาล", "เทศบาลเปิดกี่โมง", "วันเสาร์เปิดไหม", "พรุ่งนี้หยุดไหม"} <= set(examples)


@pytest.mark.parametrize("rid", REFERRAL_IDS)
def test_every_referral_answers_with_its_agency(rid: str) -> None:
    referral = CONTENT.referrals[rid]
    message = referral_reply(BUILDER, referral)
    assert AGENCY[rid] in message["text"]
    assert "{" not in message["text"] and CONTENT.municipality.short_name not in ("", None)
    chips = [item["action"] for item in message["quickReply"]["items"]]
    assert any(c.get("text") == "เมนู" for c in chips), chips  # the way back to the menu
    related = [c["data"] for c in chips if c.get("data", "").startswith("action=svc")]
    assert related == [f"action=svc&id={s.id}" for s in referral.related]


@pytest.mark.parametrize("rid", REFERRAL_IDS)
def test_every_hotline_in_an_answer_is_in_its_sources(rid: str) -> None:
    """A number the bot gives residents was found in a cited source, never typed from memory."""
    referral = CONTENT.referrals[rid]
    cited = " ".join(referral.sources)
    for number in re.findall(r"(?<!\d)1\d{2,3}(?!\d)", referral.answer):
        assert number in cited, f"{rid}: {number} has no source"


def test_a_referral_offering_a_report_has_the_report_chip() -> None:
    message = referral_reply(BUILDER, CONTENT.referrals["electricity"])
    assert any(i["action"].get("data") == "action=menu.report" for i in message["quickReply"]["items"])


def test_municipality_details_are_filled_into_answers() -> None:
    assert CONTENT.municipality.short_name in CONTENT.referrals["vehicle_tax"].answer


# -- validation ------------------------------------------------------------------------------------------

BROKEN_REFERRALS = """\
referrals:
  passport:
    name: ทำพาสปอร์ต
    examples: [ทำพาสปอร์ต, ต่อพาสปอร์ต]
    answer: |-
      ไปที่กรมการกงสุลค่ะ
      โทร {hotline}
    related: [no_such_service]
    colour: red
    sources: [https://example.org]
  Bad-Id:
    name: x
  police:
    name: ตำรวจ
    examples: [แจ้งความ, โดนขโมย, รถหาย, ของหาย, ทำพาสปอร์ต]
    answer: โทร 191
    sources: [https://example.org]
"""


def test_broken_referrals_are_reported_with_file_and_line(content_copy: Path) -> None:
    file = content_copy / "referrals.yaml"
    file.write_text(BROKEN_REFERRALS, encoding="utf-8")
    content, errors = check_content(content_copy)
    assert content is None
    expected = [
        (4, "give at least 5 ways residents ask"),
        (7, "unknown placeholder {hotline}"),
        (8, "unknown service 'no_such_service'"),
        (9, "unknown field 'colour'"),
        (11, "referral id 'Bad-Id' must be lower-case"),
        (15, "'ทำพาสปอร์ต' is already an example of 'passport'"),
    ]
    for line, reason in expected:
        assert any(e.startswith(f"{file}:{line}: ") and reason in e for e in errors), (line, reason, errors)


def test_broken_office_cues_are_reported_with_file_and_line(content_copy: Path) -> None:
    file = content_copy / "office.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("  where: [", "  wherever: ["), encoding="utf-8")
    _, errors = check_content(content_copy)
    line = 1 + text.splitlines().index(next(x for x in text.splitlines() if x.startswith("  where: [")))
    assert any(e.startswith(f"{file}:{line}: ") and "unknown topic 'wherever'" in e for e in errors), errors
    assert any("'where' is required in 'topics'" in e for e in errors)


def test_content_check_cli_refuses_a_broken_referral(content_copy: Path, tmp_path: Path) -> None:
    (content_copy / "referrals.yaml").write_text(BROKEN_REFERRALS, encoding="utf-8")
    env = cli_env(tmp_path / "var", HOME=str(tmp_path))
    result: subprocess.CompletedProcess[str] = run_cli(env, "content", "check", "--dir", str(content_copy))
    assert result.returncode == 1
    assert f"{content_copy / 'referrals.yaml'}:9: unknown field 'colour'" in result.stdout


# -- the office ------------------------------------------------------------------------------------------


def _answer(
    text: str, today: dt.date = THURSDAY, content: Content = CONTENT, calendar: WorkingCalendar = CALENDAR
) -> str:
    message = office_reply(content, MessageBuilder(content), text, today, calendar)
    return str(message["text"])


def _phrase(phrase_id: str, **params: str) -> str:
    return CONTENT.phrases[phrase_id].format_map({**CONTENT.municipality.placeholders(), **params})


def test_phone() -> None:
    answer = _answer("ขอเบอร์โทรเทศบาล")
    assert answer == _phrase("office_phone")
    assert CONTENT.municipality.phone in answer


def test_hours() -> None:
    assert _answer("เทศบาลเปิดกี่โมง") == _phrase("office_hours")


def test_where() -> None:
    assert CONTENT.municipality.address in _answer("สำนักงานอยู่ที่ไหน")


def test_a_message_with_no_cue_gets_the_whole_card() -> None:
    answer = _answer("เทศบาล")
    for value in (CONTENT.municipality.address, CONTENT.municipality.phone, CONTENT.municipality.office_hours):
        assert value in answer


def test_a_saturday_is_closed_with_the_next_working_day() -> None:
    saturday = dt.date(2026, 11, 28)
    answer = _answer("วันเสาร์เปิดไหม", today=dt.date(2026, 11, 26))
    assert answer.splitlines() == [
        _phrase("office_day_weekend", date=thai_date(saturday)),
        _phrase("office_next_open", working_date=thai_date(dt.date(2026, 11, 30))),
    ]
    assert "2569" in answer  # Buddhist era


def test_a_public_holiday_is_named_and_the_next_working_day_skips_the_substitute() -> None:
    answer = _answer("วันที่ 7 ธ.ค. เปิดไหม")
    assert answer.splitlines() == [
        _phrase("office_day_holiday", date=thai_date(dt.date(2026, 12, 7)), title="ชดเชยวันพ่อแห่งชาติ"),
        _phrase("office_next_open", working_date="วันอังคาร 8 ธันวาคม 2569"),
    ]


def test_a_working_day_is_open_with_the_hours() -> None:
    answer = _answer("พรุ่งนี้หยุดไหม")
    tomorrow = _phrase("office_day_tomorrow", date="วันศุกร์ 4 ธันวาคม 2569")
    assert answer.splitlines()[0] == _phrase("office_day_open", date=tomorrow)
    assert CONTENT.municipality.office_hours in answer


def test_today_open_has_no_note_about_later_holidays() -> None:
    answer = _answer("วันนี้เปิดไหม")
    assert answer == _phrase("office_day_open", date=_phrase("office_day_today", date=thai_date(THURSDAY)))


def test_weekday_hours_question_answers_for_that_day() -> None:
    question = read_office_question(CONTENT.office, "วันจันทร์เปิดกี่โมง", THURSDAY)
    assert question.topics == (OfficeTopic.OPEN_DAY,) and question.day == dt.date(2026, 12, 7)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("วันนี้เปิดไหม", dt.date(2026, 12, 3)),
        ("พรุ่งนี้เปิดไหม", dt.date(2026, 12, 4)),
        ("มะรืนนี้เปิดไหม", dt.date(2026, 12, 5)),
        ("วันพฤหัสเปิดไหม", dt.date(2026, 12, 3)),  # today is Thursday
        ("วันพุธเปิดไหม", dt.date(2026, 12, 9)),
        ("5 ธันวาคม 2569 เปิดไหม", dt.date(2026, 12, 5)),
        ("๕ ธ.ค. ๖๙ เปิดไหม", dt.date(2026, 12, 5)),
        ("1 ม.ค. เปิดไหม", dt.date(2027, 1, 1)),  # no year: the next 1 January
        ("10/12 เปิดไหม", dt.date(2026, 12, 10)),
        ("วันที่ 2 เปิดไหม", dt.date(2027, 1, 2)),  # the 2nd has passed this month
        ("31 กุมภาพันธ์ เปิดไหม", None),
        ("เปิดกี่โมง", None),
    ],
)
def test_the_day_asked_about(text: str, day: dt.date | None) -> None:
    assert asked_day(CONTENT.office, office_words(text), THURSDAY) == day


def test_extra_holidays_and_working_days_of_calendar_yaml(content_copy: Path) -> None:
    (content_copy / "calendar.yaml").write_text(
        "extra_holidays:\n  - {date: 2026-12-04, name: วันสถาปนาเทศบาล}\n  - 2026-12-11\nworking_days: [2026-12-07]\n",
        encoding="utf-8",
    )
    content = load_content(content_copy)
    calendar = calendar_from(content.extra_holidays, content.working_days)
    assert _answer("พรุ่งนี้เปิดไหม", content=content, calendar=calendar).splitlines()[0] == _phrase(
        "office_day_local", date=_phrase("office_day_tomorrow", date="วันศุกร์ 4 ธันวาคม 2569"), title="วันสถาปนาเทศบาล"
    )
    assert _phrase("office_day_closed", date="วันศุกร์ 11 ธันวาคม 2569") in _answer(
        "11 ธ.ค. เปิดไหม", content=content, calendar=calendar
    )
    # The substitute holiday the office works this year: open, and the reply after Saturday says Monday.
    assert _answer("7/12 เปิดไหม", content=content, calendar=calendar).startswith(
        _phrase("office_day_open", date="วันจันทร์ 7 ธันวาคม 2569")
    )
    assert "วันจันทร์ 7 ธันวาคม 2569" in _answer("วันเสาร์เปิดไหม", content=content, calendar=calendar)
