"""/simulator: a chat page where a person talks to the bot as a resident would, in local mode.

Every message typed there becomes a LINE-shaped webhook event, signed with this process's channel secret
and posted to our own /callback over HTTP: the same path real LINE traffic takes. Replies are read back from
the fake LINE platform that received them.
"""

from __future__ import annotations

import contextlib
import math
import re
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot import keys
from bot.delivery import geo
from bot.delivery.limits import TEXT_MAX_UTF16, utf16_len
from bot.delivery.webhook import compute_signature
from bot.dev import events

_USER_ID = re.compile(r"^U[0-9a-f]{32}$")


async def home(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/simulator")


async def page(_request: web.Request) -> web.Response:
    html = resources.files("bot.dev").joinpath("static/simulator.html").read_text(encoding="utf-8")
    return web.Response(
        text=html,
        content_type="text/html",
        headers={
            "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
            "frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _cross_origin(request: web.Request) -> str | None:
    """Why a request comes from another site, or None. This page posts signed events as any resident it is
    told to be, so a page on another site must not be able to make the browser post here: browsers say where
    a request comes from (Sec-Fetch-Site, else Origin). A client that sends neither is not a browser."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return None if site == "same-origin" else "cross-origin request refused (Sec-Fetch-Site is not same-origin)"
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        return "cross-origin request refused (Origin does not match Host)"
    return None


def _bad(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def send(request: web.Request) -> web.Response:
    """Turn what the person did into a webhook event and post it, signed, to /callback."""
    refused = _cross_origin(request)
    if refused is not None:
        return _bad(refused, 403)
    # Only JSON: a form on another page can post text/plain without asking, but not application/json.
    if request.content_type != "application/json":
        return _bad("body must be application/json", 415)
    try:
        body: Any = await request.json()
    except (ValueError, RecursionError):
        return _bad("body must be JSON")
    if not isinstance(body, dict):
        return _bad("body must be a JSON object")
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not _USER_ID.match(user_id):
        return _bad("userId must look like a LINE user id")
    fake = request.app[keys.FAKE_LINE]
    token = fake.issue_reply_token(user_id)
    kind = body.get("kind")
    if kind == "text" and isinstance(body.get("text"), str) and 0 < utf16_len(body["text"]) <= TEXT_MAX_UTF16:
        event = events.text_event(user_id, body["text"], token)
    elif kind == "postback" and isinstance(body.get("data"), str) and len(body["data"]) <= 300:
        event = events.postback_event(user_id, body["data"], token)
    elif kind == "follow":
        fake.followers.add(user_id)
        event = events.follow_event(user_id, token)
    elif kind == "sticker":
        event = events.sticker_event(user_id, token)
    elif kind == "location":
        latitude, longitude = body.get("latitude", 13.75), body.get("longitude", 100.5)
        if geo.point(latitude, 0) is None:
            return _bad(f"latitude must be a number from -{geo.MAX_LATITUDE:g} to {geo.MAX_LATITUDE:g}")
        if geo.point(0, longitude) is None:
            return _bad(f"longitude must be a number from -{geo.MAX_LONGITUDE:g} to {geo.MAX_LONGITUDE:g}")
        event = events.location_event(user_id, float(latitude), float(longitude), token)
    else:
        return _bad("unknown kind or missing text")
    raw = events.body(event)
    secret = request.app[keys.CHANNEL_SECRET]
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    port = sockname[1] if sockname else request.app[keys.SETTINGS].port
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{port}/callback",
            data=raw,
            headers={"Content-Type": "application/json", "x-line-signature": compute_signature(secret, raw)},
        ) as response,
    ):
        status = response.status
    return web.json_response({"status": status}, status=200 if status == 200 else 502)


async def messages(request: web.Request) -> web.Response:
    """What the fake LINE delivered to this user after `after`, waiting up to `wait` seconds for more."""
    user_id = request.query.get("userId", "")
    if not _USER_ID.match(user_id):
        return _bad("userId must look like a LINE user id")
    try:
        after = int(request.query.get("after", "0"))
        wait = float(request.query.get("wait", "0"))
    except ValueError:
        return _bad("after and wait must be numbers")
    wait = min(max(wait, 0.0), 25.0) if math.isfinite(wait) else 0.0
    fake = request.app[keys.FAKE_LINE]

    def fresh() -> list[Any]:
        return [d for d in fake.deliveries if d.user_id == user_id and d.seq > after]

    if wait and not fresh():
        with contextlib.suppress(TimeoutError):
            await fake.wait_for_deliveries(
                sum(1 for d in fake.deliveries if d.user_id == user_id) + 1, timeout=wait, user_id=user_id
            )
    return web.json_response([{"seq": d.seq, "via": d.via, "messages": d.messages} for d in fresh()])
