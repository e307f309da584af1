"""ข้อมูลของฉัน: a resident sees what is held about them and exercises their PDPA rights from the chat,
by taps or typed answers: withdraw an opinion, delete everything, switch notifications off or on. Each of
these is also a command typed anywhere (content/commands.yaml: withdraw, erase, news_off, news_on), so a
resident on LINE for PC need not open ข้อมูลของฉัน first, and the words are never filed as an opinion.

Withdrawing erases the opinion's text, so it is asked first, naming the opinion by its first words and its
reference ("ถอนความคิดเห็น ‘…’ (ค-2569-00001) ใช่ไหมคะ"); the question is a one-step flow, so a resident on LINE
for PC, who sees no chips, can answer it by typing ("ใช่", "ถอน" / "ไม่"; "ยกเลิก" ends it as everywhere).

Deleting everything anonymises opinions and reports (they stay countable for the plan but no longer point to
anyone, lose their map point, and the numbers and addresses in their text), erases photos, blanks the
resident's questions and stored messages, and removes the resident record itself (bot/handlers/residents/erasure.py).
Taps are MyDataRequest postbacks (bot/chat/postbacks.py), one MyDataDo each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import Select, or_, select, update

from bot.chat.dispatch import Router, Turn
from bot.chat.messages import WireMessage, postback_chip
from bot.chat.numbered import chip_names, numbered
from bot.chat.outcomes import Outcome, record
from bot.chat.participation import chip, phrase
from bot.chat.postbacks import MenuMyData, MyDataDo, MyDataRequest
from bot.chat.state import FlowState
from bot.chat.typed import typed_answer
from bot.db.models import Opinion, Photo, Report
from bot.db.statuses import OpinionStatus, PhotoStatus
from bot.handlers.opinions.rules import record_withdrawal
from bot.handlers.residents import erasure
from bot.handlers.residents.cases import opinion_status, report_status
from bot.handlers.services.timeline import thai_short_date
from bot.nlp.intents import Intent
from bot.nlp.understand import Reading
from bot.ops import audit
from bot.references import stored_reference

router = Router("mydata")

Submission = TypeVar("Submission", Opinion, Report)

MAX_LISTED = 10
FLOW = "mydata"
WITHDRAW_STEP = "withdraw"  # saved in conversation_state.step: keep the name across deploys
NAMED_CHARS = 40  # of the opinion's first line, in the withdrawal question: enough to recognise it
# The command of content/commands.yaml -> the tap under ข้อมูลของฉัน it stands for, wherever it is typed:
# "ถอนความคิดเห็น" after "สวัสดี" started a new opinion, and was then filed as one.
TYPED_REQUESTS = {
    "withdraw": MyDataDo.WITHDRAW,
    "erase": MyDataDo.DELETE,
    "news_off": MyDataDo.NOTIFY_OFF,
    "news_on": MyDataDo.NOTIFY_ON,
}
# While an opinion or report is being written these wait, named by their chip: the withdrawal question is a
# flow of its own and would replace it, and deleting everything would drop it. Notifications switch at once.
# AFTER_FLOW: what each records when it waits.
WAITS_FOR_FLOW = {MyDataDo.WITHDRAW: "chip_withdraw", MyDataDo.DELETE: "chip_delete_all"}
AFTER_FLOW = {MyDataDo.WITHDRAW: Outcome.MYDATA_WITHDRAW_AFTER_FLOW, MyDataDo.DELETE: Outcome.MYDATA_DELETE_AFTER_FLOW}


@router.on_postback(MenuMyData)
async def show(turn: Turn) -> None:
    """What is held: village, consent, notifications and the resident's opinions with their status."""
    turn.replies.append(await summary(turn))
    record(turn, Outcome.MYDATA_SHOWN)


@router.on_intent(Intent.MYDATA)
async def from_reading(turn: Turn, reading: Reading) -> None:
    """The menu chip's label or words like it typed ("ข้อมูลของฉัน")."""
    await show(turn)


def _typed_request(turn: Turn) -> MyDataDo | None:
    return next((what for name, what in TYPED_REQUESTS.items() if turn.is_command(name)), None)


