"""เรื่องของฉัน: a resident follows up what they reported or proposed ("เรื่องที่แจ้งไว้ถึงไหนแล้ว", "ติดตามเรื่อง",
"สถานะเรื่อง ร-2569-00001", "2569-00001").

Without a reference: the latest few reports and opinions, newest first, each with its reference, date, what
it is about and where it stands, and a tap for each. With one: that case in detail with its history. Only
the resident's own cases are ever read: every query is filtered by the resident, so a reference of someone
else's case gets exactly the answer an unknown one gets (same text, same outcome, same queries), and the
reply never tells whether the number exists.

Free text reaches show_cases through the reader (intent my_cases, routed in bot/handlers/services/chat.py); taps
are ShowCases postbacks (bot/chat/postbacks.py): without a reference the list, with one that case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select

from bot.chat.dispatch import Router, Turn
from bot.chat.messages import WireMessage, postback_chip
from bot.chat.outcomes import Outcome, record
from bot.chat.participation import phrase
from bot.chat.postbacks import ShowCases
from bot.db.models import Opinion, OpinionChange, Report, ReportStatus
from bot.db.statuses import OpinionStatus, ReportState
from bot.delivery.limits import QUICK_REPLY_LABEL_MAX
from bot.handlers.opinions.rules import SUMMARY_CHARS
from bot.handlers.services.timeline import thai_short_date
from bot.nlp.intents import Intent
from bot.nlp.understand import Reading
from bot.references import Reference, parse_reference

router = Router("cases")

LISTED = 5  # with a tap each, and the report and opinion chips, within LINE's 13
DETAIL_CHARS = 300  # of the description, in the detail: the resident wrote it and knows the rest
HISTORY_SHOWN = 8  # the latest steps; with notes capped, the reply stays far below LINE's 5,000 units
NOTE_CHARS = 200

Case = TypeVar("Case", Report, Opinion)


@router.on_postback(ShowCases)
async def tapped(turn: Turn) -> None:
    """'ติดตามเรื่อง' (the list) or one of the list's taps (one case)."""
    tap = turn.tapped(ShowCases)
    typed = tap.reference if tap is not None else None
    if typed is None:
        await show_cases(turn, None)
        return
    reference = parse_reference(typed)
    if reference is None:
        turn.say("postback_expired")
        record(turn, Outcome.CASES_TAP_INVALID)
        return
    await show_cases(turn, str(reference))


@router.on_intent(Intent.MY_CASES)
async def from_reading(turn: Turn, reading: Reading) -> None:
    """Follow-ups typed ("ติดตามเรื่อง", "เรื่องที่แจ้งไว้ถึงไหนแล้ว") or a reference ("สถานะเรื่อง ร-2569-00001")."""
    await show_cases(turn, reading.reference)


async def show_cases(turn: Turn, reference: str | None) -> None:
    """The resident's latest cases, or the one case `reference` names if it is theirs (any typed form)."""
    if reference is None:
        await _show_list(turn)
        return
    wanted = parse_reference(reference)
    if wanted is None:
        await _show_list(turn)  # the reader saw a number that is no reference: the list is the useful answer
        return
    cases = await _own_by_reference(turn, wanted)
    if not cases:
        # The same words whether the number is unknown or someone else's.
        turn.say("case_not_found", reference=str(wanted))
        record(turn, Outcome.CASE_NOT_FOUND)
        return
    for case in cases:
        turn.replies.append(await _detail(turn, case))
    record(turn, Outcome.CASE_SHOWN)


# -- the list ----------------------------------------------------------------------------------------------


