"""The inbox: per-resident order, recovery after a crash at every step, and the outbox's exactly-once sends."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest
from sqlalchemy import select, update

from bot import keys
from bot.db.models import EventLane, InboundEvent, OutboundMessage, utcnow
from tests.conftest import Bot, BotFactory, new_user_id


class SimulatedCrash(BaseException):
    """Raised at a fault point: escapes every `except Exception`, like the process dying there."""


async def test_ten_messages_posted_at_once_are_handled_in_timestamp_order(bot: Bot) -> None:
    user = new_user_id()
    base = 1_700_000_000_000
    batch = [bot.text(user, f"ข้อความที่ {i}", timestamp_ms=base + i) for i in range(10)]
    shuffled = batch[:]
    random.Random(7).shuffle(shuffled)
    responses = await asyncio.gather(*(bot.post(event) for event in shuffled))
    assert {r.status for r in responses} == {200}
    await bot.fake.wait_for_deliveries(10, user_id=user)
    await bot.idle()
    async with bot.sessions() as session:
        rows = list(await session.scalars(select(InboundEvent).order_by(InboundEvent.processed_at)))
    assert [r.occurred_at_ms for r in rows] == [base + i for i in range(10)]
    assert {r.status for r in rows} == {"done"}


async def test_many_residents_are_handled_concurrently_each_in_order(bot: Bot) -> None:
    users = [new_user_id() for _ in range(8)]
    base = 1_700_000_000_000
    batch = [bot.text(u, f"ข้อความ {i}", timestamp_ms=base + i) for u in users for i in range(4)]
    random.Random(3).shuffle(batch)
    await asyncio.gather(*(bot.post(e) for e in batch))
    await bot.idle()
    async with bot.sessions() as session:
        rows = list(await session.scalars(select(InboundEvent).order_by(InboundEvent.processed_at)))
    for user in users:
        mine = [r.occurred_at_ms for r in rows if r.lane_key == user]
        assert mine == sorted(mine) and len(mine) == 4
    assert all(len(bot.fake.messages_to(u)) == 4 for u in users)


@pytest.mark.parametrize("point", ["handled", "sending", "sent"])
async def test_crash_at_each_step_completes_exactly_once_after_restart(make_bot, point: str) -> None:  # type: ignore[no-untyped-def]
    """Kill the worker (simulated) before commit, after 'sending' is committed, and after LINE accepted;
    a restarted process finishes the event and the resident gets exactly one answer."""
    first: Bot = await make_bot(inbox_workers=1, inbox_lease_seconds=0.5)
    crashed = asyncio.Event()

    def crash_at(where: str) -> None:
        if where == point and not crashed.is_set():
            crashed.set()
            raise SimulatedCrash(where)

    first.app[keys.INBOX].fault_point = crash_at
    user = new_user_id()
    assert (await first.post(first.follow(user))).status == 200
    await asyncio.wait_for(crashed.wait(), 10)
    await first.client.close()  # the old process is gone; its lease on the chat is left to expire

    second: Bot = await make_bot(inbox_workers=1, inbox_lease_seconds=0.5)
    await asyncio.sleep(0.6)
    await second.idle()
    assert len(second.fake.messages_to(user)) == 1
    async with second.sessions() as session:
        event = await session.scalar(select(InboundEvent))
        sends = list(await session.scalars(select(OutboundMessage)))
    assert event is not None and event.status == "done" and event.outcome == "welcomed"
    assert len(sends) == 1 and sends[0].status == "sent"


async def test_a_crash_mid_batch_leaves_unsent_answers_free_to_be_pushed(
    make_bot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Two residents' answers in one batch, sent one at a time; the process dies right after the first is
    accepted. By the time another process takes over, the reply tokens have expired: the answer that left is
    not sent again, and the one whose request never left is pushed (it must not read as "may have landed")."""
    monkeypatch.setattr("bot.delivery.outbox.SEND_CONCURRENCY", 1)
    first: Bot = await make_bot(inbox_workers=1, inbox_lease_seconds=0.5, inbox_settle_seconds=0.5)
    crashed = asyncio.Event()

    def crash_after_first_send(where: str) -> None:
        # The process is dead from here: the other chat's send, waiting for its turn, goes nowhere either.
        if crashed.is_set() or where == "sent":
            crashed.set()
            raise SimulatedCrash(where)

    first.app[keys.INBOX].fault_point = crash_after_first_send
    users = [new_user_id(), new_user_id()]
    await asyncio.gather(*(first.post(first.text(user, "ช่วยเหลือ")) for user in users))
    await asyncio.wait_for(crashed.wait(), 10)
    await first.client.close()

    first.fake.reply_token_lifetime = 0.0
    second: Bot = await make_bot(inbox_workers=1, inbox_lease_seconds=0.5)
    await asyncio.sleep(0.6)
    await second.idle()
    vias = sorted(d.via for user in users for d in second.fake.deliveries if d.user_id == user)
    assert vias == ["push", "reply"]
    async with second.sessions() as session:
        rows = list(await session.scalars(select(OutboundMessage)))
    assert sorted(r.sent_via or "" for r in rows) == ["push", "reply-assumed"]


