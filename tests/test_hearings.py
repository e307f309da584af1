"""Hearings end to end against the fake LINE platform over HTTP: the audience (opt-outs, villages), chunks of
500 with their own retry keys, a 429 retried with the same key, a crash half-way that resumes without
sending anyone the message twice, reminders that fire once with two workers, RSVPs from the chat, and the
hearing commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot import keys
from bot.db.models import AuditEntry, BroadcastChunk, BroadcastJob, Hearing, Resident, Rsvp, utcnow
from bot.delivery.background import Stopping, stop_tasks
from bot.handlers.hearings import fanout
from bot.handlers.hearings.fanout import JobRunner, announce, report
from bot.handlers.hearings.rules import NewHearing, create, parse_local
from bot.handlers.residents.rules import pseudonym_for
from tests.chatting import say_all
from tests.conftest import Bot, new_user_id
from tests.serving import cli_env, run_cli

# Years ahead of the real clock: the app's own background job runner (real time) never finds these jobs
# due, so only the runners a test drives (with its own clock) send them.
NOW = dt.datetime(2031, 11, 23, 5, 0, tzinfo=dt.UTC)  # 12:00 in Bangkok
STARTS = "2031-12-12 09:00"
# A hearing as the workspace's form sends it (the csrf token and the action are added where it is posted).
FORM = {
    "title": "ประชาคมหมู่ 2",
    "starts": "2031-12-20T09:30",
    "place": "ศาลาหมู่ 2",
    "villages": "2",
    "rsvp": "on",
    "reminders": "1@18:00",
}


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def _followers(bot: Bot, count: int, **values: object) -> list[str]:
    users = [new_user_id() for _ in range(count)]
    async with bot.sessions() as session, session.begin():
        session.add_all(
            Resident(line_user_id=u, pseudonym=pseudonym_for("k" * 32, u), followed=True, **values) for u in users
        )
    for user in users:
        bot.fake.followers.add(user)
    return users


async def _hearing(bot: Bot, **values: object) -> int:
    new = NewHearing(
        title="ประชุมประชาคมหมู่บ้าน ร่างแผนพัฒนาท้องถิ่น (พ.ศ. 2571-2575) เพิ่มเติม ครั้งที่ 1",
        starts_at=parse_local(STARTS),
        place="ศาลาอเนกประสงค์หมู่ 3",
        agenda="รับฟังปัญหาและความต้องการ เสนอโครงการ",
        latitude=15.1,
        longitude=104.2,
        **values,  # type: ignore[arg-type]
    )
    async with bot.sessions() as session, session.begin():
        hearing = create(session, bot.app[keys.CONTENT], new, "test", at=bot.now())
        await session.flush()
        return hearing.id


async def _announce(bot: Bot, hearing_id: int, run_at: dt.datetime = NOW, mode: str = "multicast") -> int:
    async with bot.sessions() as session, session.begin():
        hearing = await session.get(Hearing, hearing_id)
        assert hearing is not None
        job = await announce(session, hearing, run_at, mode, "test", now=bot.now())
        return job.id


def _runner(bot: Bot, clock: Clock, **kw: object) -> JobRunner:
    return JobRunner(
        bot.app[keys.SESSIONS],
        bot.app[keys.LINE],
        bot.app[keys.CONTENT],
        requests_per_second=1000,
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


def _multicasts(bot: Bot) -> list[tuple[str | None, list[str], int]]:
    return [(r.retry_key, r.body["to"], r.status) for r in bot.fake.requests_to("multicast")]


def _received_counts(bot: Bot) -> Counter[str]:
    return Counter(d.user_id for d in bot.fake.deliveries if d.via == "multicast")


async def test_announcement_goes_in_chunks_of_500_to_followers_who_did_not_opt_out(bot: Bot) -> None:
    wanted = await _followers(bot, 1234, village=3)
    opted_out = await _followers(bot, 7, village=3, notify=False)
    gone = await _followers(bot, 5, village=3)
    async with bot.sessions() as session, session.begin():
        await session.execute(update(Resident).where(Resident.line_user_id.in_(gone)).values(followed=False))
    hearing = await _hearing(bot)
    job = await _announce(bot, hearing)
    await _runner(bot, Clock(NOW)).run_until_idle()
    requests = _multicasts(bot)
    assert [len(to) for _, to, _ in requests] == [500, 500, 234]
    keys_used = [k for k, _, _ in requests]
    assert len(set(keys_used)) == 3 and all(keys_used)
    assert _received_counts(bot) == Counter(wanted)
    assert not set(opted_out + gone) & set(_received_counts(bot))
    message = bot.fake.messages_to(wanted[0])[0]
    assert message["type"] == "flex" and "ศาลาอเนกประสงค์หมู่ 3" in message["altText"]
    async with bot.sessions() as session:
        result = await report(session, job)
    assert result is not None
    assert (result.status, result.recipients, result.sent, result.failed, result.chunks) == ("done", 1234, 1234, 0, 3)


async def test_villages_narrow_the_audience(bot: Bot) -> None:
    three = await _followers(bot, 3, village=3)
    await _followers(bot, 4, village=5)
    await _followers(bot, 2)  # village not known: not counted as any village's
    hearing = await _hearing(bot, villages="1,3")
    await _announce(bot, hearing)
    await _runner(bot, Clock(NOW)).run_until_idle()
    assert set(_received_counts(bot)) == set(three)


async def test_a_429_is_retried_with_the_same_key(bot: Bot) -> None:
    users = await _followers(bot, 600, village=1)
    bot.fake.add_fault("multicast", {"status": 429})
    bot.fake.add_fault("multicast", {"status": 500})
    await _announce(bot, await _hearing(bot))
    await _runner(bot, Clock(NOW)).run_until_idle()
    requests = _multicasts(bot)
    assert [status for _, _, status in requests] == [429, 500, 200, 200]
    assert requests[0][0] == requests[1][0] == requests[2][0] != requests[3][0]
    assert _received_counts(bot) == Counter(users)


@pytest.mark.parametrize("where", ["after-request", "before-request"])
async def test_a_crash_half_way_resumes_and_sends_nobody_twice(bot: Bot, where: str) -> None:
    users = await _followers(bot, 2100, village=2)
    job = await _announce(bot, await _hearing(bot))
    calls = 0

    async def crash_at_third_chunk(point: str) -> None:
        nonlocal calls
        if point == where:
            calls += 1
            if calls == 3:
                raise SystemExit("simulated crash")

    with pytest.raises(SystemExit):
        await _runner(bot, Clock(NOW), fault_point=crash_at_third_chunk).run_until_idle()
    delivered_before = len(_received_counts(bot))
    assert 0 < delivered_before < len(users)
    # A restarted worker waits for the dead one's lease to run out, then resumes the same chunks.
    later = Clock(NOW + fanout.LEASE + dt.timedelta(seconds=1))
    await _runner(bot, later).run_until_idle()
    assert _received_counts(bot) == Counter(users)  # everyone exactly once
    statuses = [status for _, _, status in _multicasts(bot)]
    assert statuses.count(409) == (1 if where == "after-request" else 0)
    async with bot.sessions() as session:
        result = await report(session, job)
        chunk_keys = list(await session.scalars(select(BroadcastChunk.retry_key)))
    assert result is not None and result.status == "done" and result.sent == 2100 and result.chunks == 5
    assert len(set(chunk_keys)) == 5


async def test_scheduled_announcement_and_reminders_fire_once_with_two_workers(bot: Bot) -> None:
    users = await _followers(bot, 30, village=3)
    hearing = await _hearing(bot)
    await _announce(bot, hearing, run_at=NOW + dt.timedelta(hours=1))
    async with bot.sessions() as session, session.begin():
        # Half the residents answer: 10 going, 5 maybe, 5 not going.
        resident_ids = list(await session.scalars(select(Resident.id).order_by(Resident.id)))
        for rid, answer in zip(resident_ids, ["going"] * 10 + ["maybe"] * 5 + ["not_going"] * 5, strict=False):
            session.add(Rsvp(hearing_id=hearing, resident_id=rid, answer=answer, updated_at=NOW))
        due = dict((await session.execute(select(BroadcastJob.kind, func.count()).group_by(BroadcastJob.kind))).all())
    assert due == {"announce": 1, "reminder": 2}
    clock = Clock(NOW)
    workers = [_runner(bot, clock), _runner(bot, clock)]

    async def both() -> None:
        await asyncio.gather(*(w.run_until_idle() for w in workers))

    await both()
    assert _multicasts(bot) == []  # nothing is due yet
    clock.now = NOW + dt.timedelta(hours=1, seconds=1)
    await both()
    assert _received_counts(bot) == Counter(users)
    for moment, expected in (("2031-12-11 18:00", 15), ("2031-12-12 07:00", 30)):
        clock.now = parse_local(moment) + dt.timedelta(seconds=1)
        await both()
        await both()
        reminded = [u for u, n in _received_counts(bot).items() if n > 1]
        assert sum(n - 1 for n in _received_counts(bot).values()) == expected, moment
        assert len(reminded) == 15
    texts = [m.get("text", "") for m in bot.fake.messages_to(users[0])]
    assert sum("เตือนความจำ" in t for t in texts) == 2


async def test_rsvp_from_the_chat_is_recorded_changeable_and_respects_capacity(bot: Bot) -> None:
    bot.app[keys.QA].clock = lambda: NOW
    hearing = await _hearing(bot, capacity=1)
    first, second = new_user_id(), new_user_id()
    for user in (first, second):
        assert (await bot.post(bot.follow(user))).status == 200
    await bot.idle()
    assert (await bot.post(bot.text(first, "ประชาคมครั้งต่อไปเมื่อไหร่"))).status == 200
    await bot.idle()
    card = bot.fake.messages_to(first)[-1]
    assert card["type"] == "flex" and card["contents"]["type"] == "carousel"
    buttons = [
        b["action"]["data"]
        for b in card["contents"]["contents"][0]["footer"]["contents"]
        if b["action"]["type"] == "postback"
    ]
    assert buttons == [
        f"action=rsvp&h={hearing}&a=going",
        f"action=rsvp&h={hearing}&a=not_going",
        f"action=rsvp&h={hearing}&a=maybe",
    ]
    for user, data in ((first, "going"), (second, "going"), (first, "maybe"), (second, "going")):
        assert (await bot.post(bot.postback(user, f"action=rsvp&h={hearing}&a={data}"))).status == 200
        await bot.idle()
    async with bot.sessions() as session:
        answers = dict((await session.execute(select(Resident.line_user_id, Rsvp.answer).join(Rsvp))).all())
    assert answers == {first: "maybe", second: "going"}
    second_texts = [m.get("text", "") for m in bot.fake.messages_to(second)]
    assert any("เต็มจำนวน" in t for t in second_texts)  # full while the first held the seat
    bot.app[keys.QA].clock = lambda: parse_local(STARTS) + dt.timedelta(minutes=1)
    await bot.post(bot.postback(first, f"action=rsvp&h={hearing}&a=going"))
    await bot.idle()
    assert "เริ่มประชุมไปแล้ว" in bot.fake.messages_to(first)[-1]["text"]


async def test_residents_opt_out_and_back_in(bot: Bot) -> None:
    user = new_user_id()
    await bot.post(bot.follow(user))
    await bot.idle()
    for text, expected in (("ไม่รับข่าวสาร", False), ("รับข่าวสาร", True)):
        await bot.post(bot.text(user, text))
        await bot.idle()
        async with bot.sessions() as session:
            assert await session.scalar(select(Resident.notify).where(Resident.line_user_id == user)) is expected


async def test_hearing_commands_create_list_and_announce(bot: Bot, database_url: str, tmp_path: Path) -> None:
    users = await _followers(bot, 3, village=4)
    env = cli_env(tmp_path, database_url)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(env, "hearing", *args)

    created = await asyncio.to_thread(
        run,
        "create",
        "--title",
        "ประชาคมหมู่ 4",
        "--starts",
        "2031-01-10 09:00",
        "--place",
        "วัดบ้านนา",
        "--villages",
        "4",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    hearing_id = json.loads(created.stdout)["id"]
    bad = await asyncio.to_thread(run, "create", "--title", "x", "--starts", "tomorrow", "--place", "y")
    assert bad.returncode == 2 and "YYYY-MM-DD HH:MM" in bad.stderr
    listed = json.loads((await asyncio.to_thread(run, "list", "--json")).stdout)
    assert listed[0]["id"] == hearing_id and listed[0]["villages"] == [4]
    # The running bot's worker sends the job the command schedules; --wait prints its report.
    stopping = Stopping()
    worker = asyncio.create_task(_runner(bot, Clock(utcnow() + dt.timedelta(seconds=5))).run_forever(stopping))
    try:
        done = await asyncio.to_thread(run, "announce", str(hearing_id), "--wait", "--json")
    finally:
        await stop_tasks([worker], stopping)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "done" and result["recipients"] == result["sent"] == 3 and result["failed"] == 0
    assert set(_received_counts(bot)) == set(users)


async def test_staff_create_preview_and_announce_in_the_workspace(bot: Bot) -> None:
    from tests.staffing import add_staff, csrf_token, sign_in

    users = await _followers(bot, 4, village=2)
    await add_staff(bot, "nid", "broadcaster")
    await add_staff(bot, "viewer1", "viewer")
    await sign_in(bot.client, "viewer1")
    assert "new-hearing" not in await (await bot.client.get("/staff/hearings")).text()
    token = await csrf_token(bot.client, "/staff/hearings")
    form = {**FORM, "csrf": token}
    assert (await bot.client.post("/staff/hearings", data=form, allow_redirects=False)).status == 403
    await sign_in(bot.client, "nid")
    token = await csrf_token(bot.client, "/staff/hearings")
    bad = await bot.client.post(
        "/staff/hearings", data={**form, "csrf": token, "villages": "99"}, allow_redirects=False
    )
    assert "error=" in bad.headers["Location"]
    made = await bot.client.post("/staff/hearings", data={**form, "csrf": token}, allow_redirects=False)
    page_url = made.headers["Location"]
    page = await (await bot.client.get(page_url)).text()
    assert 'class="bubble"' in page and "ศาลาหมู่ 2" in page and "วันเสาร์ 20 ธันวาคม 2574" in page
    assert "ส่งถึง <strong>4</strong> คน" in page
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key is not None  # the announce form's one-time key (tests/test_hearings_hardening.py)
    sent = await bot.client.post(
        page_url,
        data={"csrf": token, "action": "announce", "mode": "multicast", "key": key.group(1)},
        allow_redirects=False,
    )
    assert sent.headers["Location"].endswith("saved=announce")
    # The app's own worker sends it (real clock: due now).
    for _ in range(100):
        if set(_received_counts(bot)) == set(users):
            break
        await asyncio.sleep(0.1)
    assert _received_counts(bot) == Counter(users)
    async with bot.sessions() as session:
        kinds = sorted(await session.scalars(select(BroadcastJob.kind)))
    assert kinds == ["announce", "reminder"]
    report_page = await (await bot.client.get(page_url)).text()
    assert "(1/1 ชุด)" in report_page


async def test_with_no_consultation_open_an_opinion_points_to_the_next_hearing(bot: Bot) -> None:
    bot.app[keys.QA].clock = lambda: NOW  # years after the sample consultation closed
    await _hearing(bot)
    user = new_user_id()
    await bot.post(bot.follow(user))
    await bot.idle()
    await bot.post(bot.text(user, "อยากให้ทำถนนลาดยางในซอยบ้านดอนยาง"))
    await bot.idle()
    texts = [m.get("text", "") for m in bot.fake.messages_to(user)[-2:]]
    assert "ประชุมประชาคมหมู่บ้าน" in texts[0] and "วันศุกร์ 12 ธันวาคม 2574 เวลา 09.00 น." in texts[0]
    assert "ยังไม่มีการรับฟังความคิดเห็นที่เปิดอยู่" in texts[1]


async def test_deleting_my_data_removes_my_answers_to_hearings(bot: Bot) -> None:
    bot.app[keys.QA].clock = lambda: NOW
    hearing = await _hearing(bot)
    user = new_user_id()
    await bot.post(bot.follow(user))
    await bot.idle()
    await bot.post(bot.postback(user, f"action=rsvp&h={hearing}&a=going"))
    await bot.idle()
    await say_all(bot, user, "menu: ข้อมูลของฉัน", "tap: ลบข้อมูลทั้งหมด", "tap: ยืนยันลบทั้งหมด")
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Rsvp)) == 0
        assert await session.scalar(select(func.count()).where(Resident.line_user_id == user)) == 0
        request = await session.scalar(select(AuditEntry).where(AuditEntry.action == "data_request"))
    assert request is not None and request.actor == "resident" and user not in request.detail


async def test_hearing_page_works_when_line_does_not_answer_the_quota(bot: Bot) -> None:
    from tests.staffing import add_staff, sign_in

    await add_staff(bot, "nid", "broadcaster")
    await sign_in(bot.client, "nid")
    hearing = await _hearing(bot)
    for _ in range(8):
        bot.fake.add_fault("other", {"status": 500})
    page = await bot.client.get(f"/staff/hearings/{hearing}")
    assert page.status == 200 and "ดูโควตาจาก LINE ไม่ได้" in await page.text()
