"""What the participation flows share (opinions, problem reports): the steps both list in their tables (the
privacy consent, the village, the description in several messages with a location, the summary to confirm),
what they do with input that answers nothing (typed text is kept as the description), and reference numbers.
Each flow is a ParticipationFlow (bot/chat/flows.py) whose taps are its own postback class (OpinionAnswer
'action=op', ReportAnswer 'action=rp' of bot/chat/postbacks.py)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import update

from bot.chat.dispatch import Turn
from bot.chat.flows import Answered, Flow, FlowOutcome, Move, Step
from bot.chat.messages import WireMessage, postback_chip
from bot.chat.outcomes import Outcome, record
from bot.chat.postbacks import FlowAnswer, FlowDo, OpinionFromMessage, ReportFromMessage
from bot.chat.state import FlowState
from bot.chat.typed import TYPED_LINK, TYPED_LOCATION, typed_answer, typed_choice, typed_key
from bot.chat.typed import typed_words as _typed_words
from bot.chat.typed import without_particles as _without_particles
from bot.chat.typed import words as _words
from bot.content import Content
from bot.db.models import InboundEvent, Photo, ReferenceCounter
from bot.db.statuses import PhotoStatus
from bot.delivery import geo
from bot.delivery.intake import dialect_insert
from bot.delivery.photos import PHOTOS_PER_SUBMISSION
from bot.handlers.services.timeline import BANGKOK
from bot.nlp.normalize import clean_text
from bot.references import format_reference

__all__ = ["TYPED_LINK", "TYPED_LOCATION", "typed_answer", "typed_choice", "typed_key"]

MAX_DESCRIPTION_CHARS = 2000
# LINE shows 13 chips: with "same as before" and "ไม่ระบุ", villages beyond the first 11 are typed.
VILLAGE_CHIPS = 12
# Each flow's own response ids start with its kind ("report_ask_village": the report flow speaks of reports),
# except the opinion flow's older "privacy_declined".
DECLINED = {"opinion": "privacy_declined", "report": "report_privacy_declined"}
MIN_KEPT_CHARS = 4  # shorter stray words at a choice step ("อ้าว", "?") are not taken as the description
# Step names both flows give the steps this module reads (saved in conversation_state.step).
CONSENT_STEP = "consent"
VILLAGE_STEP = "village"
TEXT_STEP = "text"
SUMMARY_STEP = "confirm"


class ParticipationFlow(Flow):
    """A flow that takes part in the plan or reports a problem: a link or location chip's label typed, or
    "อ่านฉบับเต็ม" at the consent step, is answered beside the question; other input that answers nothing is
    kept as the description rather than thrown away."""

    def aside(self, turn: Turn, state: FlowState) -> WireMessage | None:
        return aside(turn, self)

    async def reask(self, turn: Turn, state: FlowState) -> None:
        lead, kept = unanswered(turn, self, state)
        turn.replies += [lead, self.question(turn, state)]
        if kept:
            await turn.save_flow(state)
        record(turn, self.outcome(FlowOutcome.KEPT if kept else FlowOutcome.REASK), state.step)


def tap(turn: Turn, flow: Flow) -> FlowAnswer | None:
    """This flow's answer: its postback (OpinionAnswer, ReportAnswer), or the chip of the current question that
    the typed text names (LINE for PC and Mac shows no quick replies), or None for anything else."""
    if turn.event_type == "postback":
        return turn.tapped(flow.tap)
    return flow.tap.from_fields(_typed(turn, flow))


def answer(turn: Turn, flow: Flow) -> FlowDo | None:
    """What this flow's answer does (FlowDo.CONFIRM, ...), tapped or typed; None when it is no answer."""
    chosen = tap(turn, flow)
    return chosen.do if chosen is not None else None


def _typed(turn: Turn, flow: Flow) -> dict[str, str]:
    """The fields of the current question's chip that the typed text names (a link or location chip gives
    TYPED_LINK / TYPED_LOCATION), or {}."""
    state = turn.flow
    if turn.message_type != "text" or state is None or state.step not in flow.steps:
        return {}
    return typed_answer(turn.content, flow.question(turn, state), turn.text)


# -- typed answers: compared in bot/chat/typed.py, shared with the offered chips and buttons outside the flows ----


