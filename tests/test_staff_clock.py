"""One clock for staff too (issue 17 step 5): what staff do in the workspace (a report's status and division,
an opinion's outcome, a hearing and its announcement, an export's file name, the audit log) is dated by the
clock the chat reads (qa.clock), so a test pins both at once. Only the sign-in machinery (sessions, failure
windows) and the background runners keep the machine's time: they measure real time between real requests."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from bot import keys
from bot.db.models import AuditEntry, BroadcastJob, Hearing, Opinion, OpinionChange, Report, ReportStatus
from tests.conftest import Bot
from tests.staffing import add_opinions, add_report, add_resident, add_staff, csrf_token, sign_in

# Far from the real time on purpose: a time read from the machine's clock cannot pass for it.
PINNED = dt.datetime(2031, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


async def _staff_actions_audited_at(bot: Bot) -> set[tuple[str, dt.datetime]]:
    async with bot.sessions() as session:
        rows = await session.execute(select(AuditEntry.action, AuditEntry.at).where(AuditEntry.actor == "somchai"))
        return {(action, at) for action, at in rows}


async def test_a_report_moved_on_in_the_workspace_is_dated_by_the_pinned_clock(bot: Bot) -> None:
    bot.app[keys.QA].clock = lambda: PINNED
    await add_staff(bot, "somchai", "exporter")
    resident = await add_resident(bot)
    await add_report(bot, resident, "ร-2569-00007", "ถนนหน้าวัดเป็นหลุมลึก", created_at=PINNED - dt.timedelta(days=2))
    await sign_in(bot.client, "somchai")
    page = "/staff/reports/ร-2569-00007"
    token = await csrf_token(bot.client, page)
    for form in (
        {"action": "status", "status": "in_progress", "note": "ช่างจะเข้าพรุ่งนี้"},
        {"action": "assign", "division": "clerk"},
    ):
        assert (await bot.client.post(page, data={"csrf": token, **form}, allow_redirects=False)).status == 303
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
        by_staff = list(
            await session.scalars(select(ReportStatus.changed_at).where(ReportStatus.changed_by == "somchai"))
        )
    assert report is not None and report.updated_at == PINNED
    assert by_staff == [PINNED, PINNED]
    assert {("login", PINNED), ("report_status", PINNED), ("report_assign", PINNED)} == await _staff_actions_audited_at(
        bot
    )
    # The page shows the history by the same clock: 4 March 2574 in the Buddhist era.
    assert "4 มี.ค. 2574" in await (await bot.client.get(page)).text()


async def test_an_opinion_decided_in_the_workspace_is_dated_by_the_pinned_clock(bot: Bot) -> None:
    bot.app[keys.QA].clock = lambda: PINNED
    await add_staff(bot, "somchai", "exporter")
    [reference] = await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5)])
    await sign_in(bot.client, "somchai")
    page = f"/staff/opinions/{reference}"
    token = await csrf_token(bot.client, page)
    for form in (
        {"action": "category", "category": "safety_order"},
        {"action": "note", "note": "ตรวจพื้นที่แล้ว"},
        {"action": "outcome", "outcome": "in_plan", "detail": "โครงการติดตั้งไฟฟ้าส่องสว่าง หมู่ 5"},
    ):
        assert (await bot.client.post(page, data={"csrf": token, **form}, allow_redirects=False)).status == 303
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        changed = set(await session.scalars(select(OpinionChange.changed_at)))
    assert opinion is not None and opinion.outcome_at == PINNED
    assert changed == {PINNED}
    assert {action for action, at in await _staff_actions_audited_at(bot) if at == PINNED} == {
        "login",
        "opinion_change",
    }


async def test_a_hearing_created_and_announced_in_the_workspace_is_dated_by_the_pinned_clock(bot: Bot) -> None:
    bot.app[keys.QA].clock = lambda: PINNED
    await add_staff(bot, "somchai", "broadcaster")
    await sign_in(bot.client, "somchai")
    token = await csrf_token(bot.client, "/staff/hearings")
    # Two reminders: the one a day before falls after the pinned time and is scheduled; no other is due before it.
    form = {"title": "ประชาคมหมู่ 2", "starts": "2031-03-10T09:30", "place": "ศาลาหมู่ 2", "villages": "2"}
    made = await bot.client.post(
        "/staff/hearings", data={**form, "csrf": token, "reminders": "1@18:00"}, allow_redirects=False
    )
    page_url = made.headers["Location"]
    key = re.search(r'name="key" value="([^"]+)"', await (await bot.client.get(page_url)).text())
    assert key is not None
    data = {"csrf": token, "action": "announce", "mode": "multicast", "key": key.group(1)}
    assert (await bot.client.post(page_url, data=data, allow_redirects=False)).status == 303
    async with bot.sessions() as session:
        hearing = await session.scalar(select(Hearing))
        jobs = {job.kind: job for job in await session.scalars(select(BroadcastJob))}
    assert hearing is not None and hearing.created_at == PINNED
    assert set(jobs) == {"announce", "reminder"} and {job.created_at for job in jobs.values()} == {PINNED}
    assert jobs["announce"].run_at == PINNED  # "send now" is now by the pinned clock
    assert {action for action, at in await _staff_actions_audited_at(bot) if at == PINNED} == {"login", "broadcast"}


async def test_an_exported_file_is_named_by_the_pinned_clock(bot: Bot) -> None:
    bot.app[keys.QA].clock = lambda: PINNED
    await add_staff(bot, "somchai", "exporter")
    await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5)])
    await sign_in(bot.client, "somchai")
    response = await bot.client.get("/staff/export/opinions.csv")
    assert response.status == 200
    assert "opinions-20310304-1206.csv" in response.headers["Content-Disposition"]  # 12:06 in Bangkok
    assert ("export", PINNED) in await _staff_actions_audited_at(bot)