async def test_database_lost_while_switching_to_push_still_pushes_once(make_bot) -> None:  # type: ignore[no-untyped-def]
    """LINE refused the reply token outright; recording the switch to push failed, and so did releasing the
    chat (the database went away). The send stays 'sending' with its token, which after a crash would read as
    "the reply may have landed"; this process knows better, takes its orphaned chat back at once (not after
    the 30 s lease) and pushes."""
    bot: Bot = await make_bot(inbox_workers=1, inbox_lease_seconds=30)
    bot.fake.reply_token_lifetime = 0.0
    inbox = bot.app[keys.INBOX]
    failed = asyncio.Event()

    def database_gone(where: str) -> None:
        if where == "token-refused" and not failed.is_set():
            failed.set()
            raise ConnectionError("database unreachable")

    release = inbox._release

    async def release_fails_while_down(lanes: list[str]) -> None:
        if failed.is_set() and inbox.fault_point is not None:
            inbox.fault_point = None  # the database is back from here on
            inbox._held.difference_update(lanes)
            raise ConnectionError("database unreachable")
        await release(lanes)

    inbox.fault_point = database_gone
    inbox._release = release_fails_while_down
    user = new_user_id()
    await bot.post(bot.text(user, "ช่วยเหลือ"))
    await asyncio.wait_for(failed.wait(), 10)
    await bot.idle(timeout=10)
    assert [d.via for d in bot.fake.deliveries if d.user_id == user] == ["push"]
    async with bot.sessions() as session:
        row = await session.scalar(select(OutboundMessage))
    assert row is not None and row.status == "sent" and row.sent_via == "push"


