"""Builds webhook bodies the way LINE does, for the simulator, tests and benchmarks."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

BOT_USER_ID = "U" + "0" * 32


def _ulid_like() -> str:
    """LINE's webhookEventId is a 26-character ULID; uniqueness is what matters here."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(26))


def base_event(
    event_type: str,
    user_id: str,
    reply_token: str | None = None,
    timestamp_ms: int | None = None,
    redelivery: bool = False,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": event_type,
        "mode": "active",
        "timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": _ulid_like(),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if reply_token is not None:
        event["replyToken"] = reply_token
    return event


def text_event(user_id: str, text: str, reply_token: str | None = None, **kw: Any) -> dict[str, Any]:
    event = base_event("message", user_id, reply_token, **kw)
    event["message"] = {
        "type": "text",
        "id": str(secrets.randbelow(10**18)),
        "text": text,
        "quoteToken": secrets.token_urlsafe(16),
    }
    return event


def postback_event(user_id: str, data: str, reply_token: str | None = None, **kw: Any) -> dict[str, Any]:
    event = base_event("postback", user_id, reply_token, **kw)
    event["postback"] = {"data": data}
    return event


def follow_event(user_id: str, reply_token: str | None = None, **kw: Any) -> dict[str, Any]:
    event = base_event("follow", user_id, reply_token, **kw)
    event["follow"] = {"isUnblocked": False}
    return event


def sticker_event(user_id: str, reply_token: str | None = None, **kw: Any) -> dict[str, Any]:
    event = base_event("message", user_id, reply_token, **kw)
    event["message"] = {
        "type": "sticker",
        "id": str(secrets.randbelow(10**18)),
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
        "quoteToken": secrets.token_urlsafe(16),
    }
    return event


def image_event(user_id: str, message_id: str, reply_token: str | None = None, **kw: Any) -> dict[str, Any]:
    event = base_event("message", user_id, reply_token, **kw)
    event["message"] = {
        "type": "image",
        "id": message_id,
        "contentProvider": {"type": "line"},
        "quoteToken": secrets.token_urlsafe(16),
    }
    return event


def location_event(
    user_id: str, latitude: float, longitude: float, reply_token: str | None = None, **kw: Any
) -> dict[str, Any]:
    event = base_event("message", user_id, reply_token, **kw)
    event["message"] = {
        "type": "location",
        "id": str(secrets.randbelow(10**18)),
        "title": None,
        "address": None,
        "latitude": latitude,
        "longitude": longitude,
    }
    return event


def body(*events: dict[str, Any], destination: str = BOT_USER_ID) -> bytes:
    return json.dumps({"destination": destination, "events": list(events)}, ensure_ascii=False).encode()