@router.on_text(lambda turn: _typed_request(turn) is not None, escape=True)
async def request_typed(turn: Turn) -> None:
    """A request of ข้อมูลของฉัน typed at any time does what its tap does; inside an opinion or report that is
    being written, withdrawing and deleting are left for after it (the flow stays where it was)."""
    what = _typed_request(turn)
    assert what is not None
    flow = turn.flow
    if what in WAITS_FOR_FLOW and flow is not None and flow.flow != FLOW:
        turn.say("mydata_after_flow", request=phrase(turn, WAITS_FOR_FLOW[what]))
        record(turn, AFTER_FLOW[what])
        return
    turn.take_tap(MyDataRequest(what))
    await act(turn)


async def summary(turn: Turn) -> WireMessage:
    resident = turn.resident
    opinions = await _own(turn, Opinion)
    lines = [_line(turn, o, opinion_status(turn, o.status)) for o in opinions[:MAX_LISTED]] or [
        phrase(turn, "no_opinions")
    ]
    village = resident.village if resident else None
    names = {v.no: v.name for v in turn.content.municipality.villages}
    consent = (
        phrase(
            turn,
            "consent_given",
            version=notice_version(resident.consent_version),
            date=thai_short_date(resident.consent_at) if resident.consent_at else "-",
        )
        if resident and resident.consent_version
        else phrase(turn, "consent_none")
    )
    notify = resident is None or resident.notify
    reports = await _own(turn, Report)
    chips = []
    if any(o.status != OpinionStatus.WITHDRAWN for o in opinions):
        chips.append(_chip(turn, "chip_withdraw", MyDataDo.WITHDRAW))
    chips.append(
        _chip(
            turn,
            "chip_notify_off" if notify else "chip_notify_on",
            MyDataDo.NOTIFY_OFF if notify else MyDataDo.NOTIFY_ON,
        )
    )
    chips.append(_chip(turn, "chip_delete_all", MyDataDo.DELETE))
    report_lines = [_line(turn, r, report_status(turn, r.status)) for r in reports[:MAX_LISTED]] or [
        phrase(turn, "no_opinions")
    ]
    message = turn.builder.text(
        "mydata_summary",
        reports="\n".join(report_lines),
        village=phrase(turn, "village_name", number=village, village=names.get(village, ""))
        if village
        else phrase(turn, "village_unspecified"),
        consent=consent,
        opinions="\n".join(lines),
        notify=phrase(turn, "notify_on" if notify else "notify_off"),
        typed=_typed_hint(turn, chips),
    )
    message["quickReply"] = {"items": chips}
    return message


def _line(turn: Turn, submission: Opinion | Report, status: str) -> str:
    """One opinion or report in the summary, named by its first words (a withdrawn one has none left)."""
    date = thai_short_date(submission.created_at)
    if not submission.text.strip():
        return phrase(turn, "opinion_line", reference=submission.reference, date=date, status=status)
    named = _first_words(submission.text)
    return phrase(turn, "opinion_line_named", reference=submission.reference, summary=named, date=date, status=status)


def _typed_hint(turn: Turn, chips: list[dict[str, Any]]) -> str:
    """What to type for each chip, for LINE for PC and Mac, which shows none: "พิมพ์ “ถอนความคิดเห็น” ..."."""
    words = " ".join(phrase(turn, "typed_word", word=c["action"]["label"]) for c in chips)
    return phrase(turn, "mydata_typed_hint", words=words)


