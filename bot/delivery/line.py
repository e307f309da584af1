"""The only module that talks to LINE: reply (falling back to push), push, multicast, broadcast, loading
animation, profile, quota and message content; with LINE's limits (limits.py) checked before anything is sent,
explicit timeouts, and retries that reuse one X-Line-Retry-Key per logical send.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from linebot.v3.insight import ApiException as InsightApiException
from linebot.v3.insight import AsyncApiClient as InsightApiClient
from linebot.v3.insight import AsyncInsight
from linebot.v3.insight import Configuration as InsightConfiguration
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    RichMenuRequest,
    ShowLoadingAnimationRequest,
)

from bot.delivery.limits import (
    ALT_TEXT_MAX,
    FLEX_BUBBLE_MAX_BYTES,
    FLEX_CAROUSEL_MAX_BUBBLES,
    FLEX_CAROUSEL_MAX_BYTES,
    MESSAGES_PER_REQUEST,
    MULTICAST_MAX_RECIPIENTS,
    QUICK_REPLY_ITEMS_MAX,
    QUICK_REPLY_LABEL_MAX,
    TEXT_MAX_UTF16,
    utf16_len,
)

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


class LineLimitError(ValueError):
    """A message breaks one of LINE's limits; raised before any request is made."""


class LineSendError(Exception):
    """LINE refused or could not be reached; `retryable` says whether trying later may help.
    `may_have_landed`: some attempt ended without a clear answer (a 5xx or no response at all), so LINE may
    have delivered it; a 4xx, 429 included, is a clear "not delivered"."""

    def __init__(
        self, what: str, status: int | None, detail: str, retryable: bool, may_have_landed: bool = False
    ) -> None:
        super().__init__(f"{what} failed: {status or 'no response'} {detail}".strip())
        self.what = what
        self.status = status
        self.detail = detail
        self.retryable = retryable
        self.may_have_landed = may_have_landed


