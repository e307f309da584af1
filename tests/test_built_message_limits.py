"""LINE's limits checked where messages are built, not first in the worker: every response of responses.yaml
(with sample parameters as long as the code lets them be), the service card, every answer and FAQ reply of
all 24 services, clarify, referral and office replies, hearing cards and carousels, report status pushes and
the resident's case list and case details, each built by the real builders and passed through both checks a
send meets: bot.delivery.line.check_messages (the bot's own, before any request) and the fake LINE's validation (the
LINE SDK's request models plus LINE's documented limits), the same function the fake applies to every push.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from linebot.v3.messaging import PushMessageRequest

from bot.chat.messages import MessageBuilder, WireMessage
from bot.chat.participation import MAX_DESCRIPTION_CHARS
from bot.content import ids, load_content
from bot.db.models import Hearing, Opinion, OpinionChange, Report, ReportStatus
from bot.delivery.line import check_messages
from bot.dev.fake_line import _LineError, _validate  # the fake's own validation, reused as it is
from bot.handlers.hearings import cards as hearing_cards
from bot.handlers.hearings.rules import AGENDA_MAX, INVITED_MAX, PLACE_MAX, TITLE_MAX, UPCOMING_SHOWN
from bot.handlers.reports.rules import status_messages
from bot.handlers.residents import cases
from bot.handlers.services.qa import DIRECT_ASPECTS, QuestionAnswering
from bot.nlp.retrieve import Match
from bot.nlp.understand import Reading

ROOT = Path(__file__).resolve().parent.parent
CONTENT = load_content(ROOT / "content")
NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
QA = QuestionAnswering(content=CONTENT, understanding=None, clock=lambda: NOW)  # type: ignore[arg-type]
BUILDER = MessageBuilder(CONTENT)
THAI = "ถนนหน้าบ้านเป็นหลุมลึก น้ำขังทุกครั้งที่ฝนตก รถจักรยานยนต์ล้มไปแล้วสองคัน "

# Each parameter as long as the code lets it be where it has a cap, else a plausible long value.
LONG: dict[str, str] = {
    "text": (THAI * 40)[:MAX_DESCRIPTION_CHARS],
    "title": (THAI * 5)[:TITLE_MAX],
    "place": (THAI * 5)[:PLACE_MAX],
    "invited": (THAI * 5)[:INVITED_MAX],
    "choices": "\n".join(f"{n} {THAI[:20]}" for n in range(1, 14)),
    "summary": THAI[:60],
    "note": THAI * 3,
    "detail": (THAI * 20)[:1000],
    "answer": THAI * 15,
    "reference": "ร-2569-00001",
    "url": "https://www.example.go.th/" + "a" * 200,
}


def _sample(name: str) -> str:
    return LONG.get(name, THAI[:40])


def _problems(messages: list[WireMessage]) -> str | None:
    """What the bot's own check or the fake LINE says about sending these messages in one push."""
    try:
        check_messages(messages)
        _validate(PushMessageRequest, {"to": "U" + "0" * 32, "messages": messages})
    except _LineError as exc:
        return f"{exc.message}: {exc.details}"
    except ValueError as exc:  # LineLimitError
        return str(exc)
    return None


def _assert_sendable(what: str, *messages: WireMessage) -> None:
    problem = _problems(list(messages))
    assert problem is None, f"{what}: {problem}"


def test_the_checks_refuse_what_line_refuses() -> None:
    """The two checks this file relies on do catch a broken message (else every test here passes vacuously)."""
    long_label = {"type": "action", "action": {"type": "message", "label": "ก" * 21, "text": "x"}}
    assert _problems([{"type": "text", "text": "x" * 5001}])
    assert _problems([{"type": "text", "text": "x", "quickReply": {"items": [long_label]}}])
    assert _problems([{"type": "flex", "altText": "", "contents": {"type": "bubble"}}])
    for action in ({"type": "postback", "label": "x", "data": "d" * 301}, {"type": "tap", "label": "x"}):
        assert _problems(
            [{"type": "text", "text": "x", "quickReply": {"items": [{"type": "action", "action": action}]}}]
        )
    many = [{"type": "action", "action": {"type": "message", "label": "x", "text": "x"}}] * 14
    assert _problems([{"type": "text", "text": "x", "quickReply": {"items": many}}])
    assert _problems([{"type": "flex", "altText": "x", "contents": {"type": "bubble", "body": {"x": "y" * 30_000}}}])


