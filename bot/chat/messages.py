"""Builds LINE message objects (as the JSON LINE expects) from content; the only place that formats replies."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from bot.content import Content, QuickReplyOption, ResponseTemplate

WireMessage = dict[str, Any]
LINK_MAX = 1000  # LINE takes uri actions of up to 1,000 characters


def is_web_link(url: str | None) -> bool:
    """An absolute http(s) link with a host and nothing a browser or LINE would read otherwise (no
    javascript:, data:, spaces or control characters): the only links cards and previews carry."""
    if not url or len(url) > LINK_MAX or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host)


class MessageBuilder:
    """Turns a response id plus parameters into LINE messages, filling in the municipality's details."""

    def __init__(self, content: Content) -> None:
        self._content = content
        self._globals = content.municipality.placeholders()

    def text(self, response_id: str, **params: str) -> WireMessage:
        """A text message from responses.yaml, with its quick-reply chips."""
        template = self._template(response_id)
        missing = set(template.params) - set(params)
        if missing:
            raise KeyError(f"response '{response_id}' needs {sorted(missing)}")
        message: WireMessage = {"type": "text", "text": template.text.format_map({**self._globals, **params})}
        chips = [self._content.quick_replies[c] for c in template.quick_replies]
        if chips:
            message["quickReply"] = {"items": [quick_reply_item(c) for c in chips]}
        return message

    def chip(self, chip_id: str) -> QuickReplyOption:
        return self._content.quick_replies[chip_id]

    def _template(self, response_id: str) -> ResponseTemplate:
        try:
            return self._content.responses[response_id]
        except KeyError:
            # Declared ids are there (content check refuses content without them): this one is not declared.
            raise KeyError(
                f"no response '{response_id}' in content/responses.yaml; declare it in bot/content/ids.py"
            ) from None


def postback_chip(label: str, data: str, display: str | None = None) -> dict[str, Any]:
    """A quick-reply button that sends a postback (and shows `display` in the chat as if typed)."""
    action: dict[str, Any] = {"type": "postback", "label": label, "data": data}
    if display:
        action["displayText"] = display
    return {"type": "action", "action": action}


def quick_reply_item(option: QuickReplyOption) -> dict[str, Any]:
    """One LINE quick-reply button for a content chip."""
    if option.postback is not None:
        action: dict[str, Any] = {"type": "postback", "label": option.label, "data": option.postback}
        if option.display:
            action["displayText"] = option.display
    else:
        action = {"type": "message", "label": option.label, "text": option.text or option.label}
    return {"type": "action", "action": action}
