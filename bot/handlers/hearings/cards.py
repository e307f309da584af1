"""The messages of a hearing: the announcement (a Flex bubble with RSVP buttons and a text alternative that
stands alone), the reminder and the follow-up. Every word comes from content/responses.yaml."""

from __future__ import annotations

from typing import Any

from bot.chat.messages import MessageBuilder, WireMessage, is_web_link
from bot.chat.postbacks import RsvpChoice
from bot.content import Content
from bot.db.codes import RsvpAnswer
from bot.db.models import Hearing
from bot.delivery import geo
from bot.handlers.services.timeline import BANGKOK, thai_date

# The project's cap on a hearing's altText, not LINE's (ALT_TEXT_MAX, 1,500, in bot/delivery/limits.py): a
# notification shows far less.
NOTIFICATION_ALT_CHARS = 400
_ANSWER_PHRASES: dict[str, str] = {answer: f"chip_rsvp_{answer}" for answer in RsvpAnswer}


def when(content: Content, hearing: Hearing) -> str:
    """'วันเสาร์ 12 ธันวาคม 2569 เวลา 09.00 น.' (Buddhist era, Thai time)."""
    local = hearing.starts_at.astimezone(BANGKOK)
    return content.phrases["hearing_when"].format(date=thai_date(local.date()), time=local.strftime("%H.%M"))


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, "wrap": True, "size": style.pop("size", "sm"), **style}


def _postback_button(label: str, data: str, primary: bool = False) -> dict[str, Any]:
    return {
        "type": "button",
        "style": "primary" if primary else "secondary",
        "height": "sm",
        "action": {"type": "postback", "label": label, "data": data, "displayText": label},
    }


def announcement(content: Content, hearing: Hearing, answer: str | None = None, full: bool = False) -> WireMessage:
    """The invitation: title, date and time, place (with a map button), agenda, and RSVP buttons."""
    phrases = content.phrases
    body: list[dict[str, Any]] = [
        _text(hearing.title, weight="bold", size="md"),
        _text(when(content, hearing), color="#1F6F43", weight="bold"),
        _text(phrases["hearing_place"].format(place=hearing.place)),
    ]
    if hearing.agenda:
        body += [_text(phrases["hearing_agenda"], weight="bold", margin="md"), _text(hearing.agenda[:600])]
    if hearing.invited:
        body.append(_text(phrases["hearing_invited"].format(invited=hearing.invited), color="#555555"))
    if answer:
        label = phrases[_ANSWER_PHRASES[answer]]
        body.append(_text(phrases["hearing_your_answer"].format(answer=label), margin="md", color="#555555"))
    if full:
        body.append(_text(phrases["hearing_seats_full"], color="#B26A00", margin="md"))
    footer: list[dict[str, Any]] = []
    if hearing.rsvp_enabled:
        for value, phrase in _ANSWER_PHRASES.items():
            chosen = value == RsvpAnswer.GOING
            footer.append(_postback_button(phrases[phrase], RsvpChoice(hearing.id, value).pack(), chosen))
    # Links only to the web (a row saved before edits were checked may hold anything): see is_web_link.
    point = geo.point(hearing.latitude, hearing.longitude)
    if point is not None:
        uri = f"https://www.google.com/maps/search/?api=1&query={point[0]:.6f},{point[1]:.6f}"
        footer.append(
            {"type": "button", "height": "sm", "action": {"type": "uri", "label": phrases["hearing_map"], "uri": uri}}
        )
    if is_web_link(hearing.online_url):
        footer.append(
            {
                "type": "button",
                "height": "sm",
                "action": {"type": "uri", "label": phrases["hearing_online"], "uri": hearing.online_url},
            }
        )
    bubble: dict[str, Any] = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
    }
    if footer:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": footer}
    return {"type": "flex", "altText": alt_text(content, hearing), "contents": bubble}


def alt_text(content: Content, hearing: Hearing) -> str:
    """What a notification or an old phone shows instead of the card: enough to know what, when and where."""
    text = content.phrases["hearing_alt"].format(title=hearing.title, when=when(content, hearing), place=hearing.place)
    return text if len(text) <= NOTIFICATION_ALT_CHARS else text[: NOTIFICATION_ALT_CHARS - 1] + "…"


def carousel(content: Content, hearings: list[tuple[Hearing, str | None, bool]]) -> WireMessage:
    """Several upcoming hearings side by side (each with the resident's answer, and whether it is full)."""
    bubbles = [announcement(content, h, answer, full)["contents"] for h, answer, full in hearings]
    alt = " / ".join(alt_text(content, h) for h, _, _ in hearings)
    return {
        "type": "flex",
        "altText": alt if len(alt) <= NOTIFICATION_ALT_CHARS else alt[: NOTIFICATION_ALT_CHARS - 1] + "…",
        "contents": {"type": "carousel", "contents": bubbles},
    }


def reminder(content: Content, hearing: Hearing) -> WireMessage:
    return MessageBuilder(content).text(
        "hearing_reminder", title=hearing.title, when=when(content, hearing), place=hearing.place
    )


def follow_up(content: Content, hearing: Hearing, note: str) -> WireMessage:
    return MessageBuilder(content).text("hearing_follow_up", title=hearing.title, note=note)
