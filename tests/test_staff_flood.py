"""Anonymous floods against the workspace must not reach the database or hold up LINE's webhook: sign-ins
refused from memory before any database work or hashing, passwords verified with no transaction held, the
database's count atomic across processes, failures collapsed in the audit log and purged from login_failure,
/metrics read from the database once per few seconds; and HSTS behind HTTPS, a clear answer to a malformed
sign-in form."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import FormData
from sqlalchemy import event, func, select

from bot import keys
from bot.db.models import AuditEntry, LoginFailure, utcnow
from bot.staff import accounts
from bot.staff.accounts import MAX_FAILURES_PER_ACCOUNT
from tests.conftest import Bot, BotFactory, new_user_id
from tests.staffing import PASSWORD, add_opinions, add_report, add_resident, add_staff, csrf_token, sign_in
from tests.test_hearings import FORM as HEARING_FORM

WRONG = "wrong-password!"


async def _failures(bot: Bot) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


async def _failed_rows(bot: Bot) -> list[tuple[str, dict[str, Any]]]:
    async with bot.sessions() as session:
        rows = await session.execute(
            select(AuditEntry.actor, AuditEntry.detail)
            .where(AuditEntry.action == "login_failed")
            .order_by(AuditEntry.id)
        )
        return [(actor, json.loads(detail)) for actor, detail in rows]


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password verification, by the hash it checked (the real argon2 still runs)."""
    seen: list[str] = []
    real = accounts._verify

    async def counting(password_hash: str, password: str) -> bool:
        seen.append(password_hash)
        return await real(password_hash, password)

    monkeypatch.setattr(accounts, "_verify", counting)
    yield seen


async def test_a_locked_account_is_refused_from_memory_with_nothing_written(bot: Bot, verifications: list[str]) -> None:
    await add_staff(bot, "somchai", "admin")
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await sign_in(bot.client, "somchai", WRONG)).status == 401
    failures, audited, verified = await _failures(bot), len(await _failed_rows(bot)), len(verifications)
    for _ in range(20):
        assert (await sign_in(bot.client, "somchai", WRONG)).status == 401
    locked = await sign_in(bot.client, "somchai")
    assert locked.status == 401
    # Twenty-one refusals: no password checked, not a row in login_failure or the audit log.
    assert (await _failures(bot), len(await _failed_rows(bot)), len(verifications)) == (failures, audited, verified)