def says(turn: Turn, phrase_id: str) -> bool:
    """The typed text is that chip's label or one of its typed words, whether or not the chip is shown."""
    label = turn.content.phrases.get(phrase_id, "")
    words = {typed_key(turn.content, label), *_typed_words(turn.content).get(label, set())}
    return turn.message_type == "text" and typed_key(turn.content, turn.text) in words


def aside(turn: Turn, flow: Flow) -> WireMessage | None:
    """A typed link or location chip label: the link as text, or how to tell the place without the picker;
    "อ่านฉบับเต็ม" typed at the consent step: the full notice's link (the question is asked again under it)."""
    chosen = _typed(turn, flow) if turn.event_type == "message" else {}
    if chosen.get("do") == TYPED_LINK:
        return turn.builder.text("link_typed", url=chosen["uri"])
    state = turn.flow
    privacy = turn.links.get("privacy")
    if privacy and state is not None and state.step == CONSENT_STEP and says(turn, "chip_read_privacy"):
        return turn.builder.text("link_typed", url=privacy)
    if chosen.get("do") == TYPED_LOCATION:
        return turn.builder.text("location_typed")
    return None


def is_start_request(turn: Turn, flow: Flow) -> bool:
    """True for "แจ้งปัญหา", "เสนอความคิดเห็นค่ะ": asks to start the flow and says nothing to keep as its text."""
    starts = _words(turn.content, f"typed_start_{flow.kind}")
    particles = _words(turn.content, "typed_particles")
    return typed_key(turn.content, turn.text) in {_without_particles(w, particles) for w in starts}


def keep_unanswered(turn: Turn, flow: Flow, state: FlowState) -> str | None:
    """A message at a choice step that is neither a choice nor a command is not thrown away: it is added to
    the description (the first one becomes it), within MAX_DESCRIPTION_CHARS. The response id to say before
    the question is asked again ('<kind>_text_kept' for the first, 'text_added' after, 'text_added_summary'
    at the summary, which is then shown with it; 'text_repeated' when already kept, 'text_full' when it did
    not fit), or None to ask again as usual."""
    if turn.message_type != "text":
        return None
    text = clean_text(turn.text)
    parts: list[str] = state.data.setdefault("parts", [])
    if text in parts:
        return "text_repeated"
    if not _reads_as_description(turn, flow, text):
        return None
    room = MAX_DESCRIPTION_CHARS - sum(len(p) for p in parts)
    if room > 0:
        parts.append(text[:room])
    if len(text) > room:
        return "text_full"
    if len(parts) == 1:
        return f"{flow.kind}_text_kept"
    return "text_added_summary" if state.step == SUMMARY_STEP else "text_added"


def _reads_as_description(turn: Turn, flow: Flow, text: str) -> bool:
    """Not a stray word ("อ้าว", "?", "ครับ"), a request to start, a village, or a chip's word meant for another
    question ("เสร็จ" at the category, "ไม่ส่ง" at the summary): those are asked again, not kept."""
    key = typed_key(turn.content, text)
    # Letters, not code points: Thai vowel and tone marks do not make "อ้าว" a description.
    letters = sum(1 for ch in key if not unicodedata.category(ch).startswith("M"))
    if letters < MIN_KEPT_CHARS or key in _words(turn.content, "typed_particles") or is_chip_word(turn.content, text):
        return False
    return not is_start_request(turn, flow) and typed_village(turn.content, text) is None


def is_chip_word(content: Content, text: str) -> bool:
    """The text is a chip's word, not something to file: any chip label of responses.yaml (the flows', ข้อมูลของฉัน's,
    the menu's) or a typed_ word for one ("ส่ง", "แก้ไข", "ข้าม"), compared as typed. Such a word typed at the
    wrong step is asked about again, never kept as an opinion's or report's text or place."""
    labels = {typed_key(content, label) for pid, label in content.phrases.items() if pid.startswith("chip_")}
    labels |= {typed_key(content, option.label) for option in content.quick_replies.values()}
    return typed_key(content, text) in labels.union(*_typed_words(content).values())


def unanswered(turn: Turn, flow: Flow, state: FlowState) -> tuple[WireMessage, bool]:
    """What to say before the step's question is asked again, and whether the flow's state changed (text was
    kept): the text kept, a village number the municipality does not have ("หมู่ 9": which ones it has), or
    the generic "still waiting for this answer"."""
    kept = keep_unanswered(turn, flow, state)
    if kept:
        return turn.builder.text(kept), True
    typed = typed_village(turn.content, turn.text) if turn.message_type == "text" else None
    if state.step == VILLAGE_STEP and typed is not None:
        return turn.builder.text("village_unknown", villages=village_numbers(turn.content)), False
    return turn.builder.text("flow_reask"), False