async def _show_list(turn: Turn) -> None:
    reports, opinions = await _latest(turn, Report), await _latest(turn, Opinion)
    found: list[Report | Opinion] = [*reports, *opinions]
    cases = sorted(found, key=_filed_order, reverse=True)[:LISTED]
    if not cases:
        turn.say("cases_none")
        record(turn, Outcome.CASES_NONE)
        return
    lines = [_line(turn, case) for case in cases]
    hidden = await _count(turn, Report) + await _count(turn, Opinion) - len(cases)
    if hidden > 0:
        lines.append(phrase(turn, "case_more", count=hidden))
    message = turn.builder.text("cases_list", cases="\n".join(lines))
    chips = [_case_chip(turn, case) for case in cases]
    message["quickReply"] = {"items": chips + message.get("quickReply", {}).get("items", [])}
    turn.replies.append(message)
    record(turn, Outcome.CASES_LISTED, len(cases))


def _line(turn: Turn, case: Report | Opinion) -> str:
    if isinstance(case, Report):
        return phrase(
            turn,
            "case_line_report",
            reference=case.reference,
            date=thai_short_date(case.created_at),
            kind=_report_type(turn, case),
            summary=_summary(turn, case, SUMMARY_CHARS),
            status=report_status(turn, case.status),
            office=_office(turn, case),
        )
    return phrase(
        turn,
        "case_line_opinion",
        reference=case.reference,
        date=thai_short_date(case.created_at),
        kind=_category(turn, case),
        summary=_summary(turn, case, SUMMARY_CHARS),
        status=opinion_status(turn, case.status),
    )


def _case_chip(turn: Turn, case: Report | Opinion) -> dict[str, Any]:
    """A tap for one case. Its stored reference names the kind (a report and an opinion may share a number);
    what it shows in the chat is what a resident without chips would type to get the same answer."""
    kind = "report" if isinstance(case, Report) else "opinion"
    label = phrase(turn, f"case_chip_{kind}", reference=case.reference)
    if len(label) > QUICK_REPLY_LABEL_MAX:
        label = case.reference[:QUICK_REPLY_LABEL_MAX]
    data = ShowCases(case.reference).pack()
    return postback_chip(label, data, phrase(turn, "case_chip_display", reference=case.reference))


# -- one case ----------------------------------------------------------------------------------------------


async def _detail(turn: Turn, case: Report | Opinion) -> WireMessage:
    if isinstance(case, Report):
        return turn.builder.text(
            "case_report",
            reference=case.reference,
            date=thai_short_date(case.created_at),
            kind=_report_type(turn, case),
            office=_office(turn, case),
            status=report_status(turn, case.status),
            summary=_summary(turn, case, DETAIL_CHARS),
            history=await _report_history(turn, case),
        )
    status = opinion_status(turn, case.status)
    if case.outcome_detail and case.status != OpinionStatus.WITHDRAWN:
        status = phrase(turn, "case_status_note", status=status, note=_cut(case.outcome_detail, NOTE_CHARS))
    return turn.builder.text(
        "case_opinion",
        reference=case.reference,
        date=thai_short_date(case.created_at),
        kind=_category(turn, case),
        status=status,
        summary=_summary(turn, case, DETAIL_CHARS),
        history=await _opinion_history(turn, case),
    )


async def _report_history(turn: Turn, report: Report) -> str:
    """Every status the report went through with staff's note (the note was pushed to the resident too)."""
    rows = list(
        await turn.session.scalars(
            select(ReportStatus)
            .where(ReportStatus.report_id == report.id)
            .order_by(ReportStatus.changed_at.desc(), ReportStatus.id.desc())
            .limit(HISTORY_SHOWN)
        )
    )
    steps = [(row.changed_at, report_status(turn, row.status), row.note) for row in reversed(rows)]
    return _history(turn, steps or [(report.created_at, report_status(turn, ReportState.RECEIVED), None)])