@pytest.mark.parametrize("response_id", sorted(CONTENT.responses))
def test_every_response_is_sendable(response_id: str) -> None:
    template = CONTENT.responses[response_id]
    _assert_sendable(response_id, BUILDER.text(response_id, **{p: _sample(p) for p in template.params}))


def test_every_declared_response_is_built_here() -> None:
    assert set(ids.MESSAGES) <= set(CONTENT.responses)


def _service_replies() -> Iterator[tuple[str, list[WireMessage]]]:
    aspects = {*ids.ANSWER_SECTIONS, *DIRECT_ASPECTS, "timeline"}
    for sid in CONTENT.services:
        yield f"{sid} card", QA.reply_for(Reading(text=sid, intent="service", service_id=sid), feedback_key=2**31)
        for aspect in sorted(aspects):
            reading = Reading(text=sid, intent="service", service_id=sid, aspect=aspect, follow_up=True)
            yield f"{sid} {aspect}", QA.reply_for(reading)
    for fid, entry in CONTENT.faq.items():
        reading = Reading(text=fid, intent="service", service_id=entry.service_id, faq_id=fid)
        yield f"faq {fid}", QA.reply_for(reading)


def test_service_cards_answers_and_faq_replies_are_sendable() -> None:
    built = list(_service_replies())
    assert len(CONTENT.services) == 24 and len(built) > 24 * 10
    for what, messages in built:
        _assert_sendable(what, *messages)


def test_clarify_referral_office_and_command_replies_are_sendable() -> None:
    services = sorted(CONTENT.services)
    for start in range(0, len(services), 3):  # the reader offers at most three services
        group = tuple(Match(label=sid, score=0.3) for sid in services[start : start + 3])
        _assert_sendable(f"clarify {start}", *QA.reply_for(Reading(text="?", intent="clarify", candidates=group)))
    for rid in CONTENT.referrals:
        _assert_sendable(f"referral {rid}", *QA.reply_for(Reading(text=rid, intent="referral", referral_id=rid)))
    for question in ("เทศบาลเปิดกี่โมง", "เบอร์โทรเทศบาล", "สำนักงานอยู่ที่ไหน", "วันเสาร์นี้เปิดไหม", "วันที่ 5 ธันวาคม เปิดไหม"):
        _assert_sendable(question, *QA.reply_for(Reading(text=question, intent="office")))
    for intent in ("menu", "help", "contact", "cancel", "greeting", "thanks", "x"):
        _assert_sendable(intent, *QA.reply_for(Reading(text=intent, intent=intent)))


def _hearing(number: int, **changes: Any) -> Hearing:
    hearing = Hearing(
        id=number,
        title=LONG["title"],
        starts_at=NOW + dt.timedelta(days=number),
        place=LONG["place"],
        latitude=15.2,
        longitude=104.8,
        agenda=(THAI * 40)[:AGENDA_MAX],
        invited=LONG["invited"],
        online_url="https://meet.example.go.th/" + "x" * 400,
        capacity=50,
        rsvp_enabled=True,
        created_by="staff",
    )
    for key, value in changes.items():
        setattr(hearing, key, value)
    return hearing


