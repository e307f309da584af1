"""A withdrawn opinion (issue 16 item 12, the rest): when it was withdrawn is recorded, as a status change by the
resident in its history; staff still see it as "ถอนแล้ว" with its Buddhist-era date, its erased text said to be
erased and nothing to change it with; the insight page counts withdrawn ones apart. And the full privacy
notice names its version as ข้อมูลของฉัน does, a Buddhist-era date in Thai words."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update

from bot import keys
from bot.db.models import Opinion, OpinionChange, utcnow
from bot.handlers.residents.mydata import notice_version
from bot.handlers.services.timeline import thai_short_date
from bot.staff.labels import thai_when
from tests.chatting import opinion_taps, say_all
from tests.conftest import Bot
from tests.staffing import add_opinions, add_staff, csrf_token, sign_in

OPINION = "ขอไฟส่องสว่างหน้าวัดป่าบ้านดอนยาง ทางเข้าหมู่บ้านมืดมาก"
FILE_ONE = opinion_taps(OPINION)
# 30 Nov 2026 17:30 UTC is already 1 December in Bangkok, and 2569 in the Buddhist era.
WITHDRAWN_AT = dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.UTC)
GREGORIAN_YEAR = re.compile(r"(?<!\d)20\d\d(?!\d)")


async def _filed_and_withdrawn(bot: Bot) -> str:
    """A resident files an opinion in the chat and withdraws it there (tap, then confirm); its reference."""
    user = "U" + "a" * 32
    await say_all(bot, user, *FILE_ONE)
    async with bot.sessions() as session:
        reference = await session.scalar(select(Opinion.reference))
    assert reference is not None
    # One opinion: "ถอนความคิดเห็น" asks about that one straight away.
    await say_all(bot, user, "menu: ข้อมูลของฉัน", "tap: ถอนความคิดเห็น", "tap: ถอน")
    return reference


async def _changes(bot: Bot) -> list[OpinionChange]:
    async with bot.sessions() as session:
        return list(await session.scalars(select(OpinionChange).order_by(OpinionChange.id)))


# -- 1. the moment is recorded --------------------------------------------------------------------------------


async def test_withdrawing_records_when_as_a_status_change_by_the_resident(bot: Bot) -> None:
    before = utcnow()
    await _filed_and_withdrawn(bot)
    after = utcnow()
    [change] = await _changes(bot)
    assert (change.field, change.old, change.new, change.changed_by) == ("status", "received", "withdrawn", "resident")
    assert before <= change.changed_at <= after
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.status == "withdrawn"
    assert opinion.text == ""  # PDPA: the resident's words go; the history holds the two statuses only
    assert OPINION not in (change.old or "") + (change.new or "")


async def test_the_resident_sees_the_withdrawal_in_their_case_history(bot: Bot) -> None:
    reference = await _filed_and_withdrawn(bot)
    user = "U" + "a" * 32
    await say_all(bot, user, f"action=cases&ref={reference}")
    text = bot.fake.messages_to(user)[-1]["text"]
    withdrawn = bot.app[keys.CONTENT].phrases["status_withdrawn"]
    [change] = await _changes(bot)
    assert f"{thai_short_date(change.changed_at)} {withdrawn}" in text


# -- 2. the staff page shows it ---------------------------------------------------------------------------------


async def test_staff_see_a_withdrawn_opinion_with_its_day_and_nothing_to_change(bot: Bot) -> None:
    reference = await _filed_and_withdrawn(bot)
    async with bot.sessions() as session, session.begin():
        await session.execute(update(OpinionChange).values(changed_at=WITHDRAWN_AT))
    await add_staff(bot, "somsri", "admin")  # every right there is: still nothing to change a withdrawn one
    await sign_in(bot.client, "somsri")
    response = await bot.client.get(f"/staff/opinions/{reference}")
    assert response.status == 200
    page = await response.text()
    assert 'id="status">ถอนแล้ว</strong>' in page
    assert f'id="withdrawn-at">เมื่อ {thai_when(WITHDRAWN_AT)}<' in page
    assert thai_when(WITHDRAWN_AT) == "1 ธ.ค. 2569 00:30"
    assert f'id="erased">{bot.app[keys.CONTENT].phrases["case_text_withdrawn"]}<' in page
    # No form but signing out: no category, outcome, project or note to set.
    assert page.count('<form method="post"') == 1 and 'name="action"' not in page
    assert '<td data-label="โดย">ประชาชนผู้ส่ง</td>' in page  # the history row, by the resident in Thai


async def test_a_form_left_open_cannot_change_a_withdrawn_opinion(bot: Bot) -> None:
    [reference] = await add_opinions(bot, [("ขอไฟ", "physical", 2)])
    await add_staff(bot, "somsri", "admin")
    await sign_in(bot.client, "somsri")
    token = await csrf_token(bot.client, f"/staff/opinions/{reference}")  # the page as it was, forms and all
    async with bot.sessions() as session, session.begin():
        await session.execute(update(Opinion).values(status="withdrawn", text=""))
    response = await bot.client.post(
        f"/staff/opinions/{reference}",
        data={"action": "outcome", "outcome": "considering", "csrf": token},
        allow_redirects=False,
    )
    assert response.status == 409
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.status == "withdrawn"
    assert await _changes(bot) == []


async def test_a_withdrawal_from_before_its_day_was_kept_says_so(bot: Bot) -> None:
    [reference] = await add_opinions(bot, [("", "physical", 2)], status="withdrawn")
    await add_staff(bot, "somsri", "viewer")
    await sign_in(bot.client, "somsri")
    response = await bot.client.get(f"/staff/opinions/{reference}")
    assert response.status == 200
    page = await response.text()
    assert 'id="status">ถอนแล้ว</strong>' in page and 'id="withdrawn-at">(ไม่ได้บันทึกวันที่ถอน)<' in page


async def test_an_unknown_opinion_is_still_not_found(bot: Bot) -> None:
    await add_staff(bot, "somsri", "viewer")
    await sign_in(bot.client, "somsri")
    assert (await bot.client.get("/staff/opinions/ค-2569-09999")).status == 404


# -- 3. the insight page counts them apart ------------------------------------------------------------------------


async def test_the_insight_page_counts_withdrawn_opinions_apart(bot: Bot) -> None:
    await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 2), ("อยากได้ไฟส่องสว่างในซอย5", "physical", 2)])
    await add_opinions(bot, [("", "physical", 2), ("", "physical", 3)], status="withdrawn")
    await add_staff(bot, "somsri", "viewer")
    await sign_in(bot.client, "somsri")
    page = await (await bot.client.get("/staff/insight")).text()
    assert "จาก 2 ความคิดเห็น" in page  # in no group and no count
    link = re.search(r'<a id="withdrawn" href="([^"]+)">ถอนแล้ว 2 รายการ \(ไม่นับรวม\)</a>', page)
    assert link is not None and link.group(1).endswith("status=withdrawn")
    village = await (await bot.client.get("/staff/insight?village=3")).text()
    assert "ถอนแล้ว 1 รายการ (ไม่นับรวม)" in village
    assert "village=3" in re.search(r'<a id="withdrawn" href="([^"]+)"', village).group(1)  # type: ignore[union-attr]
    none = await (await bot.client.get("/staff/insight?village=4")).text()
    assert 'id="withdrawn"' not in none


# -- 4. the privacy page's version ------------------------------------------------------------------------------


async def test_the_full_privacy_notice_names_its_version_as_a_thai_date(bot: Bot) -> None:
    page = await (await bot.client.get("/privacy")).text()
    content = bot.app[keys.CONTENT]
    footer = re.search(r'<p id="version"><small>([^<]+)</small></p>', page)
    assert footer is not None
    assert footer.group(1) == content.phrases["privacy_version"].format(version=notice_version(content.privacy.version))
    assert content.privacy.version == "2026-12-02" and footer.group(1).endswith("2 ธ.ค. 2569")
    shown = re.sub(r"<[^>]+>", " ", page)  # what the resident reads: no English word, no Gregorian year
    assert "version" not in shown and not GREGORIAN_YEAR.search(footer.group(1))
