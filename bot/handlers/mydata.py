"""ข้อมูลของฉัน: a resident sees what is held about them and exercises their PDPA rights from the chat,
all by taps: withdraw an opinion, delete everything, switch notifications off or on.

Deleting everything anonymises opinions and reports (they stay countable for the plan but no longer point to
anyone, lose their map point, and the numbers and addresses in their text), erases photos, blanks the
resident's questions and stored messages, and removes the resident record itself (bot/erasure.py).
Taps carry 'action=md&do=<what>' postbacks.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, or_, select, update

from bot import audit, erasure
from bot.db.models import Opinion, Photo, Report
from bot.dispatch import Router, Turn
from bot.handlers.cases import case_date, opinion_status, report_status
from bot.handlers.participation import chip, phrase
from bot.messages import WireMessage, postback_chip
from bot.references import stored_reference

router = Router("mydata")

Submission = TypeVar("Submission", Opinion, Report)

MAX_LISTED = 10


@router.on_postback("menu.mydata")
async def show(turn: Turn) -> None:
    """What is held: village, consent, notifications and the resident's opinions with their status."""
    turn.replies.append(await summary(turn))
    turn.outcome = "mydata-shown"


async def summary(turn: Turn) -> WireMessage:
    resident = turn.resident
    opinions = await _own(turn, Opinion)
    lines = [
        phrase(
            turn,
            "opinion_line",
            reference=o.reference,
            date=case_date(o.created_at),
            status=opinion_status(turn, o.status),
        )
        for o in opinions[:MAX_LISTED]
    ] or [phrase(turn, "no_opinions")]
    village = resident.village if resident else None
    names = {v.no: v.name for v in turn.content.municipality.villages}
    consent = (
        phrase(
            turn,
            "consent_given",
            version=resident.consent_version,
            date=case_date(resident.consent_at) if resident.consent_at else "-",
        )
        if resident and resident.consent_version
        else phrase(turn, "consent_none")
    )
    notify = resident is None or resident.notify
    reports = await _own(turn, Report)
    report_lines = [
        phrase(
            turn,
            "opinion_line",
            reference=r.reference,
            date=case_date(r.created_at),
            status=report_status(turn, r.status),
        )
        for r in reports[:MAX_LISTED]
    ] or [phrase(turn, "no_opinions")]
    message = turn.builder.text(
        "mydata_summary",
        reports="\n".join(report_lines),
        village=phrase(turn, "village_name", number=village, village=names.get(village, ""))
        if village
        else phrase(turn, "village_unspecified"),
        consent=consent,
        opinions="\n".join(lines),
        notify=phrase(turn, "notify_on" if notify else "notify_off"),
    )
    chips = []
    if any(o.status != "withdrawn" for o in opinions):
        chips.append(_chip(turn, "chip_withdraw", "withdraw"))
    chips.append(
        _chip(turn, "chip_notify_off" if notify else "chip_notify_on", "notify_off" if notify else "notify_on")
    )
    chips.append(_chip(turn, "chip_delete_all", "delete"))
    message["quickReply"] = {"items": chips}
    return message


@router.on_postback("md")
async def act(turn: Turn) -> None:
    """One of the taps under the summary."""
    what = turn.postback.get("do", "")
    if turn.resident is None:
        turn.say("postback_expired")
        turn.outcome = "mydata-no-resident"
        return
    if what == "withdraw":
        await _choose_withdrawal(turn)
    elif what == "withdraw_one":
        await _withdraw(turn, turn.postback.get("ref", ""))
        audit.record(turn.session, "resident", "data_request", None, request="withdraw")
    elif what in ("notify_off", "notify_on"):
        turn.resident.notify = what == "notify_on"
        turn.say("mydata_notify_changed", notify=phrase(turn, "notify_on" if turn.resident.notify else "notify_off"))
        turn.outcome = f"mydata-{what}"
    elif what == "delete":
        message = turn.builder.text("mydata_delete_confirm")
        message["quickReply"] = {
            "items": [_chip(turn, "chip_confirm_delete", "delete_confirmed"), _chip(turn, "chip_keep", "keep")]
        }
        turn.replies.append(message)
        turn.outcome = "mydata-delete-asked"
    elif what == "delete_confirmed":
        await delete_everything(turn)
        # The record of the request names no one: it shows that erasure requests are honoured, and when.
        audit.record(turn.session, "resident", "data_request", None, request="erasure")
        turn.say("mydata_deleted")
        turn.outcome = "mydata-deleted"
    elif what == "keep":
        await show(turn)
    else:
        turn.say("postback_expired")
        turn.outcome = "mydata-unknown"


async def _choose_withdrawal(turn: Turn) -> None:
    opinions = [o for o in await _own(turn, Opinion) if o.status != "withdrawn"][:13]
    if not opinions:
        await show(turn)
        return
    message = turn.builder.text("mydata_withdraw_choose")
    message["quickReply"] = {
        "items": [
            postback_chip(o.reference, f"action=md&do=withdraw_one&ref={o.reference}", o.reference) for o in opinions
        ]
    }
    turn.replies.append(message)
    turn.outcome = "mydata-withdraw-choose"


async def _withdraw(turn: Turn, reference: str) -> None:
    assert turn.resident is not None
    opinion = await turn.session.scalar(
        select(Opinion).where(
            Opinion.reference == stored_reference("opinion", reference), Opinion.resident_id == turn.resident.id
        )
    )
    if opinion is None:
        turn.say("postback_expired")
        turn.outcome = "mydata-withdraw-unknown"
        return
    opinion.status, opinion.text = "withdrawn", ""
    await _erase_photos(turn, select(Opinion.id).where(Opinion.id == opinion.id), None)
    opinion.latitude = opinion.longitude = None
    turn.say("mydata_withdrawn", reference=opinion.reference)
    turn.outcome = f"mydata-withdrawn:{opinion.reference}"


async def delete_everything(turn: Turn) -> None:
    """The right to erasure: nothing left that points to this resident, except what is needed to send the
    confirmation (the chat's id, in the outbox row of this very reply, this event and the chat's lane), which
    bot/erasure.py's job removes once the reply has gone out."""
    resident = turn.resident
    assert resident is not None
    lane = turn.row.lane_key
    await erasure.erase(turn.session, resident, lane, turn.row.id)
    turn.batch.residents.pop(resident.line_user_id, None)
    turn.batch.states.pop(lane, None)
    turn.batch.contexts.pop(lane, None)
    turn.resident = None


async def _erase_photos(turn: Turn, opinions: Select[int] | None, reports: Select[int] | None) -> None:
    """Photos of these submissions are marked for erasure; bot/media.py removes the files."""
    conditions = []
    if opinions is not None:
        conditions.append(Photo.opinion_id.in_(opinions))
    if reports is not None:
        conditions.append(Photo.report_id.in_(reports))
    await turn.session.execute(update(Photo).where(or_(*conditions)).values(status="erase"))


async def _own(turn: Turn, kind: type[Submission]) -> list[Submission]:
    """The resident's own opinions or reports, newest first."""
    if turn.resident is None:
        return []
    rows = await turn.session.scalars(select(kind).where(kind.resident_id == turn.resident.id).order_by(kind.id.desc()))
    return list(rows)


def _chip(turn: Turn, phrase_id: str, what: str) -> dict[str, Any]:
    return chip(turn, phrase_id, f"action=md&do={what}")
