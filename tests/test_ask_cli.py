"""`python -m bot ask`: offline answers, one JSON object per stdin line, with everything the reader decided."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.content import load_content
from bot.handlers.services.ask import OfflineChat, flow_of
from bot.handlers.services.qa import QuestionAnswering
from bot.nlp.understand import Reading
from tests.chatting import opening
from tests.serving import ROOT, cli_env, run_cli

FIELDS = {
    "text",
    "intent",
    "service_id",
    "score",
    "candidates",
    "flow",
    "offered",
    "report_type",
    "faq_id",
    "referral_id",
    "reference",
    "aspect",
    "follow_up",
    "embedded",
    "reply",
    "chips",
}
LONG = "ถนนในซอย 15 ชำรุดเสียหายมานาน " * 200  # 6,000 characters: a webboard post pasted whole


@pytest.fixture(scope="module")
def qa() -> QuestionAnswering:
    return QuestionAnswering.from_content(load_content(ROOT / "content"))


def test_ask_reads_stdin_and_prints_one_json_line_per_input_line(tmp_path: Path) -> None:
    questions = "ขออนุญาติสร้างบ้านใช้เวลากี่วัน\nหวยงวดนี้ออกอะไร\n\nสวัสดีค่ะ\n"
    result = run_cli(cli_env(tmp_path), "ask", "--json", stdin=questions)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    # The empty line keeps its place, so the n-th answer is the n-th question's.
    assert [line["text"] for line in lines] == ["ขออนุญาติสร้างบ้านใช้เวลากี่วัน", "หวยงวดนี้ออกอะไร", "", "สวัสดีค่ะ"]
    assert all(set(line) == FIELDS for line in lines)
    assert lines[0]["intent"] == "service" and lines[0]["service_id"] == "building_permit"
    assert "45 วัน" in lines[0]["reply"]
    assert lines[0]["candidates"][0] == {"id": "building_permit", "score": lines[0]["score"]}
    assert lines[1]["service_id"] is None and lines[1]["intent"] in ("out_of_scope", "clarify", "referral")
    assert lines[2]["service_id"] is None and lines[2]["reply"]  # an empty message still gets a polite answer
    assert lines[3]["intent"] == "greeting" and lines[3]["reply"]


def test_ask_without_json_on_stdin_still_prints_json(tmp_path: Path) -> None:
    result = run_cli(cli_env(tmp_path), "ask", stdin="ภาษีป้าย\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["service_id"] == "signboard_tax"


def test_ask_with_text_prints_the_reply(tmp_path: Path) -> None:
    result = run_cli(cli_env(tmp_path), "ask", "แจ้งเกิดลูกต้องไปภายในกี่วัน")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("แจ้งเกิด")
    assert "15 วัน" in result.stdout


def test_a_5000_character_line_and_a_broken_byte_are_answered(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = (LONG[:5000] + "\n").encode() + b"\xff\xfe broken\n" + "เบี้ย\n".encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    started = time.perf_counter()
    assert main(["ask", "--json"]) == 0
    elapsed = time.perf_counter() - started
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and len(lines[0]["text"]) == 5000 and lines[0]["reply"]
    assert "broken" in lines[1]["text"] and lines[1]["reply"]
    assert elapsed < 30  # content loading included; the reading itself is milliseconds


async def _record(qa: QuestionAnswering, message: str) -> dict[str, object]:
    chat = await OfflineChat.open(qa)
    try:
        return await chat.record(message)
    finally:
        await chat.close()


async def test_which_one_shows_its_candidates_as_chips(qa: QuestionAnswering) -> None:
    record = await _record(qa, "เบี้ย")
    assert record["intent"] == "clarify" and record["service_id"] is None
    offered = [qa.content.services[c["id"]].label for c in record["candidates"]]
    assert record["chips"] == offered and len(offered) >= 2
    assert record["flow"] is None


def test_the_flow_is_named_for_report_and_opinion_readings() -> None:
    assert flow_of(Reading(text="ไฟดับ", intent="report", report_type="streetlight")) == "report"
    assert flow_of(Reading(text="อยากให้มีตลาด", intent="opinion")) == "opinion"
    assert flow_of(Reading(text="ภาษีป้าย", intent="service", service_id="signboard_tax")) is None


async def test_every_reading_field_reaches_the_record(qa: QuestionAnswering, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fields the reader fills (faq, referral, reference, report type) are printed as the reader gave them."""
    reading = Reading(
        text="สถานะเรื่อง 2569-00001",
        intent="my_cases",
        score=0.9,
        faq_id="signboard_tax.late_fine",
        report_type="road",
        referral_id="passport",
        reference="2569-00001",
        aspect="fees",
        follow_up=True,
        embedded=True,
    )
    monkeypatch.setattr(qa, "read", lambda text, context_service=None: reading)
    record = await _record(qa, "สถานะเรื่อง 2569-00001")
    assert record["faq_id"] == "signboard_tax.late_fine" and record["referral_id"] == "passport"
    assert record["reference"] == "2569-00001" and record["report_type"] == "road"
    assert record["aspect"] == "fees" and record["follow_up"] is True and record["embedded"] is True
    assert record["intent"] == "my_cases" and record["flow"] is None and record["reply"]


async def test_ask_answers_as_the_chat_does_through_the_same_routers(qa: QuestionAnswering) -> None:
    """A problem starts the report flow (its privacy notice first, for a resident writing for the first time),
    a wish the opinion flow, "ติดตามเรื่อง" the resident's (empty) list of cases: the replies the routers give
    in LINE, not stand-ins; and nothing is kept between messages."""
    content = qa.content
    chat = await OfflineChat.open(qa)
    try:
        problem = await chat.record("ไฟถนนหน้าบ้านดับ 3 วันแล้ว")
        wish = await chat.record("อยากให้มีตลาดชุมชน")
        cases = await chat.record("ติดตามเรื่อง")
        again = await chat.record("ไฟถนนหน้าบ้านดับ 3 วันแล้ว")
    finally:
        await chat.close()
    assert problem["flow"] == "report" and str(problem["reply"]).startswith(opening(content, "report_consent_lead"))
    assert wish["flow"] == "opinion" and str(wish["reply"]).startswith(opening(content, "opinion_consent_lead"))
    assert cases["intent"] == "my_cases" and str(cases["reply"]).startswith(opening(content, "cases_none"))
    assert again["reply"] == problem["reply"]  # the first message's consent and flow were not kept
