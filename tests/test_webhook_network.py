"""POST /callback as the network delivers it, not as loopback does: a body in several TCP writes, a large
body, chunked encoding, a client that sends headers and never the body; and signed bodies that are JSON
only to Python (deep nesting, lone surrogates, NaN)."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.delivery.webhook import compute_signature
from bot.dev import events
from tests.conftest import CHANNEL_SECRET, Bot, BotFactory, new_user_id


def _request_head(body_length: int | None, signature: str, chunked: bool = False) -> bytes:
    lines = [
        "POST /callback HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"x-line-signature: {signature}",
        "Connection: close",
    ]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {body_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


async def _open(bot: Bot) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    server = bot.client.server
    return await asyncio.open_connection(server.host, server.port)


async def _status_of(reader: asyncio.StreamReader, timeout: float = 10.0) -> int:
    status_line = await asyncio.wait_for(reader.readline(), timeout)
    return int(status_line.split()[1])


async def test_a_body_in_two_tcp_writes_is_verified_whole(bot: Bot) -> None:
    user = new_user_id()
    raw = events.body(bot.text(user, "สวัสดีครับ ขอถามเรื่องเบี้ยยังชีพผู้สูงอายุ"))
    assert len(raw) > 300
    reader, writer = await _open(bot)
    writer.write(_request_head(len(raw), compute_signature(CHANNEL_SECRET, raw)) + raw[:100])
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(raw[100:])
    await writer.drain()
    assert await _status_of(reader) == 200
    writer.close()
    assert await bot.count_events() == 1


async def test_a_body_dribbled_a_few_bytes_at_a_time_is_verified_whole(bot: Bot) -> None:
    raw = events.body(*(bot.text(new_user_id(), f"ข้อความที่ {i}") for i in range(5)))
    reader, writer = await _open(bot)
    writer.write(_request_head(len(raw), compute_signature(CHANNEL_SECRET, raw)))
    for start in range(0, len(raw), 256):
        writer.write(raw[start : start + 256])
        await writer.drain()
        await asyncio.sleep(0.002)
    assert await _status_of(reader) == 200
    writer.close()
    assert await bot.count_events() == 5


async def test_two_hundred_events_in_one_body_are_all_stored(bot: Bot) -> None:
    raw = events.body(*(bot.text(new_user_id(), "ถนนในซอยชำรุดเสียหายมานานแล้วครับ " * 8) for _ in range(200)))
    assert len(raw) > 110_000
    response = await bot.post(body=raw)
    assert response.status == 200
    assert await bot.count_events() == 200


async def _send_chunked(bot: Bot, raw: bytes, chunk: int) -> int:
    reader, writer = await _open(bot)
    writer.write(_request_head(None, compute_signature(CHANNEL_SECRET, raw), chunked=True))
    try:
        for start in range(0, len(raw), chunk):
            part = raw[start : start + chunk]
            writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    except ConnectionError:
        pass  # the server may answer and close before a too-large body is all sent
    try:
        return await _status_of(reader)
    finally:
        writer.close()


async def test_a_chunked_body_is_verified_whole(bot: Bot) -> None:
    raw = events.body(*(bot.text(new_user_id(), "ขอสอบถามค่ะ") for _ in range(20)))
    assert await _send_chunked(bot, raw, 500) == 200
    assert await bot.count_events() == 20


async def test_a_chunked_body_over_the_cap_gets_413(bot: Bot) -> None:
    raw = events.body(events.text_event(new_user_id(), "ก" * 1_000_000, "r"))  # 3 MB in UTF-8
    assert await _send_chunked(bot, raw, 64 * 1024) == 413
    assert await bot.count_events() == 0


async def test_a_client_that_never_sends_the_body_is_answered_408_and_let_go(make_bot: BotFactory) -> None:
    bot = await make_bot(body_timeout_seconds=0.5)
    # Many such clients at once (each holds a file descriptor until its time runs out).
    stalled = [await _open(bot) for _ in range(100)]
    for _, writer in stalled:
        writer.write(_request_head(500, "c2lnbmF0dXJl"))
        await writer.drain()
    # LINE's genuine delivery meanwhile is acknowledged at once.
    started = time.monotonic()
    response = await bot.post(bot.text(new_user_id(), "สวัสดี"))
    assert response.status == 200
    assert time.monotonic() - started < 0.5
    statuses = await asyncio.gather(*(_status_of(reader, timeout=5.0) for reader, _ in stalled))
    assert set(statuses) == {408}
    for reader, writer in stalled:
        assert await asyncio.wait_for(reader.read(), 5.0) is not None  # the server closes: read() reaches EOF
        writer.close()
    assert await bot.count_events() == 1


def _signed(raw: bytes) -> str:
    return compute_signature(CHANNEL_SECRET, raw)


def _with_text(literal: str) -> bytes:
    """A text event whose message text is the given raw JSON literal."""
    template = events.body(events.text_event(new_user_id(), "PLACEHOLDER", "r"))
    return template.replace(b'"PLACEHOLDER"', literal.encode("ascii"))


ONLY_PYTHON_READS = {
    "nested 100,000 deep": lambda: b'{"events": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
    "lone surrogate": lambda: _with_text('"\\ud800"'),
    "NaN": lambda: _with_text("NaN"),
    "Infinity": lambda: _with_text("-Infinity"),
    "number too large for a float": lambda: _with_text("1e999"),
}


@pytest.mark.parametrize("name", sorted(ONLY_PYTHON_READS))
async def test_signed_bodies_only_python_would_read_get_400(bot: Bot, name: str) -> None:
    raw = ONLY_PYTHON_READS[name]()
    response = await bot.post(body=raw, signature=_signed(raw))
    assert response.status == 400, name
    assert (await response.json())["error"]
    assert await bot.count_events() == 0
