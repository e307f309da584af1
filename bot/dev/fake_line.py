"""A fake LINE Messaging API that speaks HTTP: the bot's partner in local mode, tests and benchmarks.

It validates every request body with the SDK's own pydantic models and, independently of bot/delivery/line.py, with
LINE's documented limits (bot/delivery/limits.py); it answers as LINE does (400 with LINE's error body, 'Invalid
reply token' for used or expired tokens, 409 for a repeated retry key, 429 past a configured rate) and records what
it received.

Control routes under /_fake/ let tests script faults (500, 429, timeouts, accept-then-timeout), issue reply
tokens, register media content, and read what each user was sent.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from linebot.v3.messaging import (
    BroadcastRequest,
    MulticastRequest,
    NarrowcastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuRequest,
    ShowLoadingAnimationRequest,
)
from PIL import Image, UnidentifiedImageError
from pydantic.v1 import ValidationError

from bot.delivery.limits import (
    ALT_TEXT_MAX,
    FLEX_BUBBLE_MAX_BYTES,
    FLEX_CAROUSEL_MAX_BYTES,
    LOADING_SECONDS_STEP,
    QUICK_REPLY_LABEL_MAX,
    REQUEST_BODY_MAX_BYTES,
    RICH_MENU_AREAS_MAX,
    RICH_MENU_CHAT_BAR_TEXT_MAX,
    RICH_MENU_IMAGE_ASPECT_MIN,
    RICH_MENU_IMAGE_HEIGHT_MIN,
    RICH_MENU_IMAGE_MAX_BYTES,
    RICH_MENU_IMAGE_WIDTH_MAX,
    RICH_MENU_IMAGE_WIDTH_MIN,
    TEXT_MAX_UTF16,
    utf16_len,
)

REPLY_TOKEN_LIFETIME_S = 60.0

# Requests per second for each rate-limit class (docs/line-platform.md#rate-limits); broadcast and
# narrowcast are 60 per hour.
DEFAULT_RATES: dict[str, float] = {
    "reply": 2000.0,
    "push": 2000.0,
    "multicast": 200.0,
    "broadcast": 60 / 3600,
    "narrowcast": 60 / 3600,
    "loading": 100.0,
    "richmenu": 100 / 3600,  # creating and deleting rich menus: 100 an hour
    "other": 2000.0,
}
# Hourly limits allow their whole hour's worth at once.
BURSTS: dict[str, float] = {"richmenu": 100.0}


@dataclass
class Received:
    """One request as the fake saw it, and how it answered."""

    endpoint: str
    body: Any
    retry_key: str | None
    status: int
    at: float


@dataclass
class Delivery:
    """A message list that reached one user."""

    user_id: str
    messages: list[dict[str, Any]]
    via: str
    seq: int
    at: float


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    updated: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class FakeLinePlatform:
    """State of the fake platform; `app()` serves it over HTTP."""

    def __init__(
        self,
        access_token: str,
        rates: dict[str, float] | None = None,
        monthly_quota: int = 1_000_000,
        reply_token_lifetime: float = REPLY_TOKEN_LIFETIME_S,
    ) -> None:
        self.access_token = access_token
        self.received: list[Received] = []
        self.deliveries: list[Delivery] = []
        self.followers: set[str] = set()
        self.profiles: dict[str, str] = {}
        self.content: dict[str, tuple[bytes, str]] = {}
        self.monthly_quota = monthly_quota
        # GET /v2/bot/insight/followers: 'ready' with counts for days before today (UTC+9), or what a test
        # sets ('unready', 'out_of_service'); `blocks` users blocking the account on top of `followers`.
        self.insight_status = "ready"
        self.blocks = 0
        self.reply_token_lifetime = reply_token_lifetime
        self._reply_tokens: dict[str, tuple[str, float]] = {}
        self._used_tokens: set[str] = set()
        self._accepted_keys: dict[str, str] = {}
        self._faults: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._rates = {**DEFAULT_RATES, **(rates or {})}
        self._buckets: dict[str, _Bucket] = {}
        self._narrowcasts: dict[str, int] = {}
        self.rich_menus: dict[str, dict[str, Any]] = {}  # id -> LINE's rich menu object
        self.rich_menu_images: dict[str, tuple[bytes, str]] = {}
        self.default_rich_menu: str | None = None
        self._seq = 0
        self._new_delivery = asyncio.Condition()

    # -- helpers for tests, the simulator and benchmarks -------------------------------------------------

    def issue_reply_token(self, user_id: str) -> str:
        token = secrets.token_hex(16)
        self._reply_tokens[token] = (user_id, time.monotonic())
        return token

    def add_fault(self, endpoint: str, fault: dict[str, Any]) -> None:
        """Queue a fault for the next request to endpoint: {'status': 500}, {'status': 429},
        {'timeout': seconds} (no answer, nothing delivered) or {'accept_then_timeout': seconds}."""
        self._faults[endpoint].append(fault)

    def set_rate(self, endpoint: str, per_second: float) -> None:
        self._rates[endpoint] = per_second
        self._buckets.pop(endpoint, None)

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        return [m for d in self.deliveries if d.user_id == user_id for m in d.messages]

    def requests_to(self, endpoint: str) -> list[Received]:
        return [r for r in self.received if r.endpoint == endpoint]

    async def wait_for_deliveries(self, count: int, timeout: float = 10.0, user_id: str | None = None) -> None:
        """Wait until at least count deliveries (to user_id, if given) have been recorded."""

        def enough() -> bool:
            return sum(1 for d in self.deliveries if user_id is None or d.user_id == user_id) >= count

        async with self._new_delivery:
            await asyncio.wait_for(self._new_delivery.wait_for(enough), timeout)

    @property
    def quota_used(self) -> int:
        # LINE counts one message per recipient of a push, multicast or broadcast, however many bubbles.
        return sum(1 for d in self.deliveries if d.via != "reply")

    # -- the HTTP app ----------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=REQUEST_BODY_MAX_BYTES)
        route = self._route
        app.router.add_post("/v2/bot/message/reply", route("reply", self._reply))
        app.router.add_post("/v2/bot/message/push", route("push", self._push))
        app.router.add_post("/v2/bot/message/multicast", route("multicast", self._multicast))
        app.router.add_post("/v2/bot/message/broadcast", route("broadcast", self._broadcast))
        app.router.add_post("/v2/bot/message/narrowcast", route("narrowcast", self._narrowcast))
        app.router.add_get("/v2/bot/message/progress/narrowcast", route("other", self._narrowcast_progress))
        app.router.add_post("/v2/bot/chat/loading/start", route("loading", self._loading))
        app.router.add_get("/v2/bot/profile/{user_id}", route("other", self._profile))
        app.router.add_get("/v2/bot/message/quota", route("other", self._quota))
        app.router.add_get("/v2/bot/message/quota/consumption", route("other", self._consumption))
        app.router.add_get("/v2/bot/insight/followers", route("other", self._insight_followers))
        app.router.add_get("/v2/bot/message/{message_id}/content", route("content", self._content))
        app.router.add_post("/v2/bot/richmenu/validate", route("other", self._validate_rich_menu))
        app.router.add_post("/v2/bot/richmenu", route("richmenu", self._create_rich_menu))
        app.router.add_get("/v2/bot/richmenu/list", route("other", self._list_rich_menus))
        app.router.add_delete("/v2/bot/richmenu/{rich_menu_id}", route("richmenu", self._delete_rich_menu))
        upload = route("richmenu-image", self._upload_rich_menu_image)
        app.router.add_post("/v2/bot/richmenu/{rich_menu_id}/content", upload)
        app.router.add_post("/v2/bot/user/all/richmenu/{rich_menu_id}", route("other", self._set_default_rich_menu))
        app.router.add_get("/v2/bot/user/all/richmenu", route("other", self._default_rich_menu))
        app.router.add_post("/_fake/reply-tokens", self._control_token)
        app.router.add_post("/_fake/faults", self._control_faults)
        app.router.add_get("/_fake/deliveries", self._control_deliveries)
        app.router.add_get("/_fake/received", self._control_received)
        return app

    def _route(
        self, endpoint: str, handler: Callable[[web.Request, Any], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            request_id = str(uuid.uuid4())
            response = await self._serve(endpoint, request, handler)
            response.headers["X-Line-Request-Id"] = request_id
            return response

        return wrapped

    async def _serve(
        self, endpoint: str, request: web.Request, handler: Callable[[web.Request, Any], Awaitable[web.Response]]
    ) -> web.StreamResponse:
        raw = await request.read()
        retry_key = request.headers.get("X-Line-Retry-Key")
        body: Any = None
        if request.content_type.startswith("image/"):
            body = raw  # an upload (a rich menu's image): the handler checks the bytes
        elif raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return self._record(endpoint, None, retry_key, _error(400, "The request body has 1 error(s)"))
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return self._record(
                endpoint,
                body,
                retry_key,
                _error(
                    401, "Authentication failed. Confirm that the access token in the authorization header is valid."
                ),
            )
        fault = self._faults[endpoint].pop(0) if self._faults[endpoint] else None
        if fault and "status" in fault:
            return self._record(endpoint, body, retry_key, _error(fault["status"], fault.get("message", "fault")))
        if fault and "timeout" in fault:
            await asyncio.sleep(fault["timeout"])
            return self._record(endpoint, body, retry_key, _error(500, "timed out"))
        bucket = self._bucket(endpoint)
        if not bucket.take():
            return self._record(endpoint, body, retry_key, _error(429, "Too Many Requests"))
        if retry_key is not None:
            refusal = self._check_retry_key(endpoint, retry_key)
            if refusal is not None:
                return self._record(endpoint, body, retry_key, refusal)
        try:
            response = await handler(request, body)
        except _LineError as exc:
            response = _error(exc.status, exc.message, exc.details)
        if retry_key is not None and response.status < 300:
            self._accepted_keys[retry_key] = str(uuid.uuid4())
        self._record(endpoint, body, retry_key, response)
        if fault and "accept_then_timeout" in fault:
            await asyncio.sleep(fault["accept_then_timeout"])
        return response

    def _bucket(self, endpoint: str) -> _Bucket:
        key = endpoint if endpoint in self._rates else "other"
        if key not in self._buckets:
            rate = self._rates[key]
            capacity = BURSTS.get(key, max(1.0, rate))
            self._buckets[key] = _Bucket(rate=rate, capacity=capacity, tokens=capacity)
        return self._buckets[key]

    def _check_retry_key(self, endpoint: str, key: str) -> web.Response | None:
        if endpoint not in {"push", "multicast", "broadcast", "narrowcast"}:
            return _error(400, "The retry key is not supported for this endpoint")
        try:
            uuid.UUID(key)
        except ValueError:
            return _error(400, "The value of the X-Line-Retry-Key header is invalid")
        accepted = self._accepted_keys.get(key)
        if accepted is not None:
            response = _error(409, "The retry key is already accepted")
            response.headers["x-line-accepted-request-id"] = accepted
            return response
        return None

    def _record(self, endpoint: str, body: Any, retry_key: str | None, response: web.Response) -> web.Response:
        self.received.append(Received(endpoint, body, retry_key, response.status, time.monotonic()))
        return response

    async def _deliver(self, user_ids: list[str], messages: list[dict[str, Any]], via: str) -> None:
        async with self._new_delivery:
            for user_id in user_ids:
                self._seq += 1
                self.deliveries.append(Delivery(user_id, messages, via, self._seq, time.time()))
            self._new_delivery.notify_all()

    # -- endpoints -------------------------------------------------------------------------------------

    async def _reply(self, _request: web.Request, body: Any) -> web.Response:
        parsed = _validate(ReplyMessageRequest, body)
        token = parsed.reply_token
        issued = self._reply_tokens.get(token)
        if issued is None or token in self._used_tokens or time.monotonic() - issued[1] > self.reply_token_lifetime:
            raise _LineError(400, "Invalid reply token")
        self._used_tokens.add(token)
        await self._deliver([issued[0]], body["messages"], "reply")
        return web.json_response({"sentMessages": _sent(body["messages"])})

    async def _push(self, _request: web.Request, body: Any) -> web.Response:
        parsed = _validate(PushMessageRequest, body)
        await self._deliver([parsed.to], body["messages"], "push")
        return web.json_response({"sentMessages": _sent(body["messages"])})

    async def _multicast(self, _request: web.Request, body: Any) -> web.Response:
        parsed = _validate(MulticastRequest, body)
        await self._deliver(list(parsed.to), body["messages"], "multicast")
        return web.json_response({})

    async def _broadcast(self, _request: web.Request, body: Any) -> web.Response:
        _validate(BroadcastRequest, body)
        await self._deliver(sorted(self.followers), body["messages"], "broadcast")
        return web.json_response({})

    async def _narrowcast(self, request: web.Request, body: Any) -> web.Response:
        _validate(NarrowcastRequest, body)
        request_id = str(uuid.uuid4())
        self._narrowcasts[request_id] = len(self.followers)
        await self._deliver(sorted(self.followers), body["messages"], "narrowcast")
        response = web.json_response({}, status=202)
        response.headers["X-Line-Request-Id"] = request_id
        return response

    async def _narrowcast_progress(self, request: web.Request, _body: Any) -> web.Response:
        request_id = request.query.get("requestId", "")
        if request_id not in self._narrowcasts:
            raise _LineError(404, "Not found")
        count = self._narrowcasts[request_id]
        return web.json_response(
            {
                "phase": "succeeded",
                "successCount": count,
                "failureCount": 0,
                "targetCount": count,
                "acceptedTime": "2026-01-01T00:00:00.000Z",
                "completedTime": "2026-01-01T00:00:01.000Z",
            }
        )

    async def _loading(self, _request: web.Request, body: Any) -> web.Response:
        parsed = _validate(ShowLoadingAnimationRequest, body)
        seconds = parsed.loading_seconds or 20
        if seconds % LOADING_SECONDS_STEP:
            raise _LineError(
                400,
                "The request body has 1 error(s)",
                [{"message": f"Must be a multiple of {LOADING_SECONDS_STEP}", "property": "loadingSeconds"}],
            )
        return web.json_response({}, status=202)

    async def _profile(self, request: web.Request, _body: Any) -> web.Response:
        user_id = request.match_info["user_id"]
        if user_id not in self.followers and user_id not in self.profiles:
            raise _LineError(404, "Not found")
        name = self.profiles.get(user_id, "ผู้ใช้ทดสอบ")
        return web.json_response({"userId": user_id, "displayName": name, "language": "th"})

    async def _quota(self, _request: web.Request, _body: Any) -> web.Response:
        return web.json_response({"type": "limited", "value": self.monthly_quota})

    async def _consumption(self, _request: web.Request, _body: Any) -> web.Response:
        return web.json_response({"totalUsage": self.quota_used})

    async def _insight_followers(self, request: web.Request, _body: Any) -> web.Response:
        """LINE's friend count for a day (yyyyMMdd, UTC+9; optional): 'unready' until that day is over. As
        LINE counts: `followers` is every user who ever added the account (blocking does not lower it),
        `blocks` those blocking it now; the fake's current friends are those not blocking."""
        day = request.query.get("date")
        if day is not None and not (len(day) == 8 and day.isascii() and day.isdigit()):
            details = [{"message": "Must be yyyyMMdd", "property": "date"}]
            raise _LineError(400, "The request parameter is invalid", details)
        today = time.strftime("%Y%m%d", time.gmtime(time.time() + 9 * 3600))
        if self.insight_status != "ready" or (day is not None and day >= today):
            status = self.insight_status if self.insight_status != "ready" else "unready"
            return web.json_response({"status": status})
        friends = len(self.followers)
        return web.json_response(
            {"status": "ready", "followers": friends + self.blocks, "targetedReaches": friends, "blocks": self.blocks}
        )

    async def _content(self, request: web.Request, _body: Any) -> web.Response:
        item = self.content.get(request.match_info["message_id"])
        if item is None:
            raise _LineError(404, "Not found")
        return web.Response(body=item[0], content_type=item[1])

    async def _validate_rich_menu(self, _request: web.Request, body: Any) -> web.Response:
        _validate_rich_menu_object(body)
        return web.json_response({})

    async def _create_rich_menu(self, _request: web.Request, body: Any) -> web.Response:
        _validate_rich_menu_object(body)
        rich_menu_id = f"richmenu-{uuid.uuid4().hex}"
        self.rich_menus[rich_menu_id] = {"richMenuId": rich_menu_id, **body}
        return web.json_response({"richMenuId": rich_menu_id})

    async def _list_rich_menus(self, _request: web.Request, _body: Any) -> web.Response:
        return web.json_response({"richmenus": list(self.rich_menus.values())})

    async def _delete_rich_menu(self, request: web.Request, _body: Any) -> web.Response:
        rich_menu_id = request.match_info["rich_menu_id"]
        if self.rich_menus.pop(rich_menu_id, None) is None:
            raise _LineError(404, "Not found")
        self.rich_menu_images.pop(rich_menu_id, None)
        if self.default_rich_menu == rich_menu_id:
            self.default_rich_menu = None
        return web.json_response({})

    async def _upload_rich_menu_image(self, request: web.Request, body: Any) -> web.Response:
        rich_menu_id = request.match_info["rich_menu_id"]
        menu = self.rich_menus.get(rich_menu_id)
        if menu is None:
            raise _LineError(404, "Not found")
        if rich_menu_id in self.rich_menu_images:
            raise _LineError(400, "An image has already been uploaded to the richmenu")
        if request.content_type not in ("image/png", "image/jpeg") or not isinstance(body, bytes):
            raise _LineError(415, "Unsupported media type")
        if len(body) > RICH_MENU_IMAGE_MAX_BYTES:
            raise _LineError(400, "The image is larger than 1 MB")
        size = _image_size(body, request.content_type)
        if size != (menu["size"]["width"], menu["size"]["height"]):
            raise _LineError(400, "The image size does not match the size of the rich menu")
        self.rich_menu_images[rich_menu_id] = (body, request.content_type)
        return web.json_response({})

    async def _set_default_rich_menu(self, request: web.Request, _body: Any) -> web.Response:
        rich_menu_id = request.match_info["rich_menu_id"]
        if rich_menu_id not in self.rich_menus:
            raise _LineError(404, "Not found")
        if rich_menu_id not in self.rich_menu_images:
            raise _LineError(400, "Must upload richmenu image before applying it to user")
        self.default_rich_menu = rich_menu_id
        return web.json_response({})

    async def _default_rich_menu(self, _request: web.Request, _body: Any) -> web.Response:
        if self.default_rich_menu is None:
            raise _LineError(404, "no default richmenu")
        return web.json_response({"richMenuId": self.default_rich_menu})

    # -- control routes --------------------------------------------------------------------------------

    async def _control_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        count = min(int(body.get("count", 1)), 100_000)
        tokens = [self.issue_reply_token(str(body["userId"])) for _ in range(count)]
        return web.json_response({"replyToken": tokens[0], "replyTokens": tokens})

    async def _control_faults(self, request: web.Request) -> web.Response:
        body = await request.json()
        for fault in body.get("faults", []):
            self.add_fault(str(body["endpoint"]), fault)
        return web.json_response({"queued": len(self._faults[str(body["endpoint"])])})

    async def _control_deliveries(self, request: web.Request) -> web.Response:
        user_id = request.query.get("userId")
        after = int(request.query.get("after", "0"))
        wait = min(float(request.query.get("wait", "0")), 25.0)

        def pending() -> list[Delivery]:
            return [d for d in self.deliveries if d.seq > after and (user_id is None or d.user_id == user_id)]

        if wait and not pending():
            try:
                async with self._new_delivery:
                    await asyncio.wait_for(self._new_delivery.wait_for(lambda: bool(pending())), wait)
            except TimeoutError:
                pass
        return web.json_response(
            [{"seq": d.seq, "userId": d.user_id, "via": d.via, "at": d.at, "messages": d.messages} for d in pending()]
        )

    async def _control_received(self, _request: web.Request) -> web.Response:
        return web.json_response(
            [{"endpoint": r.endpoint, "status": r.status, "retryKey": r.retry_key} for r in self.received]
        )


