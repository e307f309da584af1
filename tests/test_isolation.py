"""One bad event fails only itself: the other chats leased in the same cycle get their normal answers, a
location that is not a point on Earth gets a polite "send it again", and the simulator refuses what a browser
on another site or a bad field would send it, with a 4xx and a reason."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot import keys
from bot.app import create_app
from bot.chat import media
from bot.chat.dispatch import Turn
from bot.db.models import EventLane, InboundEvent, Report
from bot.dev import events
from bot.dev.fake_line import FakeLinePlatform
from tests.chatting import report_taps, say_all
from tests.conftest import Bot, BotFactory, make_settings, new_user_id

RESIDENTS = 20
BASE_MS = 1_700_000_000_000
# The report flow up to the description (see tests/test_reports.py).
TO_DESCRIPTION = report_taps("ขยะกองหน้าตลาดไม่มีคนเก็บ")[:5]
# NaN and Infinity never reach a handler: the webhook refuses them as not JSON.
NOT_A_COORDINATE: list[Any] = ["abc", True, None, 181, -180.5, 1e300, 10**400, "13.75", [13.75], {}]
NOT_A_PLACE = [(v, 100.5) for v in NOT_A_COORDINATE] + [(13.75, v) for v in NOT_A_COORDINATE] + [(91, 100.5)]


async def _one_cycle_bot(make_bot: BotFactory) -> Bot:
    """No background workers and room for every chat: the test's own run is the one cycle that leases them all."""
    return await make_bot(inbox_workers=0, inbox_lanes_per_cycle=RESIDENTS + 10)


def _location(bot: Bot, user: str, latitude: Any, longitude: Any = 100.5018, **kw: Any) -> dict[str, Any]:
    return events.location_event(user, latitude, longitude, bot.token(user), **kw)


def _texts(bot: Bot, user: str) -> list[str]:
    return [str(m.get("text", "")) for m in bot.fake.messages_to(user)]


def _response(bot: Bot, response_id: str) -> str:
    return bot.app[keys.CONTENT].responses[response_id].text.split("\n")[0].split("{")[0]


async def test_a_bad_location_in_a_busy_cycle_fails_no_one(make_bot: BotFactory) -> None:
    """19 residents ask something while one, in the middle of a report, sends a location whose latitude is
    "abc" and confirms: everyone gets their normal answer, nobody the apology, the one a polite "send the
    location again", and what they typed is still there when they do."""
    bot = await _one_cycle_bot(make_bot)
    reporter = new_user_id()
    await say_all(bot, reporter, *TO_DESCRIPTION)
    others = [new_user_id() for _ in range(RESIDENTS - 1)]
    done = bot.tap(reporter, "เสร็จ", timestamp_ms=BASE_MS + 11)  # offered under the description's question
    burst = [bot.text(user, "ช่วยเหลือ", timestamp_ms=BASE_MS + i) for i, user in enumerate(others[:10])]
    burst += [
        _location(bot, reporter, "abc", timestamp_ms=BASE_MS + 10),
        done,
        # Raw data: sent in the same burst, before the summary that offers it could have arrived.
        bot.postback(reporter, "action=rp&do=confirm", timestamp_ms=BASE_MS + 12),
    ]
    burst += [bot.text(user, "ช่วยเหลือ", timestamp_ms=BASE_MS + 20 + i) for i, user in enumerate(others[10:])]
    assert (await bot.post(*burst)).status == 200
    await bot.idle()

    apology, help_text = _response(bot, "processing_failed"), _response(bot, "help")
    for user in others:
        assert [help_text in t for t in _texts(bot, user)] == [True], user
    said = _texts(bot, reporter)
    assert not any(apology in t for t in said)
    assert any(_response(bot, "location_invalid") in t for t in said)
    async with bot.sessions() as session:
        statuses = list(await session.scalars(select(InboundEvent.status)))
        assert await session.scalar(select(func.count()).select_from(Report)) == 0
    assert set(statuses) == {"done"} and len(statuses) == len(TO_DESCRIPTION) + RESIDENTS + 2

    # The flow kept the description: a real location now, and the report is filed with both.
    assert (await bot.post(_location(bot, reporter, 15.2448, 104.8473))).status == 200
    await bot.idle()
    await say_all(bot, reporter, "tap: ยืนยันส่ง")
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.text == TO_DESCRIPTION[-1]
    assert (report.latitude, report.longitude) == (15.2448, 104.8473)


@pytest.mark.parametrize("flush_in_handler", [True, False], ids=["flushed-by-handler", "flushed-after"])
async def test_a_handler_failing_at_flush_gives_up_only_its_own_event(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch, flush_in_handler: bool
) -> None:
    """A handler whose changes the database refuses (a duplicate key, at its own flush or at the next one):
    that one event is retried and then given up with the apology; the 19 others are answered in the first
    cycle, and the broken chat's earlier event in the same cycle keeps its answer."""
    bot = await _one_cycle_bot(make_bot)

    async def broken(turn: Turn) -> None:
        turn.say("sticker_received")
        turn.session.add(EventLane(lane_key=turn.row.lane_key))  # the inbox's own lease row: a duplicate key
        if flush_in_handler:
            await turn.session.flush()

    monkeypatch.setitem(media.router.messages, "sticker", broken)
    unlucky, others = new_user_id(), [new_user_id() for _ in range(RESIDENTS - 1)]
    burst = [bot.text(user, "ช่วยเหลือ", timestamp_ms=BASE_MS + i) for i, user in enumerate(others)]
    sticker = events.sticker_event(unlucky, bot.fake.issue_reply_token(unlucky), timestamp_ms=BASE_MS + 5)
    burst += [bot.text(unlucky, "ช่วยเหลือ", timestamp_ms=BASE_MS + 4), sticker]
    assert (await bot.post(*burst)).status == 200
    await bot.idle()

    apology, help_text = _response(bot, "processing_failed"), _response(bot, "help")
    for user in others:
        assert [help_text in t for t in _texts(bot, user)] == [True], user
    said = _texts(bot, unlucky)
    assert len(said) == 2 and help_text in said[0] and apology in said[1]
    async with bot.sessions() as session:
        rows = list(await session.scalars(select(InboundEvent).order_by(InboundEvent.occurred_at_ms)))
    failed = [(r.lane_key, r.attempts) for r in rows if r.status == "failed"]
    assert failed == [(unlucky, 4)]
    assert {r.attempts for r in rows if r.status == "done"} == {1}