def village_numbers(content: Content) -> str:
    """The village numbers as said to residents: "1-8" when they run without a gap, else "1, 2, 5"."""
    numbers = sorted(v.no for v in content.municipality.villages)
    if numbers and numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 2:
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(str(n) for n in numbers)


def phrase(turn: Turn, phrase_id: str, **params: Any) -> str:
    return turn.qa.answers.phrase(phrase_id, **params)


def chip(turn: Turn, phrase_id: str, data: str, display: str | None = None) -> dict[str, Any]:
    label = phrase(turn, phrase_id)
    return postback_chip(label, data, display or label)


def set_chips(message: WireMessage, items: list[dict[str, Any]]) -> WireMessage:
    message["quickReply"] = {"items": items[:13]}
    return message


def village_name(turn: Turn, number: int) -> str:
    names = {v.no: v.name for v in turn.content.municipality.villages}
    return phrase(turn, "village_name", number=number, village=names.get(number, ""))


# -- consent ---------------------------------------------------------------------------------------------------


def needs_consent(turn: Turn) -> bool:
    """First time, or the notice changed since the resident agreed."""
    return turn.resident is None or turn.resident.consent_version != turn.content.privacy.version


def consent_question(turn: Turn, flow: Flow, state: FlowState) -> WireMessage:
    privacy = turn.content.privacy
    values = {**turn.content.municipality.placeholders(), "retention_months": privacy.retention_months}
    # The lead line is the flow's own ("ก่อนส่งความคิดเห็น" / "ก่อนแจ้งเรื่อง"); the notice is shared.
    lead = turn.builder.text(f"{flow.kind}_consent_lead")["text"]
    lines = [lead, privacy.notice.format_map(values)]
    # The full notice is a link in the text, not a link chip: LINE hides the quick replies once any chip is
    # tapped, and a link chip sends the bot no event to offer them again, so a resident who opened the full
    # notice was left with no รับทราบ / ไม่ส่งตอนนี้ to tap. Tapping a link in the text leaves them in place.
    if turn.links.get("privacy"):
        lines.append(turn.builder.text("privacy_full_link", url=turn.links["privacy"])["text"])
    message: WireMessage = {"type": "text", "text": "\n".join(lines)}
    chips = [
        chip(turn, "chip_accept", flow.tap(FlowDo.ACCEPT).pack()),
        chip(turn, "chip_decline", flow.tap(FlowDo.DECLINE).pack()),
    ]
    return set_chips(message, chips)


async def answer_consent(turn: Turn, flow: Flow) -> bool | None:
    """True: agreed (recorded with the notice's version); False: declined (the flow is over, nothing kept);
    None: the input was not an answer."""
    answered = answer(turn, flow)
    if answered == FlowDo.DECLINE:
        await turn.end_flow()
        turn.say(DECLINED[flow.kind])
        return False
    if answered != FlowDo.ACCEPT or turn.resident is None:
        return None
    turn.resident.consent_version = turn.content.privacy.version
    turn.resident.consent_at = turn.now()
    return True


# -- village ---------------------------------------------------------------------------------------------------


def village_question(turn: Turn, flow: Flow, state: FlowState) -> WireMessage:
    known = turn.resident.village if turn.resident else None
    chips = []
    if known:
        name = village_name(turn, known)
        message = turn.builder.text(f"{flow.kind}_ask_village_known", village=name)
        chips.append(chip(turn, "chip_same_village", flow.tap(FlowDo.VILLAGE, village=known).pack(), name))
    else:
        message = turn.builder.text(f"{flow.kind}_ask_village")
    for village in turn.content.municipality.villages[: VILLAGE_CHIPS - len(chips)]:
        label = phrase(turn, "village_chip", number=village.no)
        data = flow.tap(FlowDo.VILLAGE, village=village.no).pack()
        chips.append(postback_chip(label, data, village_name(turn, village.no)))
    chips.append(chip(turn, "chip_unspecified_village", flow.tap(FlowDo.VILLAGE, village=0).pack()))
    return set_chips(message, chips)