async def _opinion_history(turn: Turn, opinion: Opinion) -> str:
    """When it was received, then each outcome staff set. Staff notes and plan links stay with staff."""
    rows = list(
        await turn.session.scalars(
            select(OpinionChange)
            .where(OpinionChange.opinion_id == opinion.id, OpinionChange.field == "status")
            .order_by(OpinionChange.changed_at.desc(), OpinionChange.id.desc())
            .limit(HISTORY_SHOWN - 1)
        )
    )
    steps = [(opinion.created_at, opinion_status(turn, OpinionStatus.RECEIVED), None)]
    steps += [(row.changed_at, opinion_status(turn, row.new or ""), None) for row in reversed(rows)]
    return _history(turn, steps)


def _history(turn: Turn, steps: Sequence[tuple[dt.datetime, str, str | None]]) -> str:
    lines = []
    for at, status, note in steps:
        line = phrase(turn, "case_history_line", date=thai_short_date(at), status=status)
        lines.append(phrase(turn, "case_status_note", status=line, note=_cut(note, NOTE_CHARS)) if note else line)
    return "\n".join(lines)


# -- what the resident owns --------------------------------------------------------------------------------


async def _latest(turn: Turn, kind: type[Case]) -> list[Case]:
    if turn.resident is None:
        return []
    rows = await turn.session.scalars(
        select(kind).where(kind.resident_id == turn.resident.id).order_by(kind.id.desc()).limit(LISTED)
    )
    return list(rows)


async def _count(turn: Turn, kind: type[Case]) -> int:
    assert turn.resident is not None  # only asked once some case was found
    total = await turn.session.scalar(
        select(func.count()).select_from(kind).where(kind.resident_id == turn.resident.id)
    )
    return int(total or 0)


async def _own_by_reference(turn: Turn, wanted: Reference) -> list[Report | Opinion]:
    """The resident's report and opinion this reference may mean. Typed without a letter, a number both of
    their cases have shows both: both are theirs, and a second message costs less than a question back (which
    a resident on LINE for PC, without chips, would have to answer by typing). The queries are the same whoever
    the number belongs to, and filtered by the resident: nothing about other residents' cases is ever read."""
    found: list[Report | Opinion] = []
    if wanted.means("report") and (report := await _own_one(turn, Report, wanted)) is not None:
        found.append(report)
    if wanted.means("opinion") and (opinion := await _own_one(turn, Opinion, wanted)) is not None:
        found.append(opinion)
    return found


async def _own_one(turn: Turn, kind: type[Case], wanted: Reference) -> Case | None:
    stored = wanted.stored("report" if kind is Report else "opinion")
    if turn.resident is None or stored is None:
        return None
    return await turn.session.scalar(select(kind).where(kind.resident_id == turn.resident.id, kind.reference == stored))


# -- words -------------------------------------------------------------------------------------------------


def report_status(turn: Turn, status: str) -> str:
    """A report's status in the words of content/reports.yaml."""
    return turn.content.report_statuses.get(status, status)


def opinion_status(turn: Turn, status: str) -> str:
    """An opinion's status in the words of responses.yaml's status_* phrases."""
    key = f"status_{status}"
    return phrase(turn, key) if key in turn.content.phrases else status


def _report_type(turn: Turn, report: Report) -> str:
    kind = turn.content.report_types.get(report.type)
    return kind.label if kind else report.type


def _office(turn: Turn, report: Report) -> str:
    names = {d.id: d.name for d in turn.content.municipality.divisions}
    return names.get(report.division, report.division)


def _category(turn: Turn, opinion: Opinion) -> str:
    category = turn.content.categories.get(opinion.category)
    return category.label if category else opinion.category


def _summary(turn: Turn, case: Report | Opinion, limit: int) -> str:
    """The first line of what the resident wrote; a withdrawn opinion's text was erased when withdrawn."""
    first = case.text.strip().split("\n")[0].strip()
    return _cut(first, limit) if first else phrase(turn, "case_text_withdrawn")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _filed_order(case: Report | Opinion) -> tuple[dt.datetime, int, int]:
    # Reports and opinions number their rows apart; the event that filed each orders two filed at one instant.
    return case.created_at, case.event_id or 0, case.id