async def test_every_location_that_is_not_a_point_is_asked_again(make_bot: BotFactory) -> None:
    """Strings, booleans, null, huge numbers, points off the globe: each gets the polite
    answer, on the description step and on the 'where' step, and the report is filed without a location."""
    bot = await make_bot()
    user = new_user_id()
    await say_all(bot, user, *TO_DESCRIPTION)
    invalid = _response(bot, "location_invalid")
    for step in ("description", "where"):
        for latitude, longitude in NOT_A_PLACE:
            before = len(bot.fake.messages_to(user))
            assert (await bot.post(_location(bot, user, latitude, longitude))).status == 200
            await bot.idle()
            said = _texts(bot, user)[before:]
            assert said and invalid in said[0], (step, latitude, longitude, said)
        if step == "description":
            await say_all(bot, user, "tap: เสร็จ")
            assert _response(bot, "report_ask_where") in _texts(bot, user)[-1]
    await say_all(bot, user, "tap: ข้าม", "tap: ยืนยันส่ง")
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.text == TO_DESCRIPTION[-1] and report.latitude is report.longitude is None


# -- the simulator -------------------------------------------------------------------------------------------


@pytest.fixture
async def simulator(database_url: str, fake_line: FakeLinePlatform, tmp_path: Path) -> Any:
    """The bot in local mode (no LINE channel), as `python -m bot serve` runs it: /simulator is there."""
    settings = make_settings(database_url, fake_line.base_url, tmp_path)  # type: ignore[attr-defined]
    settings = dataclasses.replace(settings, line_channel_secret=None, line_channel_access_token=None)
    app = create_app(settings)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


async def _stored(client: TestClient) -> int:
    async with client.app[keys.SESSIONS]() as session:  # type: ignore[index]
        return int(await session.scalar(select(func.count()).select_from(InboundEvent)) or 0)


SENT = {"userId": "U" + "a" * 32, "kind": "text", "text": "ช่วยเหลือ"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Content-Type": "text/plain", "Origin": "http://evil.example"},
        {"Content-Type": "application/json", "Origin": "http://evil.example"},
        {"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"},
        {"Content-Type": "application/json", "Origin": "null"},
    ],
    ids=["form-cross-site", "form-other-origin", "json-other-origin", "json-same-site", "json-opaque-origin"],
)
async def test_the_simulator_refuses_other_sites(simulator: TestClient, headers: dict[str, str]) -> None:
    response = await simulator.post("/simulator/api/send", data=json.dumps(SENT), headers=headers)
    assert response.status == 403 and "origin" in (await response.json())["error"]
    assert await _stored(simulator) == 0


async def test_the_simulator_takes_only_json(simulator: TestClient) -> None:
    host = f"http://{simulator.server.host}:{simulator.server.port}"
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = await simulator.post(
            "/simulator/api/send", data=json.dumps(SENT), headers={"Content-Type": content_type, "Origin": host}
        )
        assert response.status == 415 and "application/json" in (await response.json())["error"]
    assert await _stored(simulator) == 0
    same_origin = {"Content-Type": "application/json", "Origin": host, "Sec-Fetch-Site": "same-origin"}
    response = await simulator.post("/simulator/api/send", data=json.dumps(SENT), headers=same_origin)
    assert response.status == 200 and await _stored(simulator) == 1


@pytest.mark.parametrize("field", ["latitude", "longitude"])
async def test_the_simulator_answers_400_to_a_bad_location(simulator: TestClient, field: str) -> None:
    for value in ["abc", True, None, 91 if field == "latitude" else 181, "NaN", [1], {}]:
        body = json.dumps({"userId": SENT["userId"], "kind": "location", field: value})
        if value == "NaN":
            body = body.replace('"NaN"', "NaN")  # what Python's JSON reader takes for a number
        response = await simulator.post("/simulator/api/send", data=body, headers={"Content-Type": "application/json"})
        assert response.status == 400 and field in (await response.json())["error"], value
    for body in ("[]", '"text"', "{", json.dumps({**SENT, "userId": 7})):
        response = await simulator.post("/simulator/api/send", data=body, headers={"Content-Type": "application/json"})
        assert response.status == 400 and (await response.json())["error"]
    assert await _stored(simulator) == 0
    ok = json.dumps({"userId": SENT["userId"], "kind": "location", "latitude": 13.75, "longitude": 100.5})
    response = await simulator.post("/simulator/api/send", data=ok, headers={"Content-Type": "application/json"})
    assert response.status == 200 and await _stored(simulator) == 1