def answer_village(turn: Turn, flow: Flow) -> int | bool | None:
    """The village number (None: not given), or False when the input was not an answer. A typed village works
    as well as a chip ("หมู่ 14", "ม.3", "๓", "บ้านดอนยาง"), for villages beyond the chips too. It stays in
    the flow until the submission is filed (remember_village): a cancelled flow saves nothing, as it says."""
    chosen = tap(turn, flow)
    typed = typed_village(turn.content, turn.text) if turn.message_type == "text" else None
    if chosen is not None and chosen.do == FlowDo.VILLAGE and chosen.village is not None:
        number = chosen.village
    elif typed is not None:
        number = typed
    else:
        return False
    if number != 0 and number not in {v.no for v in turn.content.municipality.villages}:
        return False
    return number or None


def remember_village(turn: Turn, state: FlowState) -> None:
    """The submission is filed: its village becomes the resident's, offered as "ใช้หมู่เดิม" next time."""
    village = state.data.get("village")
    if isinstance(village, int) and village and turn.resident is not None:
        turn.resident.village = village


def typed_village(content: Content, text: str) -> int | None:
    """The village a typed answer names: a number with or without a prefix of typed_village_prefix ("3",
    "หมู่ที่ 3", "ม.3"), optionally followed by that village's name, or the name alone ("บ้านดอนยาง", "ดอนยาง").
    The number may be one no village has (the caller says so); None when the text is not a village answer."""
    key = typed_key(content, text)
    names = {typed_key(content, v.name): v.no for v in content.municipality.villages}
    prefixes = "|".join(re.escape(p) for p in sorted(_words(content, "typed_village_prefix"), key=len, reverse=True))
    numbered = re.fullmatch(rf"(?:(?:{prefixes})\.?)?(\d{{1,3}})(.*)", key)  # "ม.": the prefix lost its dot
    if numbered:
        number, rest = int(numbered.group(1)), numbered.group(2)
        return number if not rest or _named_village(names, rest) == number else None
    return _named_village(names, key)


def _named_village(names: dict[str, int], key: str) -> int | None:
    """A whole village name, or the end of exactly one ("ดอนยาง" of "บ้านดอนยาง")."""
    if key in names:
        return names[key]
    ends = {no for name, no in names.items() if len(key) >= 3 and name.endswith(key)}
    return ends.pop() if len(ends) == 1 else None


# -- description ----------------------------------------------------------------------------------------------


def done_chip(turn: Turn, flow: Flow) -> dict[str, Any]:
    return chip(turn, "chip_done", flow.tap(FlowDo.DONE).pack())


def is_done(turn: Turn, flow: Flow) -> bool:
    """เสร็จ tapped, or typed in any of its forms; also the summary's "ส่ง" typed a step early (at the
    description or the place): the resident has nothing more to add, so the summary comes next."""
    return answer(turn, flow) == FlowDo.DONE or says(turn, "chip_done") or says(turn, "chip_confirm")


def wants_rewrite(turn: Turn) -> bool:
    """The summary's "แก้ไข" typed before the summary: the resident wants to write the description again."""
    return says(turn, "chip_edit")


def text_question(turn: Turn, flow: Flow, state: FlowState, fresh: str, **params: str) -> WireMessage:
    """The description step's question: `fresh` when nothing is kept yet, else what was kept (typed when the
    flow started, or at an earlier step) with "add more or เสร็จ", so the resident is not asked it again."""
    kept = description(state)
    if kept:
        return turn.builder.text(f"{flow.kind}_ask_text_kept", text=kept[:1500])
    return turn.builder.text(fresh, **params)


def take_part(turn: Turn, state: FlowState, flow: Flow) -> WireMessage | None:
    """Adds a text or a location to the description; the acknowledgement, or None if the input was neither."""
    if turn.message_type == "location":
        sent = sent_location(turn)
        if sent is None:
            return turn.builder.text("location_invalid")  # what was typed so far stays as it was
        state.data["location"] = list(sent)
        return turn.builder.text(f"{flow.kind}_location_saved")
    if turn.message_type == "image":
        photos: list[str] = state.data.setdefault("photos", [])
        limit = str(PHOTOS_PER_SUBMISSION)
        if len(photos) >= PHOTOS_PER_SUBMISSION or not isinstance(turn.message.get("id"), str):
            return turn.builder.text("photo_limit", count=limit)
        # Only the id now: the photo is fetched and cleaned after the submission commits (bot/delivery/photos.py).
        photos.append(turn.message["id"])
        return turn.builder.text("photo_saved", count=str(len(photos)))
    if turn.message_type in ("video", "audio", "file"):
        return turn.builder.text("opinion_media_not_taken")
    if turn.message_type != "text" or not turn.text.strip() or is_chip_word(turn.content, turn.text):
        return None
    parts: list[str] = state.data.setdefault("parts", [])
    text = clean_text(turn.text)
    if text in parts:
        return turn.builder.text("text_repeated_more")  # typed again, e.g. after the flow showed it kept
    room = MAX_DESCRIPTION_CHARS - sum(len(p) for p in parts)
    if room > 0 and text:
        parts.append(text[:room])
    if len(text) > room:
        return turn.builder.text(f"{flow.kind}_text_too_long", limit=str(MAX_DESCRIPTION_CHARS))
    return turn.builder.text("opinion_text_more", count=str(len(parts)))