async def test_a_flood_of_sign_ins_is_handled_one_at_a_time_and_refused_past_a_bound(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.staff.web.WAITING", 10)
    bot = await make_bot()
    checking, most = 0, 0
    real = accounts._verify

    async def watched(password_hash: str, password: str) -> bool:
        nonlocal checking, most
        checking += 1
        most = max(most, checking)
        try:
            return await real(password_hash, password)
        finally:
            checking -= 1

    monkeypatch.setattr(accounts, "_verify", watched)
    # Rotating names: each is new to the per-account window, so only the process's pace holds them back.
    responses = await asyncio.gather(*(sign_in(bot.client, f"guess{i}", WRONG) for i in range(40)))
    assert {r.status for r in responses} == {401}
    assert len({await r.text() for r in responses}) == 1  # a refusal reads as any wrong password does
    assert most == 1 and await _failures(bot) <= 11


async def test_the_webhook_is_acknowledged_while_a_password_is_being_verified(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_staff(bot, "somchai", "viewer")
    verifying, release = asyncio.Event(), asyncio.Event()

    async def slow(password_hash: str, password: str) -> bool:
        verifying.set()
        await release.wait()
        return False

    monkeypatch.setattr(accounts, "_verify", slow)
    signing = asyncio.create_task(sign_in(bot.client, "somchai", WRONG))
    await asyncio.wait_for(verifying.wait(), 5)
    loop = asyncio.get_running_loop()
    start = loop.time()
    # On SQLite a transaction held through the verification would hold the intake's one connection.
    response = await asyncio.wait_for(bot.post(bot.text(new_user_id(), "สวัสดี")), 10)
    acknowledged = loop.time() - start
    release.set()
    assert (await signing).status == 401
    assert response.status == 200 and acknowledged < 1.0


async def test_concurrent_wrong_sign_ins_from_several_processes_stop_at_the_limit(
    make_bot: BotFactory, verifications: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bots = [await make_bot() for _ in range(4)]
    await add_staff(bots[0], "somchai", "admin")
    real = accounts.check_password

    async def widened(*args: Any) -> accounts.Checked:
        await asyncio.sleep(0.05)  # all twenty in flight at once
        return await real(*args)

    monkeypatch.setattr("bot.staff.web.check_password", widened)
    # Four processes' memories allow five each; only the database's count stands between them.
    attempts = [sign_in(b.client, "somchai", WRONG) for b in bots for _ in range(MAX_FAILURES_PER_ACCOUNT)]
    responses = await asyncio.gather(*attempts)
    assert {r.status for r in responses} == {401}
    dummy = accounts._DUMMY_HASH
    assert len([h for h in verifications if h != dummy]) <= MAX_FAILURES_PER_ACCOUNT
    assert await _failures(bots[0]) <= MAX_FAILURES_PER_ACCOUNT


async def test_repeated_failures_are_one_audit_row_and_a_count(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await add_staff(bot, "somchai", "admin")
    for _ in range(MAX_FAILURES_PER_ACCOUNT + 3):
        await sign_in(bot.client, "somchai", WRONG)
    await sign_in(bot.client, "nobody", WRONG)
    assert await _failed_rows(bot) == [("somchai", {"attempts": 1}), ("nobody", {"attempts": 1})]
    # The window's counts are written when it closes, or when the process stops.
    await bot.client.close()
    rows = await _failed_rows(await make_bot())
    assert rows[2:] == [("somchai", {"attempts": MAX_FAILURES_PER_ACCOUNT - 1, "refused": 3, "collapsed": True})]


async def test_old_login_failures_are_purged(make_bot: BotFactory) -> None:
    bot = await make_bot()
    async with bot.sessions() as session, session.begin():
        session.add_all(
            [
                LoginFailure(username="old", address="192.0.2.1", at=utcnow() - dt.timedelta(days=2)),
                LoginFailure(username="recent", address="192.0.2.1", at=utcnow() - dt.timedelta(minutes=1)),
            ]
        )
    bot = await make_bot()  # purged at start, then hourly
    for _ in range(100):
        async with bot.sessions() as session:
            names = set(await session.scalars(select(LoginFailure.username)))
        if names == {"recent"}:
            break
        await asyncio.sleep(0.05)
    assert names == {"recent"}


async def test_a_flood_of_metrics_scrapes_reads_the_database_once(bot: Bot) -> None:
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("SELECT count(*)") and "min(inbound_event.received_at)" in statement:
            statements.append(statement)

    engine = bot.app[keys.ENGINE].sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        # Answered ten a second, one at a time: thirty take three seconds, within one reading's lifetime.
        responses = await asyncio.gather(*(bot.client.get("/metrics") for _ in range(30)))
        texts = [await r.text() for r in responses]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert {r.status for r in responses} == {200}
    assert all('bot_queue_size{queue="events"} 0' in t for t in texts)
    assert len(statements) == 1


async def test_hsts_is_sent_only_behind_https(make_bot: BotFactory) -> None:
    https = await make_bot(public_url="https://bot.example.go.th")
    plain = await make_bot()
    for path in ("/staff/login", "/healthz", "/privacy"):
        assert (await https.client.get(path)).headers["Strict-Transport-Security"] == "max-age=31536000"
        assert "Strict-Transport-Security" not in (await plain.client.get(path)).headers


async def test_a_malformed_sign_in_form_is_refused_in_thai(bot: Bot) -> None:
    broken = await bot.client.post(
        "/staff/login",
        data=b'--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\nsomchai',
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert broken.status == 400 and "แบบฟอร์มเข้าสู่ระบบ" in await broken.text()
    form = FormData({"password": PASSWORD})
    form.add_field("username", b"somchai", filename="name.txt")
    as_file = await bot.client.post("/staff/login", data=form)
    assert as_file.status == 400 and "แบบฟอร์มเข้าสู่ระบบ" in await as_file.text()


async def test_no_page_writes_the_error_parameter_into_itself(bot: Bot) -> None:
    """?error= picks one of the page's own sentences; its text is never shown (a crafted link could put words
    of anyone's choosing on a trusted page)."""
    await add_staff(bot, "somsri", "admin")
    await sign_in(bot.client, "somsri")
    resident = await add_resident(bot)
    [reference] = await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5)], resident)
    await add_report(bot, resident, "ร-2569-00001", "ถนนเป็นหลุม")
    made = await bot.client.post(
        "/staff/hearings",
        data={**HEARING_FORM, "csrf": await csrf_token(bot.client, "/staff/hearings")},
        allow_redirects=False,
    )
    hearing_page = made.headers["Location"].split("?")[0]
    crafted = "โทรแจ้งรหัสผ่านที่ 0812345678 ด่วน"
    for page in (
        "/staff/accounts",
        f"/staff/opinions/{reference}",
        "/staff/reports/2569-00001",
        "/staff/hearings",
        hearing_page,
    ):
        response = await bot.client.get(page, params={"error": crafted})
        assert response.status == 200, page
        text = await response.text()
        assert 'role="alert"' in text, page  # the page's own sentence is shown
        assert "0812345678" not in text, page
