"""The answer to a question another agency handles (content/referrals.yaml): who does it, their hotline,
and chips to what the municipality can still help with, then back to the menu."""

from __future__ import annotations

from typing import Any

from bot.chat.messages import MessageBuilder, WireMessage, postback_chip, quick_reply_item
from bot.chat.postbacks import ServiceChoice
from bot.content import Referral
from bot.delivery.limits import QUICK_REPLY_ITEMS_MAX

REPORT_CHIP = "report"


def referral_reply(builder: MessageBuilder, referral: Referral) -> WireMessage:
    """The referral's answer; its related services first among the chips (they are why a resident stays)."""
    message = builder.text("referral", answer=referral.answer)
    chips: list[dict[str, Any]] = [
        postback_chip(service.label, ServiceChoice(service.id).pack(), service.label) for service in referral.related
    ]
    if referral.offers_report:
        chips.append(quick_reply_item(builder.chip(REPORT_CHIP)))
    chips += message.get("quickReply", {}).get("items", [])
    if chips:
        message["quickReply"] = {"items": chips[:QUICK_REPLY_ITEMS_MAX]}
    return message
