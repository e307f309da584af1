"""A problem told at length is typed by its subject words when they and the examples agree, without the
embedding; otherwise the embedding still reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import load_content
from bot.nlp import semantic
from bot.nlp.topics import ReportTopics
from bot.nlp.understand import Understanding

ROOT = Path(__file__).resolve().parent.parent


def _one_word(word: str) -> int:
    return 1 if " " not in word and word not in ("ท่อระบายน้ำ",) else 2


def test_longer_subjects_weigh_more_and_are_not_counted_twice() -> None:
    topics = ReportTopics({"waste": ("ขยะ",), "nuisance": ("เผาขยะ",), "drainage": ("ท่อระบายน้ำ",)}, _one_word)
    # "ขยะ" inside "เผาขยะ" is the nuisance's, not also the waste's.
    vote = topics.vote(["ข้างบ้าน", "เผาขยะ", "ทุกวัน"], "ข้างบ้านเผาขยะทุกวัน")
    assert (vote.report_type, vote.weight, vote.runner_up, vote.clear) == ("nuisance", 6.0, 0.0, True)
    # A subject the tokenizer splits is looked for in the text without spaces.
    vote = topics.vote(["ท่อ", "ระบาย", "น้ำ", "ตัน", "ขยะ"], "ท่อระบายน้ำตันขยะ")
    assert (vote.report_type, vote.weight, vote.runner_up, vote.clear) == ("drainage", 11.0, 3.0, True)
    assert topics.vote(["สวัสดี"], "สวัสดี").report_type is None


def test_two_subjects_named_as_strongly_are_not_clear() -> None:
    topics = ReportTopics({"road": ("ทางเท้า",), "other": ("กีดขวาง",)}, _one_word)
    vote = topics.vote(["รถ", "จอด", "บน", "ทางเท้า", "กีดขวาง"], "รถจอดบนทางเท้ากีดขวาง")
    assert not vote.clear


def test_a_subject_inside_a_compound_word_counts() -> None:
    topics = ReportTopics({"street_light": ("ไฟถนน",)}, _one_word, frozenset({"ไฟถนนดับ"}))
    assert topics.vote(["ไฟถนนดับ", "มืด"], "ไฟถนนดับมืด").report_type == "street_light"
    # Not inside an ordinary word: "หมา" is not found in "หมายเลข".
    assert ReportTopics({"nuisance": ("หมา",)}, _one_word).vote(["หมายเลข"], "หมายเลข").report_type is None


@pytest.fixture(scope="module")
def reader() -> Understanding:
    return Understanding(load_content(ROOT / "content"))


LONG_PROBLEM = (
    "เรียนเจ้าหน้าที่ค่ะ บ้านอยู่ท้ายซอยวัดใหม่ หมู่ 4 มาสามปีแล้ว ช่วงนี้ท่อระบายน้ำหน้าบ้านอุดตันมาหลายเดือน"
    " ฝนตกทีไรน้ำท่วมขังหน้าบ้าน เด็ก ๆ เดินไปโรงเรียนลำบากมาก รบกวนช่วยมาดูให้หน่อยนะคะ"
)


def test_a_long_problem_named_clearly_is_typed_by_its_words(reader: Understanding) -> None:
    reading = reader.read(LONG_PROBLEM)
    assert (reading.intent, reading.report_type) == ("report", "drainage")
    assert not reading.embedded


@pytest.mark.skipif(not semantic.available(), reason="the embedding model cannot run on this CPU")
def test_unclear_words_still_embed(reader: Understanding) -> None:
    # Road and obstruction named as strongly: the words do not settle it, the model is asked.
    reading = reader.read("อู่ซ่อมรถแถวตลาดนำรถมาจอดซ่อมบนทางเท้าทุกวัน กีดขวางคนเดินเท้า ต้องเดินลงถนนอันตรายมาก")
    assert reading.embedded
    # A question about a problem is not settled by its words either.
    assert reader.read("ท่อระบายน้ำหน้าบ้านอุดตันมานาน ต้องแจ้งที่ไหนคะ แจ้งยังไง").embedded


@pytest.mark.parametrize("text", ["ถนนแตกเป็นทาง", "ขยะล้นถังหน้าบ้าน", "กลิ่นรบกวนจากร้านข้างบ้าน"])
def test_a_subject_word_keeps_the_problem_cue_inside_it(reader: Understanding, text: str) -> None:
    # The dictionary keeps "ถนนแตก" whole; its "แตก" is a problem all the same.
    assert reader.cues(reader.canonical(text)).problem


def test_a_service_that_takes_no_reports_is_not_read_as_a_report_by_its_words(reader: Understanding) -> None:
    reading = reader.read("ฟาร์มไก่ขอใบอนุญาตกิจการที่เป็นอันตรายต่อสุขภาพ ใบอนุญาตหมดอายุแล้ว เดือดร้อน")
    assert reading.intent != "report"