async def test_a_handler_that_keeps_failing_gets_an_apology_once(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.chat import commands

    async def broken(turn):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    router = commands.router
    predicate, _handler, escape = router.texts[1]
    patched = list(router.texts)
    patched[1] = (predicate, broken, escape)
    monkeypatch.setattr(router, "texts", patched)
    user = new_user_id()
    await bot.post(bot.text(user, "เมนู"))
    for _ in range(5):
        await bot.idle()
        await asyncio.sleep(0.1)
    async with bot.sessions() as session:
        event = await session.scalar(select(InboundEvent))
    assert event is not None and event.status == "failed" and event.attempts == 4
    messages = bot.fake.messages_to(user)
    assert len(messages) == 1
    assert bot.app[keys.CONTENT].responses["processing_failed"].text.split("\n")[0] in messages[0]["text"]


async def _retry_now(bot: Bot, outbound_id: int) -> None:
    """Make a send that is backing off due now rather than in seconds, and let the worker take it."""
    async with bot.sessions() as session, session.begin():
        row = await session.get(OutboundMessage, outbound_id)
        assert row is not None
        row.next_attempt_at = row.created_at
    await bot.idle()


async def _answer_held_back(bot: Bot, status: int) -> tuple[str, OutboundMessage]:
    """A resident asks; LINE answers every reply attempt with `status`, so the answer waits in the outbox."""
    for _ in range(4):
        bot.fake.add_fault("reply", {"status": status})
    user = new_user_id()
    await bot.post(bot.text(user, "ช่วยเหลือ"))
    await bot.idle()
    async with bot.sessions() as session:
        row = await session.scalar(select(OutboundMessage))
    assert row is not None and row.status == "pending"
    return user, row


async def test_answers_wait_while_line_is_down_and_go_out_once_after(bot: Bot) -> None:
    """LINE failing every call: the event is handled and its answer kept; later sent exactly once."""
    user, row = await _answer_held_back(bot, 500)
    async with bot.sessions() as session:
        event = await session.scalar(select(InboundEvent))
    assert event is not None and event.status == "done"
    assert row.attempts == 1 and row.reply_uncertain
    assert bot.fake.messages_to(user) == []
    await _retry_now(bot, row.id)
    # The token still works, but an earlier attempt might have landed, so the retry is a reply: LINE keeps
    # the token usable after a 500 here, and the resident gets the answer once.
    assert len(bot.fake.messages_to(user)) == 1


async def test_a_worker_whose_lease_ran_out_sends_nothing(bot: Bot) -> None:
    """After a stall longer than its lease, another worker may hold the chat: the stale one leaves the chat's
    messages to it, so no answer goes out twice."""
    user, row = await _answer_held_back(bot, 500)
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(OutboundMessage).where(OutboundMessage.id == row.id).values(next_attempt_at=row.created_at)
        )
        await session.execute(
            update(EventLane)
            .where(EventLane.lane_key == user)
            .values(leased_by="w-other", lease_until=utcnow() + dt.timedelta(minutes=1))
        )
    async with bot.sessions() as session:
        await bot.app[keys.INBOX]._outbox.deliver(session, [user])
    assert bot.fake.messages_to(user) == []
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(EventLane).where(EventLane.lane_key == user).values(leased_by=None, lease_until=None)
        )
    await bot.idle()
    assert len(bot.fake.messages_to(user)) == 1


async def test_a_lane_whose_lease_lapsed_while_this_process_works_on_it_is_not_taken_twice(
    make_bot: BotFactory,
) -> None:
    """The event loop was too busy to renew a lease (a loaded machine): the lease looks expired, but this
    process is still handling the chat, so its next claim leaves the chat alone (no answer handled twice)."""
    bot = await make_bot(inbox_workers=0)
    inbox = bot.app[keys.INBOX]
    user = new_user_id()
    assert (await bot.post(bot.text(user, "เมนู"))).status == 200
    assert await inbox._claim(ignore_settle=True) == [user]  # now being handled
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(EventLane).where(EventLane.lane_key == user).values(lease_until=utcnow() - dt.timedelta(seconds=1))
        )
    assert await inbox._claim(ignore_settle=True) == []
    await inbox._release([user])
    await bot.idle()
    assert len(bot.fake.messages_to(user)) == 1


async def test_reply_refused_clearly_then_expired_goes_by_push(bot: Bot) -> None:
    """Every reply attempt refused with 429 (nothing delivered); by the next try the token has expired: the
    answer is pushed, not taken for delivered."""
    user, row = await _answer_held_back(bot, 429)
    assert not row.reply_uncertain
    bot.fake.reply_token_lifetime = 0.0
    await _retry_now(bot, row.id)
    assert len(bot.fake.messages_to(user)) == 1
    assert [d.via for d in bot.fake.deliveries if d.user_id == user] == ["push"]


async def test_loading_animation_only_when_the_answer_is_slow(bot: Bot) -> None:
    fast_user, slow_user = new_user_id(), new_user_id()
    await bot.post(bot.text(fast_user, "เมนู"))
    await bot.idle()
    assert bot.fake.requests_to("loading") == []
    # LINE takes its time accepting the reply: the resident sees the typing dots meanwhile.
    bot.fake.add_fault("reply", {"accept_then_timeout": 1.4})
    await bot.post(bot.text(slow_user, "เมนู"))
    await bot.idle()
    loading = bot.fake.requests_to("loading")
    assert [r.body["chatId"] for r in loading] == [slow_user]
    assert len(bot.fake.messages_to(slow_user)) == 1
