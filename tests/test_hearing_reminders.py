"""The hearing form asks for reminders as rows of "days before" and "time" (issue 16 item 13), not as
"1@18:00,0@07:00": blank rows are ignored, a half-filled row is refused with a Thai sentence next to it, and
editing a hearing shows its reminders in those rows."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Hearing
from tests.conftest import Bot
from tests.staffing import add_staff, csrf_token, sign_in

FORM = {"title": "ประชาคมหมู่ 2", "starts": "2031-12-20T09:30", "place": "ศาลาหมู่ 2", "villages": "2", "rsvp": "on"}
ROWS = {
    "remind_days_1": "2",
    "remind_time_1": "18:00",
    "remind_days_2": "",
    "remind_time_2": "",
    "remind_days_3": "0",
    "remind_time_3": "07:30",
}


async def _broadcaster(bot: Bot) -> str:
    await add_staff(bot, "nid", "broadcaster")
    await sign_in(bot.client, "nid")
    return await csrf_token(bot.client, "/staff/hearings")


async def test_the_new_hearing_form_has_rows_filled_with_the_defaults(bot: Bot) -> None:
    await _broadcaster(bot)
    page = await (await bot.client.get("/staff/hearings")).text()
    assert 'name="reminders"' not in page
    assert 'name="remind_days_1" min="0" max="30" inputmode="numeric" value="1"' in page
    assert 'name="remind_time_1" value="18:00"' in page and 'name="remind_time_2" value="07:00"' in page
    assert 'name="remind_days_3" min="0" max="30" inputmode="numeric" value=""' in page


async def test_rows_are_stored_blank_rows_ignored_and_shown_again_when_editing(bot: Bot) -> None:
    token = await _broadcaster(bot)
    made = await bot.client.post("/staff/hearings", data={**FORM, **ROWS, "csrf": token}, allow_redirects=False)
    assert made.status == 303 and "error=" not in made.headers["Location"]
    async with bot.sessions() as session:
        hearing = await session.scalar(select(Hearing))
    assert hearing is not None and hearing.reminders == "2@18:00,0@07:30"
    page = await (await bot.client.get(made.headers["Location"])).text()
    assert 'name="remind_days_1" min="0" max="30" inputmode="numeric" value="2"' in page
    assert 'name="remind_time_2" value="07:30"' in page
    assert 'name="remind_days_3" min="0" max="30" inputmode="numeric" value=""' in page
    cleared = {f"remind_{p}_{i}": "" for p in ("days", "time") for i in (1, 2, 3)}
    edited = await bot.client.post(
        made.headers["Location"], data={**FORM, **cleared, "action": "edit", "csrf": token}, allow_redirects=False
    )
    assert edited.status == 303 and "error=" not in edited.headers["Location"]
    async with bot.sessions() as session:
        assert await session.scalar(select(Hearing.reminders)) == ""  # every row blank: no reminders


async def test_a_half_filled_row_is_refused_next_to_that_row_in_thai(bot: Bot) -> None:
    token = await _broadcaster(bot)
    for bad in (
        {"remind_days_2": "1", "remind_time_2": ""},
        {"remind_days_2": "31", "remind_time_2": "08:00"},
        {"remind_days_2": "หนึ่ง", "remind_time_2": "08:00"},
        {"remind_days_2": "1", "remind_time_2": "25:00"},
    ):
        refused = await bot.client.post(
            "/staff/hearings", data={**FORM, **ROWS, **bad, "csrf": token}, allow_redirects=False
        )
        assert refused.status == 303 and refused.headers["Location"].endswith("error=reminder_2"), bad
    page = await (await bot.client.get("/staff/hearings?error=reminder_2")).text()
    row = page.split('name="remind_days_2"')[1].split('name="remind_days_3"')[0]
    assert 'class="error field-error"' in row and "แถวที่ 2" in row
    async with bot.sessions() as session:
        assert await session.scalar(select(Hearing)) is None