async def offered_message(turn: Turn, tap: ReportFromMessage | OpinionFromMessage | None) -> str | None:
    """The message a flow offered under its reply keeps, for either flow's offer; None when the tap is malformed
    or the message is gone, and the resident is told the button has expired."""
    typed = await typed_before(turn, tap.event_id) if tap is not None else None
    if typed is None:
        turn.say("postback_expired")
        record(turn, Outcome.OFFER_GONE)
    return typed


async def typed_before(turn: Turn, event_id: int) -> str | None:
    """The text the resident sent as event `event_id`, for a flow offered under its reply ("แจ้งเรื่องนี้") to
    keep: only this chat's own event, sent by the one who taps (in a group, a tap cannot take another member's
    words either), and None once it is gone (erased at the resident's request, or purged)."""
    row = await turn.session.get(InboundEvent, event_id)
    if row is None or row.lane_key != turn.row.lane_key or turn.user_id is None:
        return None
    try:
        event = json.loads(row.payload)
    except ValueError:
        return None
    source = event.get("source") if isinstance(event, dict) else None
    if not isinstance(source, dict) or source.get("userId") != turn.user_id:
        return None
    message = event.get("message") if isinstance(event, dict) else None
    text = message.get("text") if isinstance(message, dict) and message.get("type") == "text" else None
    return text if isinstance(text, str) and clean_text(text) else None


def keep_first_part(state: FlowState, text: str) -> None:
    """The message the flow was offered under, as the first part (capped as take_part caps a typed one)."""
    state.data["parts"] = [clean_text(text)[:MAX_DESCRIPTION_CHARS]]


def description(state: FlowState) -> str:
    return "\n".join(state.data.get("parts", []))


# -- the steps both flows list in their tables -------------------------------------------------------------------

ChipsOf = Callable[[Turn, Flow], list[dict[str, Any]]]
Filing = Callable[[Turn, Flow, FlowState], Awaitable[None]]


def consent_step() -> Step:
    """The privacy notice; passed over when the resident agreed to this version of it already."""
    return Step(CONSENT_STEP, ask=consent_question, answer=_on_consent, applies=lambda turn, state: needs_consent(turn))


async def _on_consent(turn: Turn, flow: Flow, state: FlowState) -> Answered:
    agreed = await answer_consent(turn, flow)
    if agreed is None:
        return Move.REASK
    if not agreed:
        record(turn, flow.outcome(FlowOutcome.DECLINED))
        return Move.END
    return Move.NEXT


def village_step() -> Step:
    """The village: a chip, or typed in any form typed_village reads."""
    return Step(VILLAGE_STEP, ask=village_question, answer=_on_village)


async def _on_village(turn: Turn, flow: Flow, state: FlowState) -> Answered:
    village = answer_village(turn, flow)
    if village is False:
        return Move.REASK
    state.data["village"] = village
    return Move.NEXT


