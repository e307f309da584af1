"""The retention purge (content/privacy.yaml: 24 months): with the clock moved past the period, what
identifies a person is gone and what the municipality must count stays; anything younger is untouched."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot import keys
from bot.db.models import (
    Hearing,
    InboundEvent,
    Opinion,
    Photo,
    Report,
    Resident,
    Rsvp,
    ServiceQuery,
)
from bot.handlers.residents.retention import months_before, purge
from tests.conftest import Bot
from tests.staffing import add_opinions, add_questions, add_report, add_resident

THEN = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)


def test_months_before_handles_short_months() -> None:
    assert months_before(dt.datetime(2027, 3, 31, tzinfo=dt.UTC), 1) == dt.datetime(2027, 2, 28, tzinfo=dt.UTC)
    assert months_before(dt.datetime(2028, 11, 23, tzinfo=dt.UTC), 24) == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


async def test_old_personal_data_is_purged_and_counts_remain(bot: Bot) -> None:
    months = bot.app[keys.CONTENT].privacy.retention_months
    resident = await add_resident(bot, village=3, last_seen_at=THEN)
    gone = await add_resident(bot, followed=False, last_seen_at=THEN)
    [old] = await add_opinions(
        bot, [("ขอไฟส่องสว่างซอย 5", "physical", 3)], resident, created_at=THEN, latitude=15.0, longitude=104.0
    )
    later = THEN + dt.timedelta(days=400)
    [young] = await add_opinions(
        bot, [("ตลาดนัดชุมชน", "economy", 3)], resident, created_at=later, latitude=15.0, longitude=104.0
    )
    await add_report(bot, gone, "ร-2569-00001", "ถนนชำรุด", created_at=THEN)
    await add_questions(bot, ["ทำบัตรประชาชน"], resident_id=resident.id, created_at=THEN)
    media = bot.app[keys.SETTINGS].data_dir / "media"
    (media / "2026").mkdir(parents=True)
    (media / "2026" / "a.jpg").write_bytes(b"jpeg")
    async with bot.sessions() as session, session.begin():
        opinion_id = await session.scalar(select(Opinion.id).where(Opinion.reference == old))
        session.add(Photo(message_id="m1", opinion_id=opinion_id, status="stored", path="2026/a.jpg", created_at=THEN))
        hearing = Hearing(title="ประชาคม", starts_at=THEN, place="วัด", villages="", created_by="t", reminders="")
        session.add(hearing)
        await session.flush()
        session.add(Rsvp(hearing_id=hearing.id, resident_id=resident.id, answer="going", updated_at=THEN))
        session.add(
            InboundEvent(
                webhook_event_id="e1",
                lane_key="U1",
                event_type="message",
                occurred_at_ms=0,
                payload='{"x":1}',
                status="done",
                received_at=THEN,
            )
        )

    async with bot.sessions() as session, session.begin():
        early = await purge(session, THEN + dt.timedelta(days=30), months)
    assert early.opinions_unlinked == early.photos_erased == early.residents_deleted == 0

    async with bot.sessions() as session, session.begin():
        purged = await purge(session, months_before(THEN, -months) + dt.timedelta(days=1), months)
    assert purged.opinions_unlinked == 1 and purged.reports_unlinked == 1 and purged.photos_erased == 1
    assert purged.questions_blanked == 1 and purged.events_redacted == 1 and purged.rsvps_deleted == 1
    assert purged.residents_deleted == 1
    await bot.app[keys.PHOTOS].run_once()
    assert not (media / "2026" / "a.jpg").exists()
    async with bot.sessions() as session:
        rows = {o.reference: o for o in await session.scalars(select(Opinion))}
        assert rows[old].resident_id is None and rows[old].latitude is None and rows[old].text == "ขอไฟส่องสว่างซอย 5"
        assert rows[young].resident_id == resident.id and rows[young].latitude == 15.0
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        assert await session.scalar(select(ServiceQuery.text)) == ""
        assert await session.scalar(select(InboundEvent.payload)) == "{}"
        assert set(await session.scalars(select(Resident.id))) == {resident.id}
        assert await session.scalar(select(Photo.status)) == "deleted"
    async with bot.sessions() as session, session.begin():
        again = await purge(session, months_before(THEN, -months) + dt.timedelta(days=1), months)
    assert again.opinions_unlinked == again.residents_deleted == again.photos_erased == 0
