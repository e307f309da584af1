"""POST /callback: verify LINE's signature on the raw bytes, store every event in one transaction, answer.

Nothing is processed here: the inbox worker handles stored events afterwards, so LINE gets its 200 within
milliseconds and a crash after the 200 loses nothing. Bad input gets a 4xx with a reason, never a 5xx; a
database that cannot store the events gets 503, so LINE redelivers later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot import keys
from bot.delivery.intake import StorageUnavailable, StoredEvent
from bot.delivery.lineids import valid_id
from bot.delivery.request_body import BodyTooLarge, read_capped

log = logging.getLogger(__name__)


def compute_signature(channel_secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(channel secret, raw body)): what LINE puts in x-line-signature."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_is_valid(channel_secret: str, body: bytes, signature: str) -> bool:
    expected = compute_signature(channel_secret, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))


class BadWebhook(Exception):
    """The body is signed but not a webhook LINE would send; the message says why (no content echoed)."""


async def callback(request: web.Request) -> web.Response:
    """Verify, store, acknowledge."""
    settings = request.app[keys.SETTINGS]
    signature = request.headers.get("x-line-signature")
    if not signature:
        return _refuse(400, "missing x-line-signature header")
    limit = settings.webhook_max_body_bytes
    try:
        body = await read_capped(request, limit)
    except BodyTooLarge:
        return _refuse(413, f"body larger than {limit} bytes")
    if not signature_is_valid(request.app[keys.CHANNEL_SECRET], body, signature):
        return _refuse(401, "invalid signature")
    try:
        events = parse_events(body)
    except BadWebhook as exc:
        return _refuse(400, str(exc))
    try:
        new_ids = await request.app[keys.INTAKE].store(events)
    except (StorageUnavailable, SQLAlchemyError, OSError, TimeoutError) as exc:
        # StorageUnavailable stands for what the driver raised; name that.
        failed = exc.__cause__ if isinstance(exc, StorageUnavailable) and exc.__cause__ else exc
        log.error("webhook not stored", extra={"error": type(failed).__name__, "events": len(events)})
        return web.json_response(
            {"error": "storage unavailable, retry later"}, status=503, headers={"Retry-After": "5"}
        )
    for event in events:
        outcome = "stored" if event.webhook_event_id in new_ids else "duplicate"
        request.app[keys.METRICS].events_received[outcome] += 1
        log.info(
            "webhook event",
            extra={"webhook_event_id": event.webhook_event_id, "event_type": event.event_type, "outcome": outcome},
        )
    inbox = request.app.get(keys.INBOX)
    if new_ids and inbox is not None:
        inbox.wake()
    return web.json_response({})


def _refuse(status: int, reason: str) -> web.Response:
    log.warning("webhook refused", extra={"status": status, "reason": reason})
    return web.json_response({"error": reason}, status=status)


# Event times past the year 3000 are not LINE's (and would not fit the database's 64-bit column anyway).
MAX_TIMESTAMP_MS = 32_503_680_000_000


def parse_events(body: bytes) -> list[StoredEvent]:
    """Turn a signed body into rows to store; raise BadWebhook for anything LINE would never send."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadWebhook("body is not valid UTF-8") from None
    try:
        payload = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise BadWebhook("body is nested too deeply") from None
    except ValueError:
        raise BadWebhook("body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise BadWebhook("body has no 'events' list")
    destination = payload.get("destination")
    if destination is not None and not isinstance(destination, str):
        raise BadWebhook("'destination' must be a string")
    return [_stored_event(i, event) for i, event in enumerate(payload["events"])]


def _refuse_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity, which JSON (and LINE) does not.
    raise ValueError(name)


def _finite_float(literal: str) -> float:
    number = float(literal)
    if math.isinf(number):  # 1e999: valid JSON syntax, but no real number
        raise ValueError(literal)
    return number


def _stored_event(index: int, event: Any) -> StoredEvent:
    if not isinstance(event, dict):
        raise BadWebhook(f"events[{index}] is not an object")
    event_type = valid_id(event.get("type"), 40)
    if event_type is None:
        raise BadWebhook(f"events[{index}] has no valid 'type'")
    timestamp = event.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP_MS:
        raise BadWebhook(f"events[{index}] has no valid 'timestamp'")
    canonical = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        canonical.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate escaped as \ud800 decodes to a str that no database or LINE request can carry.
        raise BadWebhook(f"events[{index}] holds an unpaired surrogate") from None
    event_id = valid_id(event.get("webhookEventId"), 64)
    if event_id is None:
        # LINE always sends one; without it, the content itself is the identity, so repeats still collapse.
        event_id = "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:57]
    source: dict[str, Any] = event["source"] if isinstance(event.get("source"), dict) else {}
    # The lane is the chat: a group's or room's events share one lane, a resident's own chat is theirs.
    lane = next((found for key in ("groupId", "roomId", "userId") if (found := valid_id(source.get(key), 64))), "-")
    message: dict[str, Any] = event["message"] if isinstance(event.get("message"), dict) else {}
    message_id = valid_id(message.get("id"), 64)
    return StoredEvent(
        webhook_event_id=event_id,
        lane_key=lane,
        event_type=event_type,
        message_id=message_id,
        occurred_at_ms=timestamp,
        payload=canonical,
    )