@router.on_postback(MyDataRequest)
async def act(turn: Turn) -> None:
    """One of the taps under the summary (or under a question it led to)."""
    tap = turn.tapped(MyDataRequest)
    if turn.resident is None:
        turn.say("postback_expired")
        record(turn, Outcome.MYDATA_NO_RESIDENT)
        return
    if turn.flow is not None and turn.flow.flow == FLOW:
        # Any other tap here leaves the withdrawal question: a later "ใช่" must not withdraw by surprise.
        await turn.end_flow()
    what = tap.do if tap is not None else None
    reference = tap.reference if tap is not None and tap.reference is not None else ""
    if what == MyDataDo.WITHDRAW:
        await _choose_withdrawal(turn)
    elif what == MyDataDo.WITHDRAW_ONE:
        await _ask_withdrawal(turn, reference)
    elif what == MyDataDo.WITHDRAW_CONFIRMED:
        await _withdraw(turn, reference)
    elif what == MyDataDo.WITHDRAW_KEPT:
        _keep_opinion(turn)
    elif what in (MyDataDo.NOTIFY_OFF, MyDataDo.NOTIFY_ON):
        # Announcements of hearings and opinions' outcomes; the same words whether tapped or typed anywhere.
        turn.resident.notify = what == MyDataDo.NOTIFY_ON
        turn.say("news_on_done" if turn.resident.notify else "news_off_done")
        record(turn, Outcome.MYDATA_NOTIFY_ON if turn.resident.notify else Outcome.MYDATA_NOTIFY_OFF)
    elif what == MyDataDo.DELETE:
        message = turn.builder.text("mydata_delete_confirm")
        message["quickReply"] = {
            "items": [
                _chip(turn, "chip_confirm_delete", MyDataDo.DELETE_CONFIRMED),
                _chip(turn, "chip_keep", MyDataDo.KEEP),
            ]
        }
        turn.replies.append(message)
        record(turn, Outcome.MYDATA_DELETE_ASKED)
    elif what == MyDataDo.DELETE_CONFIRMED:
        await delete_everything(turn)
        # The record of the request names no one: it shows that erasure requests are honoured, and when.
        audit.record(turn.session, "resident", "data_request", None, at=turn.now(), request="erasure")
        turn.say("mydata_deleted")
        record(turn, Outcome.MYDATA_DELETED)
    elif what == MyDataDo.KEEP:
        await show(turn)
    else:
        turn.say("postback_expired")
        record(turn, Outcome.MYDATA_UNKNOWN)


@router.on_flow(FLOW)
async def answer_withdrawal(turn: Turn) -> None:
    """The withdrawal question is open: a tap of ours, or a typed yes or no. Anything else asks it again."""
    state = turn.flow
    assert state is not None
    if turn.event_type == "postback" and MyDataRequest.claims(turn.postback_data):
        await act(turn)  # any tap of ours, a malformed one too: act says it expired
        return
    reference = str(state.data.get("ref", ""))
    # A typed yes or no is read against the question's own chips, as a flow's step reads its question's.
    typed = typed_answer(turn.content, {"quickReply": {"items": _confirm_chips(turn, reference)}}, turn.text)
    tap = MyDataRequest.from_fields(typed)
    if tap is not None and turn.message_type == "text":
        turn.take_tap(tap)
        await act(turn)
    else:
        turn.say("flow_reask")
        await _ask_withdrawal(turn, reference)


async def _choose_withdrawal(turn: Turn) -> None:
    opinions = [o for o in await _own(turn, Opinion) if o.status != OpinionStatus.WITHDRAWN][:13]
    if not opinions:
        await show(turn)
        return
    if len(opinions) == 1:  # nothing to choose: the question names it, and is asked before anything changes
        await _ask_withdrawal(turn, opinions[0].reference)
        return
    # Each named by its first words, as the question that follows names it: a reference alone says little.
    chips = [
        postback_chip(
            o.reference,
            MyDataRequest(MyDataDo.WITHDRAW_ONE, o.reference).pack(),
            phrase(turn, "withdraw_choice", reference=o.reference, summary=_first_words(o.text)),
        )
        for o in opinions
    ]
    message = turn.builder.text("mydata_withdraw_choose", choices=numbered(chip_names(chips)))
    message["quickReply"] = {"items": chips}
    turn.replies.append(message)
    record(turn, Outcome.MYDATA_WITHDRAW_CHOOSE)


async def _ask_withdrawal(turn: Turn, reference: str) -> None:
    """'ถอนความคิดเห็น ‘…’ (ค-2569-00001) ใช่ไหมคะ' with ถอน / ไม่ถอน; nothing changes until it is answered."""
    opinion = await _own_opinion(turn, reference)
    if opinion is None or opinion.status == OpinionStatus.WITHDRAWN:
        await _not_withdrawable(turn, opinion)
        return
    message = turn.builder.text(
        "mydata_withdraw_confirm", summary=_first_words(opinion.text), reference=opinion.reference
    )
    message["quickReply"] = {"items": _confirm_chips(turn, opinion.reference)}
    turn.replies.append(message)
    await turn.save_flow(FlowState(flow=FLOW, step=WITHDRAW_STEP, data={"ref": opinion.reference}))
    record(turn, Outcome.MYDATA_WITHDRAW_ASKED, opinion.reference)


