"""What happens when nothing else matched: plain text, stale buttons, unsent messages, unknown events."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from bot.chat.dispatch import Router, Turn
from bot.chat.outcomes import Outcome, record
from bot.db.models import InboundEvent, ServiceQuery

router = Router("fallback")


@router.on_postback("*")
async def stale_postback(turn: Turn) -> None:
    """A button from an old message, or one this version no longer knows: ask to choose again."""
    turn.say("postback_expired")
    record(turn, Outcome.POSTBACK_UNKNOWN)


@router.on_event("unsend")
async def unsend(turn: Turn) -> None:
    """The resident took a message back: blank its stored text so nobody reads it later."""
    message_id = (turn.raw.get("unsend") or {}).get("messageId")
    if not isinstance(message_id, str):
        record(turn, Outcome.UNSEND_INVALID)
        return
    rows = await turn.session.scalars(
        select(InboundEvent).where(InboundEvent.message_id == message_id, InboundEvent.lane_key == turn.row.lane_key)
    )
    hidden = 0
    for row in rows:
        payload = json.loads(row.payload)
        message = payload.get("message") or {}
        if "text" in message:
            message["text"] = ""
        message["unsent"] = True
        row.payload = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        # The question log keeps the text too (for the staff inbox): it goes as well.
        await turn.session.execute(update(ServiceQuery).where(ServiceQuery.event_id == row.id).values(text=""))
        hidden += 1
    record(turn, Outcome.UNSENT, hidden)


@router.on_event("*")
async def other_event(turn: Turn) -> None:
    """Events the bot has no use for (leave, beacon, unknown types): stored, nothing sent."""
    record(turn, Outcome.IGNORED, turn.event_type)
