"""Logs never carry residents' data, whatever LOG_LEVEL says, and a flood of one error stays a few lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.ops.logs import RepeatLimiter, configure_logging
from tests.conftest import BotFactory, new_user_id


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


async def test_at_debug_no_line_id_or_message_text_reaches_the_log(
    make_bot: BotFactory, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    for name in ("aiosqlite", "asyncpg", "sqlalchemy", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(logging.NOTSET)  # as in a fresh process, whatever ran before
    configure_logging("DEBUG")  # after capsys took stderr, so the handler writes where the test reads
    bot = await make_bot()
    user = new_user_id()
    words = "ถนนหน้าบ้านเลขที่ 77/1 ชำรุดมากครับ"
    assert (await bot.post(bot.follow(user))).status == 200
    assert (await bot.post(bot.text(user, words))).status == 200
    await bot.idle()
    logged = capsys.readouterr().err
    assert "webhook event" in logged and "event handled" in logged  # the log was captured at all
    assert user not in logged
    assert words not in logged
    assert "77/1" not in logged


def _record(created: float, msg: str = "socket.accept() out of system resource") -> logging.LogRecord:
    record = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, (), None)
    record.created = created
    return record


def test_a_flood_of_one_error_is_held_back_and_counted() -> None:
    limiter = RepeatLimiter(burst=10, window=60.0)
    passed = [limiter.filter(_record(1000.0 + i * 0.001)) for i in range(10_000)]
    assert sum(passed) == 10
    later = _record(1061.0)
    assert limiter.filter(later)
    assert later.held_back == 9_990  # type: ignore[attr-defined]


def test_other_errors_and_info_lines_are_not_held_back_by_a_flood() -> None:
    limiter = RepeatLimiter(burst=2, window=60.0)
    for i in range(100):
        limiter.filter(_record(1000.0 + i * 0.001))
    assert limiter.filter(_record(1000.2, "inbox cycle failed"))
    info = logging.LogRecord("bot.delivery.webhook", logging.INFO, __file__, 1, "webhook event", (), None)
    assert all(limiter.filter(info) for _ in range(1000))


def test_the_limiter_remembers_a_bounded_number_of_kinds() -> None:
    limiter = RepeatLimiter(burst=1, window=60.0, kinds=50)
    for i in range(10_000):
        limiter.filter(_record(1000.0, f"error number {i}"))
    assert len(limiter._seen) <= 50


def test_a_held_back_count_is_written_as_a_field(capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    configure_logging("INFO")
    log = logging.getLogger("bot.test_flood")
    for _ in range(500):
        log.error("request body timed out")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == 10