async def _withdraw(turn: Turn, reference: str) -> None:
    """The confirmed withdrawal. A second tap of the same ถอน finds it withdrawn and only says so."""
    opinion = await _own_opinion(turn, reference)
    if opinion is None or opinion.status == OpinionStatus.WITHDRAWN:
        await _not_withdrawable(turn, opinion)
        return
    record_withdrawal(turn.session, opinion, turn.now())  # the moment, for staff and the resident's case history
    opinion.text = ""
    await _erase_photos(turn, select(Opinion.id).where(Opinion.id == opinion.id), None)
    opinion.latitude = opinion.longitude = None
    audit.record(turn.session, "resident", "data_request", None, at=turn.now(), request="withdraw")
    turn.say("mydata_withdrawn", reference=opinion.reference)
    record(turn, Outcome.MYDATA_WITHDRAWN, opinion.reference)


async def _not_withdrawable(turn: Turn, opinion: Opinion | None) -> None:
    if opinion is None:  # not this resident's (or no longer there): the same answer as any stale tap
        turn.say("postback_expired")
        record(turn, Outcome.MYDATA_WITHDRAW_UNKNOWN)
        return
    turn.say("mydata_already_withdrawn", reference=opinion.reference)
    record(turn, Outcome.MYDATA_WITHDRAW_ALREADY, opinion.reference)


def _keep_opinion(turn: Turn) -> None:
    turn.say("mydata_withdraw_kept")
    record(turn, Outcome.MYDATA_WITHDRAW_KEPT)


def _confirm_chips(turn: Turn, reference: str) -> list[dict[str, Any]]:
    """ถอน / ไม่ถอน under the withdrawal question; a typed answer is read against these (typed_chip_withdraw_*)."""
    data = MyDataRequest(MyDataDo.WITHDRAW_CONFIRMED, reference).pack()
    return [chip(turn, "chip_withdraw_yes", data), _chip(turn, "chip_withdraw_no", MyDataDo.WITHDRAW_KEPT)]


async def _own_opinion(turn: Turn, reference: str) -> Opinion | None:
    """The resident's own opinion that the reference names (in any form it is tapped or typed), else None."""
    stored = stored_reference("opinion", reference)
    if turn.resident is None or stored is None:
        return None
    return await turn.session.scalar(
        select(Opinion).where(Opinion.reference == stored, Opinion.resident_id == turn.resident.id)
    )


def _first_words(text: str) -> str:
    first = text.strip().split("\n")[0].strip()
    return first if len(first) <= NAMED_CHARS else first[: NAMED_CHARS - 1] + "…"


def notice_version(version: str) -> str:
    """The notice version as residents read it: a version named by its date is written in Buddhist-era Thai."""
    try:
        return thai_short_date(dt.date.fromisoformat(version))
    except ValueError:
        return version


async def delete_everything(turn: Turn) -> None:
    """The right to erasure: nothing left that points to this resident, except what is needed to send the
    confirmation (the chat's id, in the outbox row of this very reply, this event and the chat's lane), which
    bot/handlers/residents/erasure.py's job removes once the reply has gone out."""
    resident = turn.resident
    assert resident is not None
    lane = turn.row.lane_key
    await erasure.erase(turn.session, resident, lane, turn.row.id)
    await turn.forget_offered()  # keyed by the LINE id, and nothing offered before the erasure may act after it
    turn.batch.residents.pop(resident.line_user_id, None)
    turn.batch.states.pop(lane, None)
    turn.batch.contexts.pop(lane, None)
    turn.resident = None


async def _erase_photos(turn: Turn, opinions: Select[int] | None, reports: Select[int] | None) -> None:
    """Photos of these submissions are marked for erasure; bot/delivery/photos.py removes the files."""
    conditions = []
    if opinions is not None:
        conditions.append(Photo.opinion_id.in_(opinions))
    if reports is not None:
        conditions.append(Photo.report_id.in_(reports))
    await turn.session.execute(update(Photo).where(or_(*conditions)).values(status=PhotoStatus.ERASE))


async def _own(turn: Turn, kind: type[Submission]) -> list[Submission]:
    """The resident's own opinions or reports, newest first."""
    if turn.resident is None:
        return []
    rows = await turn.session.scalars(select(kind).where(kind.resident_id == turn.resident.id).order_by(kind.id.desc()))
    return list(rows)


def _chip(turn: Turn, phrase_id: str, what: MyDataDo) -> dict[str, Any]:
    return chip(turn, phrase_id, MyDataRequest(what).pack())