class InvalidReplyToken(LineSendError):
    """The reply token was used already or has expired (LINE answers 400 'Invalid reply token')."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(timeout=settings.line_request_timeout_seconds, base_delay=settings.line_retry_base_seconds)

    def delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff: spreads retries so many processes do not retry in step."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # noqa: S311


@dataclass(frozen=True)
class SendResult:
    """How a message reached the resident: 'reply', 'push', or 'reply-assumed' when an earlier attempt whose
    outcome was unknown must have used the token (LINE answers 'Invalid reply token' to the retry)."""

    via: str
    request_id: str | None = None


def new_retry_key() -> str:
    return str(uuid.uuid4())


def check_messages(messages: Sequence[dict[str, Any]]) -> None:
    """Raise LineLimitError if LINE would refuse these messages."""
    if not 1 <= len(messages) <= MESSAGES_PER_REQUEST:
        raise LineLimitError(f"{len(messages)} messages; LINE takes 1 to {MESSAGES_PER_REQUEST} per request")
    for message in messages:
        kind = message.get("type")
        if kind == "text":
            length = utf16_len(message.get("text", ""))
            if not 1 <= length <= TEXT_MAX_UTF16:
                raise LineLimitError(f"text of {length} UTF-16 units; LINE takes 1 to {TEXT_MAX_UTF16}")
        elif kind == "flex":
            _check_flex(message)
        items = (message.get("quickReply") or {}).get("items") or []
        if len(items) > QUICK_REPLY_ITEMS_MAX:
            raise LineLimitError(f"{len(items)} quick replies; LINE shows at most {QUICK_REPLY_ITEMS_MAX}")
        for item in items:
            label = item.get("action", {}).get("label", "")
            if len(label) > QUICK_REPLY_LABEL_MAX:
                raise LineLimitError(f"quick reply label '{label}' is over {QUICK_REPLY_LABEL_MAX} characters")


def _check_flex(message: dict[str, Any]) -> None:
    alt = message.get("altText", "")
    if not 1 <= len(alt) <= ALT_TEXT_MAX:
        raise LineLimitError(f"flex altText of {len(alt)} characters; LINE takes 1 to {ALT_TEXT_MAX}")
    contents = message.get("contents") or {}
    size = len(json.dumps(contents, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if contents.get("type") == "carousel":
        if len(contents.get("contents", [])) > FLEX_CAROUSEL_MAX_BUBBLES:
            raise LineLimitError(f"a carousel takes at most {FLEX_CAROUSEL_MAX_BUBBLES} bubbles")
        if size > FLEX_CAROUSEL_MAX_BYTES:
            raise LineLimitError(f"carousel JSON is {size} bytes; LINE takes {FLEX_CAROUSEL_MAX_BYTES}")
    elif size > FLEX_BUBBLE_MAX_BYTES:
        raise LineLimitError(f"bubble JSON is {size} bytes; LINE takes {FLEX_BUBBLE_MAX_BYTES}")


class LineGateway:
    """LINE's Messaging API for this bot. Create inside the running event loop; close on shutdown."""

    def __init__(
        self,
        access_token: str,
        api_base_url: str | None,
        data_api_base_url: str | None,
        policy: RetryPolicy | None = None,
        on_call: Callable[[str, int | None], None] | None = None,
    ) -> None:
        # host=None keeps the SDK's own LINE hosts; anything else redirects every call (tests, local mode).
        self._api_client = AsyncApiClient(Configuration(access_token=access_token, host=api_base_url))
        self._data_client = AsyncApiClient(Configuration(access_token=access_token, host=data_api_base_url))
        self._insight_client = InsightApiClient(InsightConfiguration(access_token=access_token, host=api_base_url))
        self._api = AsyncMessagingApi(self._api_client)
        self._blob = AsyncMessagingApiBlob(self._data_client)
        self._insight = AsyncInsight(self._insight_client)
        self.policy = policy or RetryPolicy()
        self._on_call = on_call or (lambda _what, _status: None)

    @classmethod
    def for_channel(cls, settings: Settings, on_call: Callable[[str, int | None], None] | None = None) -> LineGateway:
        """The gateway to the configured LINE channel (its token and hosts, its retry settings)."""
        if settings.line_channel_access_token is None:
            raise ValueError("LINE_CHANNEL_ACCESS_TOKEN is not set")
        return cls(
            settings.line_channel_access_token.reveal(),
            settings.line_api_base_url,
            settings.line_data_api_base_url,
            RetryPolicy.from_settings(settings),
            on_call=on_call,
        )

    async def close(self) -> None:
        await self._api_client.close()
        await self._data_client.close()
        await self._insight_client.close()

    # -- sending ---------------------------------------------------------------------------------------

    async def reply_or_push(
        self,
        to: str,
        reply_token: str | None,
        messages: Sequence[dict[str, Any]],
        retry_key: str,
        reply_may_have_landed: bool = False,
        on_fallback: Callable[[], Awaitable[None]] | None = None,
    ) -> SendResult:
        """Reply (free) while the token works; when LINE says it is used or expired, push with retry_key.

        reply_may_have_landed: an earlier attempt with this token ended without an answer (timeout, 5xx,
        crash), so 'Invalid reply token' now most likely means that attempt was delivered: pushing again
        would send the answer twice. The same holds within this call's own retries. on_fallback runs before
        the push, so a caller can remember that this send has become a push (whose retry key makes later
        retries safe).
        """
        check_messages(messages)
        if reply_token:
            try:
                await self._reply(reply_token, messages)
                return SendResult("reply")
            except InvalidReplyToken as exc:
                if reply_may_have_landed or exc.may_have_landed:
                    return SendResult("reply-assumed")
            if on_fallback is not None:
                await on_fallback()
        await self.push(to, messages, retry_key)
        return SendResult("push")

    async def _reply(self, reply_token: str, messages: Sequence[dict[str, Any]]) -> None:
        body = {"replyToken": reply_token, "messages": list(messages)}
        await self._with_retries(
            "reply",
            lambda: self._send_as_is(AsyncMessagingApi.reply_message_with_http_info, body),
            retry_key=None,
        )

    async def push(self, to: str, messages: Sequence[dict[str, Any]], retry_key: str) -> SendResult:
        check_messages(messages)
        body = {"to": to, "messages": list(messages)}
        await self._with_retries(
            "push",
            lambda: self._send_as_is(AsyncMessagingApi.push_message_with_http_info, body, x_line_retry_key=retry_key),
            retry_key=retry_key,
        )
        return SendResult("push")

    async def multicast(self, to: Sequence[str], messages: Sequence[dict[str, Any]], retry_key: str) -> None:
        if not 1 <= len(to) <= MULTICAST_MAX_RECIPIENTS:
            raise LineLimitError(f"{len(to)} recipients; multicast takes 1 to {MULTICAST_MAX_RECIPIENTS}")
        check_messages(messages)
        body = {"to": list(to), "messages": list(messages)}
        await self._with_retries(
            "multicast",
            lambda: self._send_as_is(AsyncMessagingApi.multicast_with_http_info, body, x_line_retry_key=retry_key),
            retry_key=retry_key,
        )

    async def broadcast(self, messages: Sequence[dict[str, Any]], retry_key: str) -> None:
        check_messages(messages)
        body = {"messages": list(messages)}
        await self._with_retries(
            "broadcast",
            lambda: self._send_as_is(AsyncMessagingApi.broadcast_with_http_info, body, x_line_retry_key=retry_key),
            retry_key=retry_key,
        )

    async def _send_as_is(self, method: Any, body: dict[str, Any], **options: Any) -> Any:
        """Call one of AsyncMessagingApi's sending methods with the JSON body as the bot built it.

        Called the usual way, the SDK parses the body into its pydantic models, validates them again on the
        way in (pydantic's validate_arguments, on the method and on its _with_http_info twin) and walks them
        back into JSON. Through the function behind that validation (pydantic's documented `raw_function`) a
        reply carrying one service card costs about a quarter of the CPU, and sending is most of what the worker
        does (docs/decisions/send-without-sdk-models.md). Nothing unchecked leaves: check_messages has applied
        LINE's limits, the messages are built from checked content, and in tests the fake LINE validates every
        request with these same SDK models.
        """
        return await method.raw_function(
            self._api, body, _return_http_data_only=True, _request_timeout=self._timeout(), **options
        )

    async def show_loading(self, chat_id: str, seconds: int = 5) -> None:
        """The typing dots in a one-to-one chat; best effort, never retried (it is only a courtesy)."""
        seconds = max(5, min(60, 5 * round(seconds / 5)))
        request = ShowLoadingAnimationRequest.from_dict({"chatId": chat_id, "loadingSeconds": seconds})
        try:
            await self._api.show_loading_animation(request, _request_timeout=self._timeout())
            self._on_call("loading", 202)
        except (ApiException, aiohttp.ClientError, TimeoutError) as exc:
            self._on_call("loading", getattr(exc, "status", None))
            log.info("loading animation not shown", extra={"status": getattr(exc, "status", None)})

    # -- reading ---------------------------------------------------------------------------------------

    async def get_profile(self, user_id: str) -> dict[str, Any]:
        profile = await self._with_retries(
            "profile", lambda: self._api.get_profile(user_id, _request_timeout=self._timeout()), retry_key=None
        )
        return dict(profile.to_dict())

    async def get_quota(self) -> dict[str, Any]:
        quota = await self._with_retries(
            "quota", lambda: self._api.get_message_quota(_request_timeout=self._timeout()), retry_key=None
        )
        usage = await self._with_retries(
            "quota",
            lambda: self._api.get_message_quota_consumption(_request_timeout=self._timeout()),
            retry_key=None,
        )
        return {**quota.to_dict(), "totalUsage": usage.total_usage}

    async def get_friends(self, day: dt.date) -> int | None:
        """How many users a LINE broadcast reaches, by LINE's count for `day` (a date in UTC+9, as LINE
        keeps them): friends ever added minus those blocking the account. None when LINE has no figure for
        that day yet ('unready', or 'out_of_service')."""

        async def call() -> Any:
            try:
                return await self._insight.get_number_of_followers(
                    var_date=day.strftime("%Y%m%d"), _request_timeout=self._timeout()
                )
            except InsightApiException as exc:  # the insight module's own class: retried like the others
                same = ApiException(status=exc.status, reason=exc.reason)
                same.body, same.headers = exc.body, exc.headers
                raise same from None

        numbers = await self._with_retries("insight", call, retry_key=None)
        if numbers.status != "ready" or numbers.followers is None:
            return None
        return max(0, int(numbers.followers) - int(numbers.blocks or 0))

    async def get_content(self, message_id: str, max_bytes: int) -> bytes:
        """The bytes of an image (or other media) a resident sent, refusing anything over max_bytes."""
        data: bytes = await self._with_retries(
            "content",
            lambda: self._blob.get_message_content(message_id, _request_timeout=self._timeout()),
            retry_key=None,
        )
        if len(data) > max_bytes:
            raise LineLimitError(f"content of {len(data)} bytes is over the {max_bytes}-byte cap")
        return bytes(data)

    # -- the rich menu (an operator's command, not the chat: nothing here is retried with a key) ----------

    async def validate_rich_menu(self, menu: dict[str, Any]) -> None:
        request = RichMenuRequest.from_dict(menu)
        await self._with_retries(
            "richmenu",
            lambda: self._api.validate_rich_menu_object(request, _request_timeout=self._timeout()),
            retry_key=None,
        )

    async def create_rich_menu(self, menu: dict[str, Any]) -> str:
        request = RichMenuRequest.from_dict(menu)
        created = await self._with_retries(
            "richmenu", lambda: self._api.create_rich_menu(request, _request_timeout=self._timeout()), retry_key=None
        )
        return str(created.rich_menu_id)

    async def set_rich_menu_image(self, rich_menu_id: str, image: bytes, content_type: str) -> None:
        await self._with_retries(
            "richmenu",
            lambda: self._blob.set_rich_menu_image(
                rich_menu_id, body=image, _headers={"Content-Type": content_type}, _request_timeout=self._timeout()
            ),
            retry_key=None,
        )

    async def set_default_rich_menu(self, rich_menu_id: str) -> None:
        await self._with_retries(
            "richmenu",
            lambda: self._api.set_default_rich_menu(rich_menu_id, _request_timeout=self._timeout()),
            retry_key=None,
        )

    async def rich_menus(self) -> list[dict[str, Any]]:
        """Every rich menu of the channel, as LINE's objects (richMenuId, name, ...)."""
        listed = await self._with_retries(
            "richmenu", lambda: self._api.get_rich_menu_list(_request_timeout=self._timeout()), retry_key=None
        )
        return [dict(menu.to_dict()) for menu in listed.richmenus]

    async def delete_rich_menu(self, rich_menu_id: str) -> None:
        await self._with_retries(
            "richmenu",
            lambda: self._api.delete_rich_menu(rich_menu_id, _request_timeout=self._timeout()),
            retry_key=None,
        )

    # -- the retry loop --------------------------------------------------------------------------------

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.policy.timeout)

    async def _with_retries(self, what: str, call: Callable[[], Awaitable[T]], retry_key: str | None) -> T:
        """Run call, retrying 5xx, 429 and network failures with backoff; 409 on a retry key means LINE
        already accepted this very request, which is success."""
        attempt = 0
        doubtful = False  # an attempt so far may have been delivered (see LineSendError)
        while True:
            try:
                result = await call()
                self._on_call(what, 200)
                return result
            except ApiException as exc:
                status = exc.status or 0
                self._on_call(what, status)
                detail = _error_message(exc.body)
                if status == 409 and retry_key is not None:
                    return None  # type: ignore[return-value]
                if status == 400 and what == "reply" and "reply token" in detail.lower():
                    raise InvalidReplyToken(what, status, detail, False, doubtful) from None
                if status == 429 and "monthly limit" in detail.lower():
                    raise LineSendError(what, status, detail, False, doubtful) from None
                doubtful = doubtful or status >= 500
                retryable = status >= 500 or status == 429
                if not retryable or attempt + 1 >= self.policy.attempts:
                    raise LineSendError(what, status, detail, retryable, doubtful) from None
                delay = max(self.policy.delay(attempt), _retry_after(exc) if status == 429 else 0.0)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self._on_call(what, None)
                doubtful = True
                if attempt + 1 >= self.policy.attempts:
                    raise LineSendError(what, None, type(exc).__name__, True, doubtful) from None
                delay = self.policy.delay(attempt)
            attempt += 1
            log.info("line call retried", extra={"call": what, "attempt": attempt})
            await asyncio.sleep(delay)


def _error_message(body: object) -> str:
    """LINE's error body is {"message": ..., "details": [...]}; only the message is kept (no user data)."""
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return body[:200]
        if isinstance(parsed, dict):
            return str(parsed.get("message", ""))[:200]
    return ""


def _retry_after(exc: ApiException) -> float:
    headers = exc.headers or {}
    try:
        return min(60.0, float(headers.get("Retry-After", 1)))
    except (TypeError, ValueError):
        return 1.0