def description_step(
    chips: ChipsOf,
    hint: Callable[[Turn, FlowState], dict[str, str]] = lambda turn, state: {},
    finish: Filing | None = None,
) -> Step:
    """The description, in as many messages (texts, photos, a location) as the resident likes, until เสร็จ;
    then `finish` (the opinion flow suggests categories). Its question is '<kind>_ask_text' with `hint`'s
    values, or what was kept so far; `chips` go under it and under each acknowledgement."""

    def ask(turn: Turn, flow: Flow, state: FlowState) -> WireMessage:
        return set_chips(
            text_question(turn, flow, state, f"{flow.kind}_ask_text", **hint(turn, state)), chips(turn, flow)
        )

    async def on_text(turn: Turn, flow: Flow, state: FlowState) -> Answered:
        if wants_rewrite(turn):
            return rewrite(turn, flow, state)
        if is_done(turn, flow):
            if not state.data.get("parts"):
                turn.replies.append(set_chips(turn.builder.text(f"{flow.kind}_text_empty"), chips(turn, flow)))
                record(turn, flow.outcome(FlowOutcome.TEXT_EMPTY))
                return Move.STAY
            if finish is not None:
                await finish(turn, flow, state)
            return Move.NEXT
        message = take_part(turn, state, flow)
        if message is None:
            return Move.REASK
        turn.replies.append(set_chips(message, chips(turn, flow)))
        record(turn, flow.outcome(FlowOutcome.TEXT))
        return Move.STAY

    return Step(TEXT_STEP, ask=ask, answer=on_text)


def rewrite(turn: Turn, flow: Flow, state: FlowState) -> Answered:
    """แก้ไข: the description is cleared and asked for again; everything else given stays."""
    state.data["parts"] = []
    turn.say(f"{flow.kind}_edit_cleared")  # else the old text just vanishes from the next question
    return TEXT_STEP


def summary_step(ask: Callable[[Turn, Flow, FlowState], WireMessage], file: Filing) -> Step:
    """What will be sent, to confirm (ยืนยันส่ง: `file` stores it and says its reference) or to write the
    description again (แก้ไข). Filed, the village is remembered for next time and the flow is over."""

    async def on_summary(turn: Turn, flow: Flow, state: FlowState) -> Answered:
        answered = answer(turn, flow)
        if answered == FlowDo.EDIT:
            return rewrite(turn, flow, state)
        if answered != FlowDo.CONFIRM:
            return Move.REASK
        await file(turn, flow, state)
        remember_village(turn, state)
        await turn.end_flow()
        return Move.END

    return Step(SUMMARY_STEP, ask=ask, answer=on_summary)


def summary_chips(turn: Turn, flow: Flow) -> list[dict[str, Any]]:
    return [
        chip(turn, "chip_confirm", flow.tap(FlowDo.CONFIRM).pack()),
        chip(turn, "chip_edit", flow.tap(FlowDo.EDIT).pack()),
    ]


def attach_photos(turn: Turn, state: FlowState, opinion_id: int | None = None, report_id: int | None = None) -> None:
    """Photo rows for the submission just filed; bot/delivery/photos.py fetches them once the transaction commits."""
    for message_id in state.data.get("photos", []):
        turn.session.add(
            Photo(
                message_id=message_id,
                opinion_id=opinion_id,
                report_id=report_id,
                status=PhotoStatus.PENDING,
                attempts=0,
                created_at=turn.now(),
            )
        )


def sent_location(turn: Turn) -> tuple[float, float] | None:
    """The point of a location message, or None when its coordinates are not a point on Earth. Every flow
    reads a location through here, so nothing else ever reaches the state, the database or a map link."""
    return geo.point(turn.message.get("latitude"), turn.message.get("longitude"))


def location(state: FlowState) -> tuple[float | None, float | None]:
    """The point the flow holds, checked again: a state saved by an older version may hold anything."""
    stored = state.data.get("location")
    found = geo.point(*stored) if isinstance(stored, list) and len(stored) == 2 else None
    return found if found is not None else (None, None)


def has_location(state: FlowState) -> bool:
    return location(state)[0] is not None


async def next_reference(turn: Turn, kind: str) -> str:
    """'ร-2569-00042' (a report) or 'ค-2569-00042' (an opinion): the kind's letter, the Buddhist-era year and a
    number that counts up per kind and year, safe across processes (the counter row stays locked by the UPDATE
    until the transaction commits).

    Counters stay per kind, as before issue 16, rather than one shared series: the letter alone keeps the two
    kinds apart, the rows stored before it keep their numbers (migration 0013 only adds the letter), and
    "ร-2569-00042" still tells staff it was the 42nd report of the year."""
    year = turn.now().astimezone(BANGKOK).year + 543
    insert = dialect_insert(turn.session)
    await turn.session.execute(insert(ReferenceCounter).values(kind=kind, year=year, last=0).on_conflict_do_nothing())
    number = await turn.session.scalar(
        update(ReferenceCounter)
        .where(ReferenceCounter.kind == kind, ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1)
        .returning(ReferenceCounter.last)
    )
    return format_reference(kind, year, int(number or 0))
