"""Request bodies as the network delivers them: in several reads, slowly, or never.

`read_capped` reads a whole body under a size cap (aiohttp's `content.read(n)` returns only what has
arrived so far, so a body split over TCP writes would be cut short). `body_deadline` is the middleware
that gives every request's body a fixed time to arrive after its headers: a client that sends headers and
then nothing would otherwise hold a connection, and a file descriptor, for ever.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    """The body passed the cap before it ended."""


class BodyTimedOut(Exception):
    """The body had not fully arrived when its time ran out."""


async def read_capped(request: web.BaseRequest, limit: int) -> bytes:
    """The whole body, however many reads it takes; BodyTooLarge once it passes `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    parts: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        parts.append(chunk)
    return b"".join(parts)


def body_deadline(seconds: float) -> Middleware:
    """A middleware: a body still arriving `seconds` after the headers makes its reads raise BodyTimedOut,
    answered 408 on a connection that is then closed. A handler that never reads the body is not
    interrupted; aiohttp discards the unread rest (within its own lingering time) after the response."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        stream = request.content
        if not request.body_exists or stream.is_eof():
            return await handler(request)

        def expire() -> None:
            if not stream.is_eof():
                stream.set_exception(BodyTimedOut())

        timer = asyncio.get_running_loop().call_later(seconds, expire)
        try:
            return await handler(request)
        except BodyTimedOut:
            log.warning("request body timed out", extra={"path": request.path, "after_seconds": seconds})
            response = web.json_response({"error": f"request body not received within {seconds:g} s"}, status=408)
            response.force_close()
            return response
        finally:
            timer.cancel()

    return middleware
