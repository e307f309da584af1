"""bot/delivery/line.py against the fake LINE platform over HTTP: retries, retry keys, fallbacks, limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.delivery.line import (
    InvalidReplyToken,
    LineGateway,
    LineLimitError,
    LineSendError,
    RetryPolicy,
    check_messages,
    new_retry_key,
)
from bot.dev.fake_line import FakeLinePlatform
from tests.conftest import ACCESS_TOKEN, new_user_id

TEXT = [{"type": "text", "text": "สวัสดีค่ะ"}]


@pytest.fixture
async def gateway(fake_line: FakeLinePlatform) -> AsyncIterator[LineGateway]:
    base = fake_line.base_url  # type: ignore[attr-defined]
    calls: list[tuple[str, int | None]] = []
    line = LineGateway(
        ACCESS_TOKEN,
        base,
        base,
        RetryPolicy(attempts=4, base_delay=0.01, timeout=0.5),
        on_call=lambda what, status: calls.append((what, status)),
    )
    line.calls = calls  # type: ignore[attr-defined]
    yield line
    await line.close()


async def test_reply_reaches_the_user(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    user = new_user_id()
    result = await gateway.reply_or_push(user, fake_line.issue_reply_token(user), TEXT, new_retry_key())
    assert result.via == "reply"
    assert fake_line.messages_to(user) == TEXT


async def test_used_reply_token_falls_back_to_push(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    user = new_user_id()
    token = fake_line.issue_reply_token(user)
    await gateway.reply_or_push(user, token, TEXT, new_retry_key())
    fallbacks = []

    async def remember() -> None:
        fallbacks.append(True)

    result = await gateway.reply_or_push(user, token, TEXT, new_retry_key(), on_fallback=remember)
    assert result.via == "push" and fallbacks == [True]
    assert [d.via for d in fake_line.deliveries] == ["reply", "push"]


async def test_expired_reply_token_falls_back_to_push(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    fake_line.reply_token_lifetime = 0.0
    user = new_user_id()
    result = await gateway.reply_or_push(user, fake_line.issue_reply_token(user), TEXT, new_retry_key())
    assert result.via == "push"
    assert len(fake_line.messages_to(user)) == 1


async def test_reply_that_timed_out_after_delivery_is_not_sent_twice(
    gateway: LineGateway, fake_line: FakeLinePlatform
) -> None:
    """LINE accepted the reply but the answer was lost: the retry meets 'Invalid reply token', which now
    means 'already delivered', so no push follows."""
    fake_line.add_fault("reply", {"accept_then_timeout": 1.0})
    user = new_user_id()
    result = await gateway.reply_or_push(user, fake_line.issue_reply_token(user), TEXT, new_retry_key())
    assert result.via == "reply-assumed"
    assert len(fake_line.messages_to(user)) == 1


@pytest.mark.parametrize(("status", "via", "pushes"), [(429, "push", 1), (500, "reply-assumed", 0)])
async def test_invalid_token_after_a_failed_reply_depends_on_whether_it_may_have_landed(
    gateway: LineGateway, fake_line: FakeLinePlatform, status: int, via: str, pushes: int
) -> None:
    """The first reply attempt fails, the retry meets 'Invalid reply token'. After a 429 (a clear "not
    delivered") the answer goes by push; after a 500 the first attempt may have landed, so nothing is pushed
    (never twice)."""
    fake_line.add_fault("reply", {"status": status})
    fake_line.reply_token_lifetime = 0.0
    user = new_user_id()
    result = await gateway.reply_or_push(user, fake_line.issue_reply_token(user), TEXT, new_retry_key())
    assert result.via == via
    assert len(fake_line.requests_to("push")) == pushes
    assert len(fake_line.messages_to(user)) == pushes  # delivered once by the push, or not by the bot at all


async def test_push_retries_5xx_and_429_with_one_retry_key(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    fake_line.add_fault("push", {"status": 500})
    fake_line.add_fault("push", {"status": 429})
    fake_line.add_fault("push", {"status": 503})
    user = new_user_id()
    key = new_retry_key()
    await gateway.push(user, TEXT, key)
    pushes = fake_line.requests_to("push")
    assert [r.status for r in pushes] == [500, 429, 503, 200]
    assert {r.retry_key for r in pushes} == {key}
    assert len(fake_line.messages_to(user)) == 1


async def test_push_accepted_then_timed_out_is_not_sent_twice(
    gateway: LineGateway, fake_line: FakeLinePlatform
) -> None:
    fake_line.add_fault("push", {"accept_then_timeout": 1.0})
    user = new_user_id()
    await gateway.push(user, TEXT, new_retry_key())
    assert [r.status for r in fake_line.requests_to("push")] == [200, 409]
    assert len(fake_line.messages_to(user)) == 1


async def test_timeouts_without_delivery_are_retried(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    fake_line.add_fault("push", {"timeout": 1.0})
    user = new_user_id()
    await gateway.push(user, TEXT, new_retry_key())
    assert len(fake_line.messages_to(user)) == 1
    assert ("push", None) in gateway.calls  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "message"),
    [(400, "The request body has 1 error(s)"), (429, "You have reached your monthly limit.")],
)
async def test_refusals_that_retrying_cannot_fix_are_not_retried(
    gateway: LineGateway, fake_line: FakeLinePlatform, status: int, message: str
) -> None:
    """Other 4xx, and a 429 that means the monthly quota is spent."""
    fake_line.add_fault("push", {"status": status, "message": message})
    with pytest.raises(LineSendError) as raised:
        await gateway.push(new_user_id(), TEXT, new_retry_key())
    assert raised.value.status == status and not raised.value.retryable
    assert len(fake_line.requests_to("push")) == 1


async def test_retries_give_up_after_the_policy(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    for _ in range(10):
        fake_line.add_fault("push", {"status": 500})
    with pytest.raises(LineSendError) as raised:
        await gateway.push(new_user_id(), TEXT, new_retry_key())
    assert raised.value.retryable
    assert len(fake_line.requests_to("push")) == 4


async def test_rate_limit_answers_429_then_recovers(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    fake_line.set_rate("multicast", 5.0)
    users = [new_user_id() for _ in range(3)]
    for _ in range(8):
        await gateway.multicast(users, TEXT, new_retry_key())
    statuses = [r.status for r in fake_line.requests_to("multicast")]
    assert 429 in statuses
    assert statuses.count(200) == 8
    assert all(len(fake_line.messages_to(u)) == 8 for u in users)


async def test_broadcast_reaches_followers(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    fake_line.followers.update({new_user_id(), new_user_id()})
    await gateway.broadcast(TEXT, new_retry_key())
    assert {d.user_id for d in fake_line.deliveries} == fake_line.followers


@pytest.mark.parametrize(
    ("messages", "why"),
    [
        ([], "1 to 5"),
        (TEXT * 6, "1 to 5"),
        ([{"type": "text", "text": "ก" * 5001}], "UTF-16"),
        ([{"type": "text", "text": "😀" * 2501}], "UTF-16"),
        (
            [
                {
                    "type": "text",
                    "text": "x",
                    "quickReply": {
                        "items": [
                            {"type": "action", "action": {"type": "message", "label": str(i), "text": "x"}}
                            for i in range(14)
                        ]
                    },
                }
            ],
            "quick replies",
        ),
        (
            [
                {
                    "type": "text",
                    "text": "x",
                    "quickReply": {
                        "items": [{"type": "action", "action": {"type": "message", "label": "ก" * 21, "text": "x"}}]
                    },
                }
            ],
            "label",
        ),
        ([{"type": "flex", "altText": "ก" * 1501, "contents": {"type": "bubble"}}], "altText"),
        (
            [
                {
                    "type": "flex",
                    "altText": "x",
                    "contents": {
                        "type": "bubble",
                        "body": {
                            "type": "box",
                            "layout": "vertical",
                            "contents": [{"type": "text", "text": "ก" * 11_000}],
                        },
                    },
                }
            ],
            "bubble JSON",
        ),
    ],
)
async def test_over_limit_messages_never_leave(
    gateway: LineGateway, fake_line: FakeLinePlatform, messages: list[dict[str, object]], why: str
) -> None:
    with pytest.raises(LineLimitError, match=why):
        check_messages(messages)
    with pytest.raises(LineLimitError):
        await gateway.push(new_user_id(), messages, new_retry_key())
    assert fake_line.received == []


async def test_multicast_over_500_recipients_never_leaves(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    with pytest.raises(LineLimitError):
        await gateway.multicast([new_user_id() for _ in range(501)], TEXT, new_retry_key())
    assert fake_line.received == []


async def _raw_post(fake: FakeLinePlatform, path: str, body: object, **headers: str) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake.base_url + path,
            data=json.dumps(body),  # type: ignore[attr-defined]
            headers={"Authorization": f"Bearer {ACCESS_TOKEN}", "Content-Type": "application/json", **headers},
        ) as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"to": "U1", "messages": [{"type": "text", "text": "ก" * 5001}]}, "text"),
        ({"to": "U1", "messages": [{"type": "text", "text": "x"}] * 6}, "messages"),
        ({"to": "U1", "messages": [{"type": "hologram"}]}, "messages"),
        (
            {
                "to": "U1",
                "messages": [
                    {
                        "type": "text",
                        "text": "x",
                        "quickReply": {
                            "items": [{"type": "action", "action": {"type": "message", "label": "ก" * 21, "text": "x"}}]
                        },
                    }
                ],
            },
            "label",
        ),
        ({"messages": [{"type": "text", "text": "x"}]}, "messages"),
    ],
)
async def test_fake_platform_refuses_what_line_refuses(fake_line: FakeLinePlatform, body: object, reason: str) -> None:
    status, answer = await _raw_post(fake_line, "/v2/bot/message/push", body)
    assert status == 400
    assert "error" in str(answer["message"])
    assert reason in json.dumps(answer)
    assert fake_line.deliveries == []


async def test_fake_platform_checks_auth_and_retry_keys(fake_line: FakeLinePlatform) -> None:
    body = {"to": "U1", "messages": TEXT}
    status, _ = await _raw_post(fake_line, "/v2/bot/message/push", body, Authorization="Bearer wrong")
    assert status == 401
    status, answer = await _raw_post(fake_line, "/v2/bot/message/push", body, **{"X-Line-Retry-Key": "nope"})
    assert status == 400 and "Retry-Key" in str(answer["message"])
    key = new_retry_key()
    assert (await _raw_post(fake_line, "/v2/bot/message/push", body, **{"X-Line-Retry-Key": key}))[0] == 200
    assert (await _raw_post(fake_line, "/v2/bot/message/push", body, **{"X-Line-Retry-Key": key}))[0] == 409
    status, _ = await _raw_post(
        fake_line,
        "/v2/bot/message/reply",
        {"replyToken": "x", "messages": TEXT},
        **{"X-Line-Retry-Key": new_retry_key()},
    )
    assert status == 400
    assert len(fake_line.deliveries) == 1


async def test_loading_profile_quota_and_content(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    user = new_user_id()
    fake_line.followers.add(user)
    fake_line.profiles[user] = "สมศรี"
    await gateway.show_loading(user, seconds=7)
    loading = fake_line.requests_to("loading")
    assert loading[0].status == 202 and loading[0].body["loadingSeconds"] == 5
    assert (await gateway.get_profile(user))["displayName"] == "สมศรี"
    await gateway.push(user, TEXT, new_retry_key())
    quota = await gateway.get_quota()
    assert quota["type"] == "limited" and quota["totalUsage"] == 1
    fake_line.content["m1"] = (b"\x89PNG" + b"0" * 100, "image/png")
    assert (await gateway.get_content("m1", max_bytes=1000)).startswith(b"\x89PNG")
    with pytest.raises(LineLimitError):
        await gateway.get_content("m1", max_bytes=50)
    with pytest.raises(LineSendError):
        await gateway.get_content("missing", max_bytes=50)


async def test_invalid_reply_token_error_type(gateway: LineGateway, fake_line: FakeLinePlatform) -> None:
    """Reply alone (without fallback) reports the used token as its own error type."""
    with pytest.raises(InvalidReplyToken):
        await gateway._reply("never-issued", TEXT)


async def test_fake_narrowcast_and_progress(fake_line: FakeLinePlatform) -> None:
    fake_line.followers.update({new_user_id() for _ in range(3)})
    status, _ = await _raw_post(
        fake_line, "/v2/bot/message/narrowcast", {"messages": TEXT}, **{"X-Line-Retry-Key": new_retry_key()}
    )
    assert status == 202
    request_id = next(r for r in fake_line.received if r.endpoint == "narrowcast")
    assert request_id.status == 202
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            fake_line.base_url + "/v2/bot/message/progress/narrowcast",  # type: ignore[attr-defined]
            params={"requestId": "unknown"},
            headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
        ) as response,
    ):
        assert response.status == 404
    assert len(fake_line.deliveries) == 3
