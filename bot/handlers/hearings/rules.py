"""Hearings and RSVPs: creating a hearing, what is coming up for a village, recording an answer (until the
hearing starts; not past its capacity), and the counts staff see. Functions take a session, never make one."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, fields, replace

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat.messages import is_web_link
from bot.content import Content
from bot.db.codes import RsvpAnswer
from bot.db.models import Hearing, Resident, Rsvp
from bot.delivery import geo
from bot.handlers.services.timeline import BANGKOK
from bot.nlp.normalize import clean_text

# Who is reminded: those who said they would come, and those not yet sure.
REMINDED = (RsvpAnswer.GOING, RsvpAnswer.MAYBE)
DEFAULT_REMINDERS = "1@18:00,0@07:00"
_REMINDER = re.compile(r"^(\d{1,2})@([01]\d|2[0-3]):([0-5]\d)$")
UPCOMING_SHOWN = 5


class HearingError(ValueError):
    """What is wrong, in English (the command line prints it); `code` names it for the staff pages, which
    show their own Thai sentence for each code."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


def parse_local(text: str) -> dt.datetime:
    """'YYYY-MM-DD HH:MM' in Thai time, as an aware UTC datetime."""
    try:
        local = dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise HearingError("starts", f"'{text}' is not YYYY-MM-DD HH:MM") from None
    return local.replace(tzinfo=BANGKOK).astimezone(dt.UTC)


def parse_villages(text: str | None, content: Content) -> str:
    """'1,3' checked against the municipality's villages; '' for all."""
    if not text or not text.strip() or text.strip() in ("all", "ทั้งหมด"):
        return ""
    known = {v.no for v in content.municipality.villages}
    try:
        numbers = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise HearingError("villages", "villages must be numbers separated by commas, e.g. 1,3") from None
    unknown = [n for n in numbers if n not in known]
    if unknown:
        raise HearingError("villages", f"no village {', '.join(map(str, unknown))} in municipality.yaml")
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
        raise HearingError("reminders", "reminders are days_before@HH:MM, comma-separated, e.g. 1@18:00,0@07:00")
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


TITLE_MAX, PLACE_MAX, AGENDA_MAX, INVITED_MAX, LINK_MAX = 200, 300, 2000, 300, 500
CAPACITY_MAX = 100_000
# Fields a hearing's edit replaces (everything staff fill in; not attendance, minutes or who created it).
EDITABLE = tuple(f.name for f in fields(NewHearing))


def _clean(text: str | None, limit: int) -> str:
    return clean_text(text or "", max_units=4 * limit)


def validate(content: Content, new: NewHearing) -> NewHearing:
    """The one check of a hearing's fields, for creating and for editing: the cleaned values, or a
    HearingError naming the first field that is wrong."""
    title, place = _clean(new.title, TITLE_MAX), _clean(new.place, PLACE_MAX)
    agenda, invited = _clean(new.agenda, AGENDA_MAX), _clean(new.invited, INVITED_MAX)
    online = (new.online_url or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise HearingError("title", f"a title of 1 to {TITLE_MAX} characters is needed")
    if not place or len(place) > PLACE_MAX:
        raise HearingError("place", f"a place of 1 to {PLACE_MAX} characters is needed")
    if len(agenda) > AGENDA_MAX:
        raise HearingError("agenda", f"the agenda takes at most {AGENDA_MAX} characters")
    if len(invited) > INVITED_MAX:
        raise HearingError("invited", f"who is invited takes at most {INVITED_MAX} characters")
    if new.starts_at.tzinfo is None:
        raise HearingError("starts", "the start needs a time zone")
    if new.consultation_id and new.consultation_id not in content.consultations:
        raise HearingError("consultation", f"no consultation '{new.consultation_id}' in content/consultations")
    if new.capacity is not None and not 1 <= new.capacity <= CAPACITY_MAX:
        raise HearingError("capacity", f"capacity must be 1 to {CAPACITY_MAX:,}")
    point = geo.point(new.latitude, new.longitude)
    if (new.latitude is not None or new.longitude is not None) and point is None:
        raise HearingError("map", "the map point is latitude,longitude: both finite, -90..90 and -180..180")
    if online and not (len(online) <= LINK_MAX and is_web_link(online) and online.startswith("https://")):
        raise HearingError("online", "the online link must be a https:// address")
    return replace(
        new,
        title=title,
        place=place,
        villages=parse_villages(new.villages, content),
        agenda=agenda or None,
        invited=invited or None,
        online_url=online or None,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
        reminders=check_reminders(new.reminders),
    )


def create(session: AsyncSession, content: Content, new: NewHearing, by: str, *, at: dt.datetime) -> Hearing:
    checked = validate(content, new)
    hearing = Hearing(**{name: getattr(checked, name) for name in EDITABLE}, created_by=by, created_at=at)
    session.add(hearing)
    return hearing


def edit(content: Content, hearing: Hearing, new: NewHearing) -> None:
    """Replace the hearing's fields with new ones, checked exactly as create() checks them."""
    checked = validate(content, new)
    for name in EDITABLE:
        setattr(hearing, name, getattr(checked, name))


def is_for(hearing: Hearing, village: int | None) -> bool:
    numbers = hearing.village_numbers
    return not numbers or village in numbers


async def upcoming(session: AsyncSession, now: dt.datetime, village: int | None) -> list[Hearing]:
    """Hearings not yet started for this village (all of them when the village is not known), soonest first."""
    rows = await session.scalars(select(Hearing).where(Hearing.starts_at > now).order_by(Hearing.starts_at))
    return [h for h in rows if village is None or is_for(h, village)][:UPCOMING_SHOWN]


async def going_count(session: AsyncSession, hearing_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Rsvp).where(Rsvp.hearing_id == hearing_id, Rsvp.answer == RsvpAnswer.GOING)
    )
    return int(count or 0)


async def answers_of(session: AsyncSession, resident_id: int) -> dict[int, str]:
    rows = await session.execute(select(Rsvp.hearing_id, Rsvp.answer).where(Rsvp.resident_id == resident_id))
    return {hearing_id: answer for hearing_id, answer in rows}


async def record_rsvp(
    session: AsyncSession, hearing: Hearing, resident: Resident, answer: str, now: dt.datetime
) -> str:
    """'saved', or why not: 'closed' (started), 'not_open' (no RSVP), 'full' (no seat left to say 'going')."""
    if answer not in tuple(RsvpAnswer):
        raise HearingError("answer", f"answer must be one of {', '.join(RsvpAnswer)}")
    if not hearing.rsvp_enabled:
        return "not_open"
    if now >= hearing.starts_at:
        return "closed"
    existing = await session.scalar(select(Rsvp).where(Rsvp.hearing_id == hearing.id, Rsvp.resident_id == resident.id))
    takes_a_seat = answer == RsvpAnswer.GOING and not (existing is not None and existing.answer == RsvpAnswer.GOING)
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
        by_answer={a.value: by_answer.get(a, 0) for a in RsvpAnswer},
        by_village={v: dict(c) for v, c in sorted(by_village.items(), key=lambda i: (i[0] is None, i[0] or 0))},
    )
