"""Issue 14, items 2 and 11, through the staff pages, the command line and the fake LINE: an announce form
sent twice (double click, back button) makes one sending and shows its progress; a hearing announced before
asks "ส่งซ้ำ?" with that sending's Buddhist-era date and count; a LINE broadcast asks once more, naming
LINE's count of friends or saying it is not known; and edits are checked exactly as creation is, with only
http(s) links in cards and previews."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import keys
from bot.db.models import AuditEntry, BroadcastJob, Hearing, utcnow
from bot.handlers.hearings import cards
from tests.conftest import Bot
from tests.serving import cli_env, run_cli
from tests.staffing import add_staff, csrf_token, sign_in
from tests.test_hearings import FORM, Clock, _followers, _hearing, _runner

_KEY = re.compile(r'name="key" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


async def _broadcaster(bot: Bot) -> str:
    await add_staff(bot, "nid", "broadcaster")
    await sign_in(bot.client, "nid")
    return await csrf_token(bot.client, "/staff/hearings")


async def _announce_form(bot: Bot, hearing: int, **values: str) -> dict[str, str]:
    """The announce form as the hearing page gives it (a fresh one-time key each time the page loads)."""
    page = await (await bot.client.get(f"/staff/hearings/{hearing}")).text()
    key = _KEY.search(page)
    assert key is not None, "the announce form carries a one-time key"
    token = await csrf_token(bot.client, f"/staff/hearings/{hearing}")
    return {"csrf": token, "action": "announce", "mode": "multicast", "key": key.group(1), **values}


async def _jobs(bot: Bot) -> list[BroadcastJob]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(BroadcastJob).where(BroadcastJob.kind == "announce")))


async def _send_due(bot: Bot) -> None:
    """What the worker does: send every job due now."""
    await _runner(bot, Clock(utcnow() + dt.timedelta(seconds=5))).run_until_idle()


async def test_a_second_submit_of_the_announce_form_shows_the_first_sendings_progress(bot: Bot) -> None:
    await _followers(bot, 3, village=2)
    await _broadcaster(bot)
    hearing = await _hearing(bot)
    form = await _announce_form(bot, hearing)
    # A double click: the same form twice at once; then the back button and the same form again.
    first, second = await asyncio.gather(
        *(bot.client.post(f"/staff/hearings/{hearing}", data=form, allow_redirects=False) for _ in range(2))
    )
    jobs = await _jobs(bot)
    assert len(jobs) == 1
    progress = f"/staff/hearings/{hearing}/sendings/{jobs[0].id}"
    locations = sorted(r.headers["Location"] for r in (first, second))
    assert locations == [f"{progress}?again=submitted", f"{progress}?saved=announce"]
    await _send_due(bot)
    back = await bot.client.post(f"/staff/hearings/{hearing}", data=form, allow_redirects=False)
    assert back.headers["Location"] == f"{progress}?again=submitted"
    assert len(await _jobs(bot)) == 1
    page = await (await bot.client.get(back.headers["Location"])).text()
    assert 'id="resubmitted"' in page and "ส่งเสร็จแล้ว" in page and "3 คน (1/1 ชุด)" in page
    assert len(bot.fake.requests_to("multicast")) == 1
    # A form without its key (an old page) is refused, never sent.
    keyless = {k: v for k, v in form.items() if k != "key"}
    refused = await bot.client.post(f"/staff/hearings/{hearing}", data=keyless, allow_redirects=False)
    assert refused.headers["Location"].endswith("?error=form_key") and len(await _jobs(bot)) == 1


async def test_announcing_again_asks_with_the_last_sendings_date_and_count(bot: Bot) -> None:
    await _followers(bot, 3, village=2)
    await _broadcaster(bot)
    hearing = await _hearing(bot)
    await bot.client.post(f"/staff/hearings/{hearing}", data=await _announce_form(bot, hearing))
    await _send_due(bot)
    [done] = await _jobs(bot)
    # Another tab, or a colleague: a fresh form for a hearing already announced.
    asked = await bot.client.post(f"/staff/hearings/{hearing}", data=await _announce_form(bot, hearing))
    page = await asked.text()
    assert asked.status == 200 and "ส่งซ้ำ?" in page
    assert done.finished_at is not None
    be_year = str(done.finished_at.astimezone(dt.timezone(dt.timedelta(hours=7))).year + 543)
    already = re.search(r'<p id="already-announced">(.*?)</p>', page, re.S)
    assert already is not None and be_year in already.group(1) and "ส่งถึง 3 คน" in already.group(1)
    assert len(await _jobs(bot)) == 1  # asking sent nothing
    confirm = dict(_HIDDEN.findall(page))
    assert confirm["again"] == str(done.id)
    # Someone else re-sent meanwhile: the answer to the old question does not send a third time.
    stale = {**confirm, "again": "0"}
    assert "ส่งซ้ำ?" in await (await bot.client.post(f"/staff/hearings/{hearing}", data=stale)).text()
    yes = await bot.client.post(f"/staff/hearings/{hearing}", data=confirm, allow_redirects=False)
    assert yes.headers["Location"].endswith("?saved=announce")
    assert len(await _jobs(bot)) == 2
    async with bot.sessions() as session:
        details = list(
            await session.scalars(
                select(AuditEntry.detail)
                .where(AuditEntry.action == "broadcast", AuditEntry.detail.contains('"announce"'))
                .order_by(AuditEntry.id)
            )
        )
    assert len(details) == 2 and f'"again": {done.id}' in details[1]


@pytest.mark.parametrize("line_says", ["ready", "unready", "fails"])
async def test_a_broadcast_to_every_friend_asks_again_naming_how_many(bot: Bot, line_says: str) -> None:
    await _followers(bot, 5, village=2)
    bot.fake.blocks = 2  # LINE counts 7 who ever added the account, 2 of them blocking it now
    await _broadcaster(bot)
    hearing = await _hearing(bot)
    form = await _announce_form(bot, hearing, mode="broadcast")
    if line_says == "unready":
        bot.fake.insight_status = "unready"
    if line_says == "fails":
        for _ in range(8):
            bot.fake.add_fault("other", {"status": 500})
    asked = await bot.client.post(f"/staff/hearings/{hearing}", data=form)
    page = await asked.text()
    assert asked.status == 200 and await _jobs(bot) == []
    friends = re.search(r'<p id="friends">(.*?)</p>', page, re.S)
    assert friends is not None
    if line_says == "ready":
        assert "<strong>5</strong> คน" in friends.group(1) and "ไม่ทราบ" not in friends.group(1)
    else:
        assert "ไม่ทราบจำนวนเพื่อน" in friends.group(1) and "<strong>5</strong>" not in friends.group(1)
    confirm = dict(_HIDDEN.findall(page))
    assert confirm["confirm_broadcast"] == "yes" and confirm["mode"] == "broadcast"
    yes = await bot.client.post(f"/staff/hearings/{hearing}", data=confirm, allow_redirects=False)
    assert yes.headers["Location"].endswith("?saved=announce")
    [job] = await _jobs(bot)
    assert job.mode == "broadcast"


async def test_line_counts_friends_for_yesterday_in_japan(bot: Bot) -> None:
    await _followers(bot, 4)
    bot.fake.blocks = 1
    yesterday = (utcnow() + dt.timedelta(hours=9)).date() - dt.timedelta(days=1)
    assert await bot.app[keys.LINE].get_friends(yesterday) == 4
    assert await bot.app[keys.LINE].get_friends(yesterday + dt.timedelta(days=1)) is None  # not ready yet


BAD_EDITS = [
    ("online", "javascript:alert(document.cookie)", "online"),
    ("online", "https://", "online"),
    ("online", "https://meet.example.org/a b", "online"),
    ("title", "   ", "title"),
    ("title", "\u200b\u200b", "title"),
    ("place", "", "place"),
    ("map", "nan,inf", "map"),
    ("map", "95,100", "map"),
    ("capacity", "-5", "capacity"),
    ("capacity", "0", "capacity"),
    ("villages", "99", "villages"),
    ("reminders", "tomorrow", "reminders"),
]


@pytest.mark.parametrize(("field", "value", "code"), BAD_EDITS)
async def test_an_edit_is_checked_as_creation_is(bot: Bot, field: str, value: str, code: str) -> None:
    token = await _broadcaster(bot)
    made = await bot.client.post("/staff/hearings", data={**FORM, "csrf": token}, allow_redirects=False)
    page_url = made.headers["Location"]
    async with bot.sessions() as session:
        before = await session.scalar(select(Hearing))
    assert before is not None
    edited = await bot.client.post(
        page_url, data={**FORM, field: value, "csrf": token, "action": "edit"}, allow_redirects=False
    )
    assert edited.headers["Location"] == f"{page_url}?error={code}"
    async with bot.sessions() as session:
        after = await session.scalar(select(Hearing))
    assert after is not None
    assert (after.title, after.place, after.online_url, after.capacity, after.latitude) == (
        before.title,
        before.place,
        before.online_url,
        before.capacity,
        before.latitude,
    )
    shown = await (await bot.client.get(edited.headers["Location"])).text()
    assert f"ทำไม่ได้: {code}" not in shown and 'role="alert">ทำไม่ได้: ' in shown  # a Thai sentence, not the code
    bad = {**FORM, field: value, "csrf": token}
    created = await bot.client.post("/staff/hearings", data=bad, allow_redirects=False)
    assert created.headers["Location"] == f"/staff/hearings?error={code}"


async def test_a_good_edit_is_saved_cleaned(bot: Bot) -> None:
    token = await _broadcaster(bot)
    made = await bot.client.post("/staff/hearings", data={**FORM, "csrf": token}, allow_redirects=False)
    page_url = made.headers["Location"]
    good = {**FORM, "title": " ประชาคม\u200bหมู่ 2 ", "online": "https://meet.example.org/x", "map": "15.1,104.2"}
    edited = await bot.client.post(page_url, data={**good, "csrf": token, "action": "edit"}, allow_redirects=False)
    assert edited.headers["Location"].endswith("?saved=edit")
    async with bot.sessions() as session:
        hearing = await session.scalar(select(Hearing))
    assert hearing is not None and hearing.title == "ประชาคมหมู่ 2" and hearing.online_url == "https://meet.example.org/x"


async def test_minutes_and_the_follow_up_note_are_cleaned_when_saved(bot: Bot) -> None:
    """The follow-up goes to residents as a LINE message: no control, bidi or zero-width characters in it."""
    token = await _broadcaster(bot)
    hearing_id = await _hearing(bot)
    here = f"/staff/hearings/{hearing_id}"
    record = {"action": "record", "attendance": "12", "minutes": "\x01=สรุป\u202eการประชุม\u200b", "csrf": token}
    assert (await bot.client.post(here, data=record, allow_redirects=False)).status == 303
    note = {"action": "follow_up", "note": "\u202eขอบคุณ\x07ที่มาร่วม\u200b", "csrf": token}
    assert (await bot.client.post(here, data=note, allow_redirects=False)).status == 303
    async with bot.sessions() as session:
        hearing = await session.get(Hearing, hearing_id)
        job = await session.scalar(select(BroadcastJob).where(BroadcastJob.kind == "follow_up"))
    assert hearing is not None and hearing.minutes == "=สรุปการประชุม"
    assert job is not None and job.note == "ขอบคุณที่มาร่วม"


async def test_cards_and_previews_carry_only_web_links(bot: Bot) -> None:
    """A hearing saved before edits were checked (or written by hand) still sends and shows no such link."""
    users = await _followers(bot, 2, village=3)
    await _broadcaster(bot)
    hearing_id = await _hearing(bot)
    async with bot.sessions() as session, session.begin():
        hearing = await session.get(Hearing, hearing_id)
        assert hearing is not None
        hearing.online_url, hearing.latitude, hearing.longitude = "javascript:alert(1)", math.nan, math.inf
    page = await (await bot.client.get(f"/staff/hearings/{hearing_id}")).text()
    assert 'href="javascript:' not in page and "maps/search" not in page  # (the edit form still shows the value)
    await bot.client.post(f"/staff/hearings/{hearing_id}", data=await _announce_form(bot, hearing_id))
    await _send_due(bot)
    card = bot.fake.messages_to(users[0])[0]
    uris = [b["action"]["uri"] for b in card["contents"]["footer"]["contents"] if b["action"]["type"] == "uri"]
    assert uris == []
    async with bot.sessions() as session:
        hearing = await session.get(Hearing, hearing_id)
    assert hearing is not None
    hearing.online_url, hearing.latitude, hearing.longitude = "https://meet.example.org/x", 15.1, 104.2
    footer = cards.announcement(bot.app[keys.CONTENT], hearing)["contents"]["footer"]["contents"]
    assert [b["action"]["uri"] for b in footer if b["action"]["type"] == "uri"] == [
        "https://www.google.com/maps/search/?api=1&query=15.100000,104.200000",
        "https://meet.example.org/x",
    ]


async def test_the_announce_command_refuses_a_second_announcement_without_again(
    bot: Bot, database_url: str, tmp_path: Path
) -> None:
    await _followers(bot, 2, village=3)
    hearing = await _hearing(bot)
    env = cli_env(tmp_path, database_url)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(env, "hearing", "announce", str(hearing), *args)

    assert (await asyncio.to_thread(run)).returncode == 0
    await _send_due(bot)
    refused = await asyncio.to_thread(run)
    assert refused.returncode == 3 and "already announced" in refused.stderr and "2 of 2" in refused.stderr
    assert "--again" in refused.stderr and len(await _jobs(bot)) == 1
    assert (await asyncio.to_thread(run, "--again")).returncode == 0
    assert len(await _jobs(bot)) == 2