class _LineError(Exception):
    def __init__(self, status: int, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []


def _error(status: int, message: str, details: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = details
    return web.json_response(body, status=status)


def _sent(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"id": str(uuid.uuid4().int)[:18]} for _ in messages]


def _validate(model: Any, body: Any) -> Any:
    """Validate with the SDK's own model, then with LINE's limits the models do not encode."""
    if not isinstance(body, dict):
        raise _LineError(400, "The request body has 1 error(s)", [{"message": "must be an object", "property": ""}])
    try:
        parsed = model.from_dict(body)
    except (ValidationError, ValueError, TypeError, KeyError) as exc:
        raise _LineError(
            400,
            "The request body has 1 error(s)",
            [{"message": str(exc).splitlines()[0][:200], "property": "messages"}],
        ) from None
    details = list(_limit_problems(body.get("messages", [])))
    if details:
        raise _LineError(400, f"The request body has {len(details)} error(s)", details)
    return parsed


def _validate_rich_menu_object(body: Any) -> None:
    """The SDK's model, then the limits LINE documents for a rich menu object."""
    _validate(RichMenuRequest, body)
    size = body["size"]
    width, height = int(size["width"]), int(size["height"])
    problems = []
    wide_enough = RICH_MENU_IMAGE_WIDTH_MIN <= width <= RICH_MENU_IMAGE_WIDTH_MAX
    if not (wide_enough and height >= RICH_MENU_IMAGE_HEIGHT_MIN and width / height >= RICH_MENU_IMAGE_ASPECT_MIN):
        shape = (
            f"must be {RICH_MENU_IMAGE_WIDTH_MIN}-{RICH_MENU_IMAGE_WIDTH_MAX} wide, at least"
            f" {RICH_MENU_IMAGE_HEIGHT_MIN} high, width/height >= {RICH_MENU_IMAGE_ASPECT_MIN}"
        )
        problems.append({"message": shape, "property": "size"})
    if len(str(body.get("chatBarText", ""))) > RICH_MENU_CHAT_BAR_TEXT_MAX:
        problems.append({"message": f"Length must be at most {RICH_MENU_CHAT_BAR_TEXT_MAX}", "property": "chatBarText"})
    areas = body.get("areas") or []
    if len(areas) > RICH_MENU_AREAS_MAX:
        problems.append({"message": f"Size must be at most {RICH_MENU_AREAS_MAX}", "property": "areas"})
    for i, area in enumerate(areas):
        b = area["bounds"]
        if b["x"] < 0 or b["y"] < 0 or b["x"] + b["width"] > width or b["y"] + b["height"] > height:
            problems.append({"message": "the area is outside the rich menu", "property": f"areas[{i}].bounds"})
    if problems:
        raise _LineError(400, f"The request body has {len(problems)} error(s)", problems)


def _image_size(data: bytes, content_type: str) -> tuple[int, int]:
    """Width and height read from the image's own header (PNG's IHDR, JPEG's start-of-frame)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != {"image/png": "PNG", "image/jpeg": "JPEG"}[content_type]:
                raise _LineError(400, "The image does not match its content type")
            return image.size
    except UnidentifiedImageError:
        raise _LineError(400, "The image could not be read") from None


def _limit_problems(messages: list[dict[str, Any]]) -> Any:
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if message.get("type") == "text" and utf16_len(message.get("text", "")) > TEXT_MAX_UTF16:
            yield {"message": f"Length must be between 0 and {TEXT_MAX_UTF16}", "property": f"{where}.text"}
        if message.get("type") == "flex":
            if len(message.get("altText", "")) > ALT_TEXT_MAX:
                yield {"message": f"Length must be between 0 and {ALT_TEXT_MAX}", "property": f"{where}.altText"}
            size = len(json.dumps(message.get("contents"), ensure_ascii=False, separators=(",", ":")).encode())
            carousel = (message.get("contents") or {}).get("type") == "carousel"
            limit = FLEX_CAROUSEL_MAX_BYTES if carousel else FLEX_BUBBLE_MAX_BYTES
            if size > limit:
                yield {"message": f"Size must be at most {limit} bytes", "property": f"{where}.contents"}
        for j, item in enumerate((message.get("quickReply") or {}).get("items", [])):
            label = (item.get("action") or {}).get("label") or ""
            if len(label) > QUICK_REPLY_LABEL_MAX:
                yield {
                    "message": f"Length must be between 0 and {QUICK_REPLY_LABEL_MAX}",
                    "property": f"{where}.quickReply.items[{j}].action.label",
                }


def main() -> None:
    """Serve the fake platform on its own: `python -m bot.dev.fake_line --port 8900 --token T`."""
    import argparse

    parser = argparse.ArgumentParser(description="fake LINE Messaging API for local runs and benchmarks")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--token", required=True, help="the channel access token the bot will present")
    args = parser.parse_args()
    fake = FakeLinePlatform(access_token=args.token)
    web.run_app(fake.app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
