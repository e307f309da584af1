"""Steps the participation flows share (opinions, problem reports): the privacy consent, the village, the
description in several messages with a location, and reference numbers. Each flow's taps carry its own
action name ('op', 'rp'), given to these helpers."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update

from bot import geo
from bot.db.models import Photo, ReferenceCounter, utcnow
from bot.dispatch import Turn
from bot.intake import dialect_insert
from bot.media import PHOTOS_PER_SUBMISSION
from bot.messages import WireMessage, postback_chip, uri_chip
from bot.nlp.normalize import clean_text
from bot.state import FlowState
from bot.timeline import BANGKOK

MAX_DESCRIPTION_CHARS = 2000
# LINE shows 13 chips: with "same as before" and "ไม่ระบุ", villages beyond the first 11 are typed.
VILLAGE_CHIPS = 12


def tap(turn: Turn, action: str) -> dict[str, str]:
    """This flow's postback ('action=<action>&...'), or {} for anything else."""
    data = turn.postback if turn.event_type == "postback" else {}
    return data if data.get("action") == action else {}


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


def consent_question(turn: Turn, action: str) -> WireMessage:
    privacy = turn.content.privacy
    values = {**turn.content.municipality.placeholders(), "retention_months": privacy.retention_months}
    message: WireMessage = {"type": "text", "text": privacy.notice.format_map(values)}
    chips = [
        chip(turn, "chip_accept", f"action={action}&do=accept"),
        chip(turn, "chip_decline", f"action={action}&do=decline"),
    ]
    if turn.links.get("privacy"):
        chips.append(uri_chip(phrase(turn, "chip_read_privacy"), turn.links["privacy"]))
    return set_chips(message, chips)


async def answer_consent(turn: Turn, action: str) -> bool | None:
    """True: agreed (recorded with the notice's version); False: declined (the flow is over, nothing kept);
    None: the input was not an answer."""
    answer = tap(turn, action).get("do")
    if answer == "decline":
        await turn.end_flow()
        turn.say("privacy_declined")
        return False
    if answer != "accept" or turn.resident is None:
        return None
    turn.resident.consent_version = turn.content.privacy.version
    turn.resident.consent_at = utcnow()
    return True


# -- village ---------------------------------------------------------------------------------------------------


def village_question(turn: Turn, action: str) -> WireMessage:
    known = turn.resident.village if turn.resident else None
    chips = []
    if known:
        name = village_name(turn, known)
        message = turn.builder.text("opinion_ask_village_known", village=name)
        chips.append(chip(turn, "chip_same_village", f"action={action}&do=village&n={known}", name))
    else:
        message = turn.builder.text("opinion_ask_village")
    for village in turn.content.municipality.villages[: VILLAGE_CHIPS - len(chips)]:
        label = phrase(turn, "village_chip", number=village.no)
        chips.append(postback_chip(label, f"action={action}&do=village&n={village.no}", village_name(turn, village.no)))
    chips.append(chip(turn, "chip_unspecified_village", f"action={action}&do=village&n=0"))
    return set_chips(message, chips)


def answer_village(turn: Turn, action: str) -> int | bool | None:
    """The village number (None: not given), or False when the input was not an answer. A typed number works
    as well as a chip ("หมู่ 14"), for villages beyond the chips."""
    chosen = tap(turn, action)
    if chosen.get("do") == "village" and chosen.get("n", "").isdigit():
        number = int(chosen["n"])
    elif turn.message_type == "text" and (match := re.search(r"\d+", turn.text)):
        number = int(match.group())
    else:
        return False
    if number != 0 and number not in {v.no for v in turn.content.municipality.villages}:
        return False
    if number and turn.resident is not None:
        turn.resident.village = number
    return number or None


# -- description ----------------------------------------------------------------------------------------------


def done_chip(turn: Turn, action: str) -> dict[str, Any]:
    return chip(turn, "chip_done", f"action={action}&do=done")


def is_done(turn: Turn, action: str) -> bool:
    done = phrase(turn, "chip_done")
    return tap(turn, action).get("do") == "done" or (turn.message_type == "text" and turn.text.strip() == done)


def take_part(turn: Turn, state: FlowState) -> WireMessage | None:
    """Adds a text or a location to the description; the acknowledgement, or None if the input was neither."""
    if turn.message_type == "location":
        sent = sent_location(turn)
        if sent is None:
            return turn.builder.text("location_invalid")  # what was typed so far stays as it was
        state.data["location"] = list(sent)
        return turn.builder.text("opinion_location_saved")
    if turn.message_type == "image":
        photos: list[str] = state.data.setdefault("photos", [])
        limit = str(PHOTOS_PER_SUBMISSION)
        if len(photos) >= PHOTOS_PER_SUBMISSION or not isinstance(turn.message.get("id"), str):
            return turn.builder.text("photo_limit", count=limit)
        # Only the id now: the photo is fetched and cleaned after the submission commits (bot/media.py).
        photos.append(turn.message["id"])
        return turn.builder.text("photo_saved", count=str(len(photos)))
    if turn.message_type in ("video", "audio", "file"):
        return turn.builder.text("opinion_media_not_taken")
    if turn.message_type != "text" or not turn.text.strip():
        return None
    parts: list[str] = state.data.setdefault("parts", [])
    text = clean_text(turn.text)
    room = MAX_DESCRIPTION_CHARS - sum(len(p) for p in parts)
    if room > 0 and text:
        parts.append(text[:room])
    if len(text) > room:
        return turn.builder.text("opinion_text_too_long", limit=str(MAX_DESCRIPTION_CHARS))
    return turn.builder.text("opinion_text_more", count=str(len(parts)))


def description(state: FlowState) -> str:
    return "\n".join(state.data.get("parts", []))


def attach_photos(turn: Turn, state: FlowState, opinion_id: int | None = None, report_id: int | None = None) -> None:
    """Photo rows for the submission just filed; bot/media.py fetches them once the transaction commits."""
    for message_id in state.data.get("photos", []):
        turn.session.add(
            Photo(
                message_id=message_id,
                opinion_id=opinion_id,
                report_id=report_id,
                status="pending",
                attempts=0,
                created_at=utcnow(),
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
    """'2569-00042': Buddhist-era year and a number that counts up per kind and year, safe across processes
    (the counter row stays locked by the UPDATE until the transaction commits)."""
    year = turn.qa.clock().astimezone(BANGKOK).year + 543
    insert = dialect_insert(turn.session)
    await turn.session.execute(insert(ReferenceCounter).values(kind=kind, year=year, last=0).on_conflict_do_nothing())
    number = await turn.session.scalar(
        update(ReferenceCounter)
        .where(ReferenceCounter.kind == kind, ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1)
        .returning(ReferenceCounter.last)
    )
    return f"{year}-{int(number or 0):05d}"
