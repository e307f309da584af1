"""Thai understanding: normalizer properties, the tokenizer's domain words, and questions that must map to
their service (or be refused)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content import load_content
from bot.delivery.limits import TEXT_MAX_UTF16
from bot.nlp import semantic
from bot.nlp.normalize import normalize
from bot.nlp.tokenize import Tokenizer
from bot.nlp.understand import Understanding

ROOT = Path(__file__).resolve().parent.parent
CONTENT = load_content(ROOT / "content")
UNDERSTANDING = Understanding(CONTENT)
THAI_MARKS = [chr(c) for c in range(0x0E31, 0x0E4F) if unicodedata.category(chr(c)) == "Mn"]

thai_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0E01, max_codepoint=0x0E5B),
        st.sampled_from([" ", "\n", "\u200b", "\u202e", "\u2066", "\x00", "\t", "A", "z", "๑", "5", "😀", "\ufeff"]),
    ),
    max_size=80,
)


@settings(max_examples=400, deadline=None)
@given(thai_text)
def test_normalize_is_idempotent_and_never_crashes(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_normalize_handles_any_unicode(text: str) -> None:
    result = normalize(text)
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" for ch in result)
    assert len(result.encode("utf-16-le")) // 2 <= TEXT_MAX_UTF16


@given(st.sampled_from(["กิน", "ที่", "ใช่", "น้ำ", "ปั่น", "ยั่งยืน", "ไม้", "เบี้ย", "อนุญาต", "ค่ะ"]))
def test_thai_combining_marks_survive(word: str) -> None:
    marks = [ch for ch in word if ch in THAI_MARKS]
    assert [ch for ch in normalize(word) if ch in THAI_MARKS] == marks


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ขอบคุณมากกกกก", "ขอบคุณมาก"),
        ("เเจ้งเกิด", "แจ้งเกิด"),
        ("ทํา", "ทำ"),
        ("ภาษี\u200bป้าย", "ภาษีป้าย"),
        ("๑๒๓ บาท", "123 บาท"),
        ("  Building   PERMIT ", "building permit"),
        ("ร้าน\u202eค้า", "ร้านค้า"),
        ("ดีค่ะ\n\nขอถาม", "ดีค่ะ\nขอถาม"),
    ],
)
def test_normalize_cases(raw: str, clean: str) -> None:
    assert normalize(raw) == clean


def test_long_runs_of_one_letter_are_quick() -> None:
    import time

    text = "ก" * 5000
    started = time.perf_counter()
    reading = UNDERSTANDING.read(text)
    assert time.perf_counter() - started < 0.5
    assert reading.intent in ("out_of_scope", "clarify", "service")


def test_tokenizer_keeps_domain_words_whole() -> None:
    tokenizer = Tokenizer(["เบี้ยยังชีพ", "ใบอนุญาตก่อสร้าง"])
    assert "เบี้ยยังชีพ" in tokenizer.words("ลงทะเบียนเบี้ยยังชีพที่ไหน")
    assert "ใบอนุญาตก่อสร้าง" in tokenizer.words("ขอใบอนุญาตก่อสร้างกี่วัน")


# Questions that must keep their answer whatever else changes (from the issue and from residents).
MUST_HOLD = [
    ("ขออนุญาติสร้างบ้านใช้เวลากี่วัน", "building_permit"),
    ("เบี้ยคนแก่ได้เดือนละกี่บาท", "elderly_allowance"),
    ("แจ้งเกิดลูกต้องไปภายในกี่วัน", "birth_registration"),
    ("ภาษีป้ายต้องยื่นเดือนไหน", "signboard_tax"),
    ("ย้ายทะเบียนบ้านใช้อะไรบ้าง", "move_registration"),
    ("จดทะเบียนพาณิชย์ที่ไหน", "commercial_registration"),
    ("เงินเด็กแรกเกิดได้เท่าไหร่", "newborn_grant"),
    ("แจ้งตายภายในกี่ชั่วโมง", "death_registration"),
    ("บัตรประชาชนหาย", "id_card"),
    ("สำหรับคนพิการที่ไม่ผ่านบัตรสวัสดิการแห่งรัฐ เบี้ยพิการยังเข้าอยู่ไหม", "disability_allowance"),
]

# Problems told in residents' words start the report flow with the type already chosen (issue 15).
PROBLEMS = [
    ("ไฟถนนหน้าบ้านดับ", "street_light"),
    ("ไฟถนนหน้าบ้านดับ 3 วันแล้ว", "street_light"),
    ("ถนนในซอย 15 ชำรุดเสียหายมานาน เป็นหลุมเป็นบ่อ", "road"),
    ("น้ำประปาไม่ไหล", "water"),
    ("หมาจรจัดเยอะมาก ไล่กัดเด็ก", "nuisance"),
    ("รถขยะไม่มาเก็บขยะสามวันแล้ว ส่งกลิ่นเหม็น", "waste"),
]


@pytest.mark.parametrize(("message", "report_type"), PROBLEMS)
def test_problems_start_the_report_flow_with_their_type(message: str, report_type: str) -> None:
    reading = UNDERSTANDING.read(message)
    assert (reading.intent, reading.report_type) == ("report", report_type), reading


@pytest.mark.parametrize("message", ["อยากให้มีตลาดชุมชน", "ควรจะมีสวนสาธารณะให้คนแก่ออกกำลังกาย"])
def test_wishes_start_the_opinion_flow(message: str) -> None:
    assert UNDERSTANDING.read(message).intent == "opinion"


def test_regional_words_are_read_as_the_standard_ones() -> None:
    # Isan "บ่" and the everyday "เบี้ยคนแก่" for the elderly allowance; "ยะ" (Northern "do") is a word of its own,
    # never the end of "ขยะ".
    assert UNDERSTANDING.canonical("เบี้ยคนแก่ได้บ่") == "เบี้ยผู้สูงอายุได้ไหม"
    assert "ขยะ" in UNDERSTANDING.canonical("ขยะล้น")
    assert UNDERSTANDING.read("เบี้ยคนแก่ลงทะเบียนหม่องได๋").service_id == "elderly_allowance"


def test_a_long_post_is_read_by_the_part_that_asks() -> None:
    context = "ดิฉันอาศัยอยู่กับแม่ที่หมู่บ้านนี้มาตั้งแต่เด็ก ทุกวันต้องตื่นเช้าไปทำงานที่ตลาด กลับบ้านค่ำทุกวัน " * 22
    post = context + " อยากถามว่าแจ้งเกิดลูกต้องไปภายในกี่วันคะ"
    assert len(post) > 2000
    reading = UNDERSTANDING.read(post)
    assert (reading.intent, reading.service_id) == ("service", "birth_registration"), reading


def test_a_typed_reference_asks_for_that_case() -> None:
    reading = UNDERSTANDING.read("สถานะเรื่อง 2569-00001")
    assert (reading.intent, reading.reference) == ("my_cases", "2569-00001")


def test_a_passport_question_is_referred_and_a_penalty_is_about_its_service() -> None:
    assert UNDERSTANDING.read("ทำพาสปอร์ตที่ไหน").intent == "referral"
    reading = UNDERSTANDING.read("ยื่นภาษีป้ายช้าปรับเท่าไหร่")
    assert reading.service_id == "signboard_tax"


@pytest.mark.parametrize(("question", "service"), MUST_HOLD)
def test_questions_map_to_their_service(question: str, service: str) -> None:
    reading = UNDERSTANDING.read(question)
    assert (reading.intent, reading.service_id) == ("service", service), reading


@pytest.mark.parametrize("question", ["ต่อภาษีรถยนต์ประจำปี", "ทำพาสปอร์ตที่ไหน", "หวยงวดนี้ออกอะไร", "พรุ่งนี้ฝนตกไหม", "asdfgh"])
def test_out_of_scope_is_not_answered_as_a_service(question: str) -> None:
    assert UNDERSTANDING.read(question).intent in ("out_of_scope", "clarify", "referral")


def test_follow_up_uses_the_service_in_context() -> None:
    reading = UNDERSTANDING.read("ต้องใช้เอกสารอะไรบ้างคะ", context_service="house_number")
    assert (reading.service_id, reading.aspect, reading.follow_up) == ("house_number", "documents", True)
    # Without context the same words are not about any one service.
    assert UNDERSTANDING.read("ต้องใช้เอกสารอะไรบ้างคะ").service_id is None
    # A question naming another service is not a follow-up, even with context.
    other = UNDERSTANDING.read("แจ้งเกิดต้องใช้เอกสารอะไร", context_service="house_number")
    assert other.service_id == "birth_registration" and not other.follow_up


@pytest.mark.parametrize(
    ("question", "service", "follow_up"),
    [
        # All question words (penalties and fees): the land tax the chat was about.
        ("ถ้ายื่นช้าต้องเสียเพิ่มเท่าไหร่", "land_building_tax", True),
        # Close to a signboard tax example as a whole, but it names no other service.
        ("ยื่นช้าโดนปรับไหม", "land_building_tax", True),
        # What is left besides the question words names the signboard tax.
        ("ป้ายโดนปรับไหม", "signboard_tax", False),
        ("ภาษีป้ายเท่าไหร่", "signboard_tax", False),
    ],
)
def test_a_follow_up_is_about_the_service_in_context_unless_another_is_named(
    question: str, service: str, follow_up: bool
) -> None:
    reading = UNDERSTANDING.read(question, context_service="land_building_tax")
    assert (reading.service_id, reading.follow_up) == (service, follow_up), reading


def test_commands_and_intents() -> None:
    assert UNDERSTANDING.read(" เมนู ").intent == "menu"
    assert UNDERSTANDING.read("ยกเลิก").intent == "cancel"
    assert UNDERSTANDING.read("สวัสดีค่ะ").intent == "greeting"
    assert UNDERSTANDING.read("ขอบคุณครับ").intent == "thanks"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_clean_text_is_idempotent_and_drops_controls(text: str) -> None:
    from bot.nlp.normalize import clean_text

    once = clean_text(text, 100)
    assert clean_text(once, 100) == once
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" for ch in once)
    assert len(once.encode("utf-16-le")) // 2 <= 100


def test_clean_text_keeps_the_residents_spelling() -> None:
    from bot.nlp.normalize import clean_text

    assert clean_text("ถนน\u202eพังงงง ABC\u200b\n") == "ถนนพังงงง ABC"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600) | st.text(alphabet="กขคงจาิีึืุูเแโใไ่้๊๋็์ๆ๕ ", max_size=5000))
def test_any_text_goes_through_the_whole_reading_pipeline(text: str) -> None:
    """Whatever a resident types (any Unicode, long runs of Thai marks) is read and answered without an
    exception. How fast: bench/hostile_text.py."""
    from bot.handlers.services.qa import QuestionAnswering
    from bot.nlp.normalize import clean_text

    qa = _QA.setdefault("qa", QuestionAnswering.from_content(CONTENT))
    assert qa.reply_for(qa.read(text))
    assert len(clean_text(text)) <= len(text) + 1


_QA: dict[str, object] = {}


def test_the_model_reads_words_not_emoji() -> None:
    """Emoji cost the model two or three tokens each and name no service: it is given the words only, and a
    message of emoji alone is read by characters without an embedding (bot.nlp.semantic.readable)."""
    assert semantic.readable("📢🔊🌉แจ้งทางเท้าชำรุด 🚶🚶‍♀️ เป็นร่อง") == "แจ้งทางเท้าชำรุด เป็นร่อง"
    assert len(semantic.readable("ถนน" * 100)) == semantic.MAX_QUERY_CHARS
    assert not semantic.has_words("😀" * 3000) and not semantic.has_words("123 !!! ❤️")
    assert semantic.readable("1️⃣ ไฟถนนดับ") == "1 ไฟถนนดับ"  # the keycap's enclosing mark goes too
    assert semantic.has_words("." * 200 + "ไฟถนนดับ")  # letters anywhere count, not only in what the model reads
    reading = UNDERSTANDING.read("😀" * 3000)
    assert reading.intent == "out_of_scope" and not reading.embedded
