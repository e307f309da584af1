"""Staff type and read dates in the Buddhist era (issue 16 item 9): the filter bar's days and the hearing
form's day and time are text fields filled in พ.ศ. (chromium's date inputs follow the browser's locale and
show Gregorian years and AM/PM), read on the server, pre-filled in พ.ศ. when shown again; a Gregorian year
typed by mistake is read when it can only be one; anything else is said in Thai next to its field. Export
links and the command line keep working (tests/test_staff_browser.py fills the same forms in chromium)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select, update

from bot.db.models import BroadcastJob, Hearing, Opinion
from bot.handlers.services.timeline import BANGKOK
from bot.staff.dates import DateError, parse_day, parse_moment
from tests.conftest import Bot
from tests.staffing import add_opinions, add_resident, add_staff, csrf_token, sign_in

NOV_1_2026 = dt.date(2026, 11, 1)


@pytest.mark.parametrize(
    "typed",
    ["1/11/2569", "01/11/2569", "๑/๑๑/๒๕๖๙", "01-11-2569", "1.11.2569", "2026-11-01", "01/11/2026", "2569-11-01"],
)
def test_a_day_is_read_in_the_buddhist_era_or_where_it_can_only_be_gregorian(typed: str) -> None:
    assert parse_day(typed) == NOV_1_2026


@pytest.mark.parametrize(
    ("typed", "code"),
    [("31/02/2569", "unreadable"), ("1/11/69", "unreadable"), ("พรุ่งนี้", "unreadable"), ("1/1/2442", "date_range")],
)
def test_a_day_that_is_none_is_refused_with_its_reason(typed: str, code: str) -> None:
    with pytest.raises(DateError) as refused:
        parse_day(typed)
    assert refused.value.code == code


def test_a_moment_is_a_buddhist_era_day_and_a_thai_time() -> None:
    expected = dt.datetime(2027, 6, 12, 9, 30, tzinfo=BANGKOK)
    assert parse_moment("12/06/2570", "09:30") == parse_moment("12/06/2570", "9.30 น.") == expected
    assert parse_moment("2027-06-12T09:30", "") == expected  # an older page's datetime-local value


async def _exporter(bot: Bot) -> None:
    await add_staff(bot, "somsri", "exporter")
    await sign_in(bot.client, "somsri")


def _field(page: str, name: str) -> str:
    """The label holding the input `name`, with what is said next to it."""
    match = re.search(rf'<label>[^<]*<input name="{name}".*?</label>', page, flags=re.S)
    assert match is not None, name
    return html.unescape(match.group(0))


async def test_the_filter_bar_takes_and_shows_buddhist_era_days(bot: Bot) -> None:
    await _exporter(bot)
    resident = await add_resident(bot)
    await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5), ("ซ่อมถนนหมู่ 3", "physical", 3)], resident)
    async with bot.sessions() as session, session.begin():
        first = await session.scalar(select(Opinion.id).order_by(Opinion.id))
        await session.execute(
            update(Opinion).where(Opinion.id == first).values(created_at=dt.datetime(2026, 10, 20, tzinfo=dt.UTC))
        )
        await session.execute(
            update(Opinion).where(Opinion.id != first).values(created_at=dt.datetime(2026, 11, 5, tzinfo=dt.UTC))
        )
    for page_path in ("/staff/opinions", "/staff/reports", "/staff/insight"):
        page = await (await bot.client.get(page_path)).text()
        assert 'type="date"' not in page and "ค.ศ." not in page, page_path
        assert "วว/ดด/ปปปป พ.ศ." in _field(page, "since"), page_path
    for typed in ("1/11/2569", "01/11/2026", "2026-11-01"):  # พ.ศ., a Gregorian year by mistake, an old link
        page = await (await bot.client.get("/staff/opinions", params={"since": typed})).text()
        assert "พบ 1 รายการ" in page, typed
        since = _field(page, "since")
        assert 'value="01/11/2569"' in since and "error" not in since, typed
        # The export links carry the filter as it was given, and read it the same way.
        link = re.search(r'href="(/staff/export/opinions\.csv\?[^"]*)"', page)
        assert link is not None
        exported = await bot.client.get(html.unescape(link.group(1)))
        assert exported.status == 200 and (await exported.text()).count("ซ่อมถนนหมู่ 3") == 1, typed
        assert "ขอไฟส่องสว่าง" not in await exported.text()
    page = await (await bot.client.get("/staff/opinions", params={"since": "31/02/2569", "until": "1/1/2442"})).text()
    since, until = _field(page, "since"), _field(page, "until")
    assert 'class="error field-error"' in since and "อ่านไม่ได้" in since and "01/11/2569" in since
    assert 'value="31/02/2569"' in since  # kept as typed, to be corrected
    assert "นอกช่วงที่ค้นได้ (ปี พ.ศ. 2443–3042)" in until
    assert "พบ 2 รายการ" in page and "ค.ศ." not in page and "ลบ 543" not in page


FORM = {"title": "ประชาคมหมู่ 2", "place": "ศาลาหมู่ 2", "villages": "2", "rsvp": "on"}


async def test_the_hearing_form_takes_a_buddhist_era_day_and_a_time(bot: Bot) -> None:
    await add_staff(bot, "nid", "broadcaster")
    await sign_in(bot.client, "nid")
    page = await (await bot.client.get("/staff/hearings")).text()
    assert "datetime-local" not in page and 'type="time"' not in page
    assert "วว/ดด/ปปปป พ.ศ." in page
    token = await csrf_token(bot.client, "/staff/hearings")
    form = {**FORM, "csrf": token, "starts": "20/12/2574", "starts_time": "09:30"}
    made = await bot.client.post("/staff/hearings", data=form, allow_redirects=False)
    here = made.headers["Location"]
    async with bot.sessions() as session:
        hearing = await session.scalar(select(Hearing))
    assert hearing is not None and hearing.starts_at == dt.datetime(2031, 12, 20, 9, 30, tzinfo=BANGKOK)
    page = await (await bot.client.get(here)).text()
    # Editing shows the day in พ.ศ. and the time, as they were typed.
    assert 'name="starts" required maxlength="40" autocomplete="off" value="20/12/2574"' in page
    assert 'name="starts_time" required maxlength="10" autocomplete="off" value="09:30"' in page
    assert "datetime-local" not in page
    bad = await bot.client.post("/staff/hearings", data={**form, "starts": "20/12/74"}, allow_redirects=False)
    assert bad.headers["Location"].endswith("error=starts")
    refused = await (await bot.client.get(bad.headers["Location"])).text()
    assert re.search(r'name="starts_time".*?class="error field-error"[^>]*>วันเวลาประชุมอ่านไม่ได้', refused, re.S)
    # The announcement's time is a day and a time too; the confirmation carries both.
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key is not None
    sent = await bot.client.post(
        here,
        data={
            "csrf": token,
            "action": "announce",
            "mode": "multicast",
            "key": key.group(1),
            "at": "01/12/2574",
            "at_time": "08:00",
        },
        allow_redirects=False,
    )
    assert sent.headers["Location"].endswith("saved=announce")
    async with bot.sessions() as session:
        run_at = await session.scalar(select(BroadcastJob.run_at).where(BroadcastJob.kind == "announce"))
    assert run_at == dt.datetime(2031, 12, 1, 8, 0, tzinfo=BANGKOK)