def test_hearing_cards_carousels_and_reminders_are_sendable() -> None:
    hearing = _hearing(1)
    for answer in (None, *ids.RSVP_ANSWERS):
        _assert_sendable(f"announcement {answer}", hearing_cards.announcement(CONTENT, hearing, answer, full=True))
    bare = _hearing(2, agenda=None, invited=None, online_url=None, latitude=None, longitude=None, rsvp_enabled=False)
    _assert_sendable("bare announcement", hearing_cards.announcement(CONTENT, bare))
    shown = [(_hearing(n), "maybe", True) for n in range(1, UPCOMING_SHOWN + 1)]
    _assert_sendable("carousel", BUILDER.text("hearing_upcoming", count="5"), hearing_cards.carousel(CONTENT, shown))
    _assert_sendable("reminder", hearing_cards.reminder(CONTENT, hearing))
    _assert_sendable("follow-up", hearing_cards.follow_up(CONTENT, hearing, LONG["note"]))


def test_report_status_pushes_are_sendable() -> None:
    for status in CONTENT.report_statuses:
        report = Report(reference="ร-2569-00001", status=status)
        _assert_sendable(f"status {status}", *status_messages(CONTENT, report, LONG["note"]))


class _Rows:
    """Answers the case handler's queries from lists, by the model each query selects."""

    def __init__(self, rows: dict[type, list[Any]], count: int) -> None:
        self._rows, self._count = rows, count

    async def scalars(self, statement: Any) -> list[Any]:
        return self._rows.get(statement.column_descriptions[0]["entity"], [])

    async def scalar(self, statement: Any) -> Any:
        rows = self._rows.get(statement.column_descriptions[0]["entity"])
        return rows[0] if rows else self._count  # one case by its reference, else a count


def _case_turn(rows: dict[type, list[Any]], count: int) -> SimpleNamespace:
    """The parts of a Turn the case handler reads: content, the builders, the resident and a session."""
    turn = SimpleNamespace(
        content=CONTENT,
        builder=BUILDER,
        qa=QA,
        resident=SimpleNamespace(id=1),
        session=_Rows(rows, count),
        replies=[],
        outcome=None,
    )
    turn.say = lambda response_id, **params: turn.replies.append(BUILDER.text(response_id, **params))
    return turn


def _cases() -> tuple[list[Report], list[Opinion]]:
    report_type = next(iter(CONTENT.report_types))
    division = CONTENT.municipality.divisions[0].id
    category = next(iter(CONTENT.categories))
    reports = [
        Report(
            id=n,
            reference=f"ร-2569-{n:05d}",
            type=report_type,
            division=division,
            status="in_progress",
            text=LONG["text"],
            created_at=NOW - dt.timedelta(days=n),
        )
        for n in range(1, 6)
    ]
    opinions = [
        Opinion(
            id=n,
            reference=f"ค-2569-{n:05d}",
            category=category,
            status="in_plan",
            text=LONG["text"],
            outcome_detail=LONG["detail"],
            created_at=NOW - dt.timedelta(days=n, hours=1),
        )
        for n in range(1, 6)
    ]
    return reports, opinions


async def test_the_case_list_and_case_details_are_sendable() -> None:
    reports, opinions = _cases()
    turn = _case_turn({Report: reports, Opinion: opinions}, count=40)
    await cases.show_cases(turn, None)  # type: ignore[arg-type]
    assert turn.outcome == "cases-listed:5"
    _assert_sendable("case list", *turn.replies)
    history: dict[type, list[Any]] = {
        Report: reports[:1],
        Opinion: opinions[:1],
        ReportStatus: [
            ReportStatus(status="in_progress", note=LONG["note"], changed_at=NOW - dt.timedelta(hours=h))
            for h in range(cases.HISTORY_SHOWN)
        ],
        OpinionChange: [
            OpinionChange(field="status", new="in_plan", changed_at=NOW - dt.timedelta(hours=h))
            for h in range(cases.HISTORY_SHOWN)
        ],
    }
    turn = _case_turn(history, count=1)
    await cases.show_cases(turn, "2569-00001")  # type: ignore[arg-type]
    assert turn.outcome == "case-shown" and len(turn.replies) == 2, turn.outcome
    _assert_sendable("case details", *turn.replies)
