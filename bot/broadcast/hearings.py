"""Hearings and RSVPs: creating a hearing, what is coming up for a village, recording an answer (until the
hearing starts; not past its capacity), and the counts staff see. Functions take a session, never make one."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.db.models import Hearing, Resident, Rsvp, utcnow
from bot.timeline import BANGKOK

ANSWERS = ("going", "not_going", "maybe")
# Who is reminded: those who said they would come, and those not yet sure.
REMINDED = ("going", "maybe")
DEFAULT_REMINDERS = "1@18:00,0@07:00"
_REMINDER = re.compile(r"^(\d{1,2})@([01]\d|2[0-3]):([0-5]\d)$")
UPCOMING_SHOWN = 5


class HearingError(ValueError):
    pass


def parse_local(text: str) -> dt.datetime:
    """'YYYY-MM-DD HH:MM' in Thai time, as an aware UTC datetime."""
    try:
        local = dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise HearingError(f"'{text}' is not YYYY-MM-DD HH:MM") from None
    return local.replace(tzinfo=BANGKOK).astimezone(dt.UTC)


def parse_villages(text: str | None, content: Content) -> str:
    """'1,3' checked against the municipality's villages; '' for all."""
    if not text or not text.strip() or text.strip() in ("all", "ทั้งหมด"):
        return ""
    known = {v.no for v in content.municipality.villages}
    try:
        numbers = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise HearingError("villages must be numbers separated by commas, e.g. 1,3") from None
    unknown = [n for n in numbers if n not in known]
    if unknown:
        raise HearingError(f"no village {', '.join(map(str, unknown))} in municipality.yaml")
    return ",".join(map(str, numbers))


def reminder_times(hearing: Hearing) -> list[tuple[str, dt.datetime]]:
    """Each reminder's key ('1@18:00') and when it is due, in UTC."""
    day = hearing.starts_at.astimezone(BANGKOK).date()
    times = []
    for spec in filter(None, (s.strip() for s in hearing.reminders.split(","))):
        match = _REMINDER.match(spec)
        if match is None:
            continue
        days, hour, minute = (int(g) for g in match.groups())
        local = dt.datetime.combine(day - dt.timedelta(days=days), dt.time(hour, minute), tzinfo=BANGKOK)
        due = local.astimezone(dt.UTC)
        if due < hearing.starts_at:
            times.append((spec, due))
    return times


def check_reminders(text: str) -> str:
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if not all(_REMINDER.match(s) for s in specs):
        raise HearingError("reminders are days_before@HH:MM, comma-separated, e.g. 1@18:00,0@07:00")
    return ",".join(specs)


@dataclass(frozen=True)
class NewHearing:
    title: str
    starts_at: dt.datetime
    place: str
    villages: str = ""
    consultation_id: str | None = None
    agenda: str | None = None
    invited: str | None = None
    online_url: str | None = None
    capacity: int | None = None
    rsvp_enabled: bool = True
    latitude: float | None = None
    longitude: float | None = None
    reminders: str = DEFAULT_REMINDERS


def create(session: AsyncSession, content: Content, new: NewHearing, by: str) -> Hearing:
    if not new.title.strip() or len(new.title) > 200:
        raise HearingError("a title of 1 to 200 characters is needed")
    if not new.place.strip() or len(new.place) > 300:
        raise HearingError("a place of 1 to 300 characters is needed")
    if new.consultation_id and new.consultation_id not in content.consultations:
        raise HearingError(f"no consultation '{new.consultation_id}' in content/consultations")
    if new.capacity is not None and new.capacity < 1:
        raise HearingError("capacity must be at least 1")
    if (new.latitude is None) != (new.longitude is None):
        raise HearingError("give both latitude and longitude, or neither")
    if new.online_url and not new.online_url.startswith("https://"):
        raise HearingError("the online link must start with https://")
    hearing = Hearing(
        title=new.title.strip(),
        starts_at=new.starts_at,
        place=new.place.strip(),
        villages=new.villages,
        consultation_id=new.consultation_id,
        agenda=(new.agenda or "").strip() or None,
        invited=(new.invited or "").strip() or None,
        online_url=new.online_url or None,
        capacity=new.capacity,
        rsvp_enabled=new.rsvp_enabled,
        latitude=new.latitude,
        longitude=new.longitude,
        reminders=check_reminders(new.reminders),
        created_by=by,
        created_at=utcnow(),
    )
    session.add(hearing)
    return hearing


def is_for(hearing: Hearing, village: int | None) -> bool:
    numbers = hearing.village_numbers
    return not numbers or village in numbers


async def upcoming(session: AsyncSession, now: dt.datetime, village: int | None) -> list[Hearing]:
    """Hearings not yet started for this village (all of them when the village is not known), soonest first."""
    rows = await session.scalars(select(Hearing).where(Hearing.starts_at > now).order_by(Hearing.starts_at))
    return [h for h in rows if village is None or is_for(h, village)][:UPCOMING_SHOWN]


async def going_count(session: AsyncSession, hearing_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Rsvp).where(Rsvp.hearing_id == hearing_id, Rsvp.answer == "going")
    )
    return int(count or 0)


async def answers_of(session: AsyncSession, resident_id: int) -> dict[int, str]:
    rows = await session.execute(select(Rsvp.hearing_id, Rsvp.answer).where(Rsvp.resident_id == resident_id))
    return {hearing_id: answer for hearing_id, answer in rows}


async def record_rsvp(
    session: AsyncSession, hearing: Hearing, resident: Resident, answer: str, now: dt.datetime
) -> str:
    """'saved', or why not: 'closed' (started), 'not_open' (no RSVP), 'full' (no seat left to say 'going')."""
    if answer not in ANSWERS:
        raise HearingError(f"answer must be one of {', '.join(ANSWERS)}")
    if not hearing.rsvp_enabled:
        return "not_open"
    if now >= hearing.starts_at:
        return "closed"
    existing = await session.scalar(select(Rsvp).where(Rsvp.hearing_id == hearing.id, Rsvp.resident_id == resident.id))
    takes_a_seat = answer == "going" and not (existing is not None and existing.answer == "going")
    if takes_a_seat and hearing.capacity is not None and await going_count(session, hearing.id) >= hearing.capacity:
        return "full"
    if existing is None:
        session.add(Rsvp(hearing_id=hearing.id, resident_id=resident.id, answer=answer, updated_at=now))
    else:
        existing.answer, existing.updated_at = answer, now
    return "saved"


@dataclass(frozen=True)
class RsvpCounts:
    by_answer: dict[str, int]
    by_village: dict[int | None, dict[str, int]]


async def rsvp_counts(session: AsyncSession, hearing_id: int) -> RsvpCounts:
    rows = await session.execute(
        select(Resident.village, Rsvp.answer)
        .join(Resident, Resident.id == Rsvp.resident_id)
        .where(Rsvp.hearing_id == hearing_id)
    )
    by_answer: Counter[str] = Counter()
    by_village: dict[int | None, Counter[str]] = {}
    for village, answer in rows:
        by_answer[answer] += 1
        by_village.setdefault(village, Counter())[answer] += 1
    return RsvpCounts(
        by_answer={a: by_answer.get(a, 0) for a in ANSWERS},
        by_village={v: dict(c) for v, c in sorted(by_village.items(), key=lambda i: (i[0] is None, i[0] or 0))},
    )
