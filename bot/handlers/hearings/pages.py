"""Hearings in the workspace: create and edit (broadcaster or admin), preview the announcement, see how many
residents it reaches and what it costs against LINE's monthly quota, send it now or at a time, follow each
sending's progress and report, RSVP counts by answer and village, and after the hearing: attendance, minutes
and a follow-up message.

An announcement cannot go out twice by accident: the form carries a one-time key (a second submit of the
same form, a double click or the back button, shows the first sending's progress instead); a hearing
already announced asks "send again?" with that sending's date and count; and a LINE broadcast to every
friend asks once more, naming how many friends LINE counts (or saying the number is not known). Errors
reach the page as a code (?error=capacity), which the template turns into its own Thai sentence."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot import keys
from bot.db.models import BroadcastJob, Hearing, Resident, utcnow
from bot.delivery.line import LineSendError
from bot.handlers.hearings import cards
from bot.handlers.hearings.fanout import (
    FORM_KEY,
    AlreadyAnnounced,
    AlreadySubmitted,
    BroadcastError,
    announce,
    audience_size,
    last_announcement,
    lock_hearing,
    report,
    schedule_follow_up,
    submitted_job,
)
from bot.handlers.hearings.rules import (
    DEFAULT_REMINDERS,
    HearingError,
    NewHearing,
    create,
    edit,
    rsvp_counts,
)
from bot.handlers.services.timeline import BANGKOK, thai_date
from bot.nlp.normalize import clean_text
from bot.ops import audit
from bot.staff.dates import DateError, parse_moment, parse_time
from bot.staff.preview import render_messages
from bot.staff.shell import now, render, requires, signed_in

FIELDS = (
    "title",
    "starts",
    "place",
    "villages",
    "consultation",
    "agenda",
    "invited",
    "online",
    "capacity",
    "map",
)


# The reminder rows of the form: "days before" and "time", blank rows ignored.
REMINDER_ROWS = 3
MAX_DAYS_BEFORE = 30


def reminder_rows(spec: str) -> list[tuple[str, str]]:
    """A hearing's reminders ("1@18:00,0@07:00") as the form's rows (days before, time), blanks to fill."""
    rows = [tuple(part.split("@", 1)) for part in spec.split(",") if "@" in part][:REMINDER_ROWS]
    return [(d, t) for d, t in rows] + [("", "")] * (REMINDER_ROWS - len(rows))


def _reminders(form: Any) -> str:
    """The reminder rows as stored ("1@18:00,0@07:00"); a row half filled or out of range is refused with
    its own code (reminder_1..3), shown next to that row. A form without the rows (the command line's, an
    older page) may still send the stored form in `reminders`."""
    if not any(f"remind_days_{i}" in form or f"remind_time_{i}" in form for i in range(1, REMINDER_ROWS + 1)):
        return str(form.get("reminders", "")).strip() or DEFAULT_REMINDERS
    specs = []
    for i in range(1, REMINDER_ROWS + 1):
        days, time = (str(form.get(f"remind_{part}_{i}", "")).strip() for part in ("days", "time"))
        if not days and not time:
            continue
        try:
            at = parse_time(time)
        except DateError:
            at = None
        if not days.isdecimal() or not 0 <= int(days) <= MAX_DAYS_BEFORE or at is None:
            raise HearingError(f"reminder_{i}", "days before (0-30) and a time (HH:MM) expected")
        specs.append(f"{int(days)}@{at:%H:%M}")
    return ",".join(dict.fromkeys(specs))


def thai_moment(value: dt.datetime) -> str:
    """'วันเสาร์ 12 ธันวาคม 2569 09.00': the day in the Buddhist era and the time, in Thai time."""
    local = value.astimezone(BANGKOK)
    return f"{thai_date(local.date())} {local:%H.%M}"


def _parse_when(day: str, time: str, code: str = "starts") -> dt.datetime:
    """A day typed in the Buddhist era and a time, in Thai time (bot/staff/dates.py); `code` names the field
    the page says is wrong."""
    try:
        return parse_moment(day, time)
    except DateError:
        raise HearingError(code, "not a day (dd/mm/yyyy, Buddhist era) and a time (HH:MM)") from None


def _from_form(form: Any) -> NewHearing:
    """The form's fields as typed; bot.handlers.hearings.rules.validate checks them (for create and edit alike)."""
    value = {name: str(form.get(name, "")).strip() for name in FIELDS}
    latitude = longitude = None
    if value["map"]:
        try:
            latitude, longitude = (float(x) for x in value["map"].split(","))
        except ValueError:
            raise HearingError("map", "latitude,longitude expected") from None
    try:
        capacity = int(value["capacity"]) if value["capacity"] else None
    except ValueError:
        raise HearingError("capacity", "not a number") from None
    return NewHearing(
        title=value["title"],
        starts_at=_parse_when(value["starts"], str(form.get("starts_time", ""))),
        place=value["place"],
        villages=value["villages"],
        consultation_id=value["consultation"] or None,
        agenda=value["agenda"] or None,
        invited=value["invited"] or None,
        online_url=value["online"] or None,
        capacity=capacity,
        rsvp_enabled=form.get("rsvp") == "on",
        latitude=latitude,
        longitude=longitude,
        reminders=_reminders(form),
    )


@requires("view")
async def hearing_list(request: web.Request) -> web.Response:
    """Hearings, soonest first, and every sending for the transparency report."""
    async with request.app[keys.SESSIONS]() as db:
        hearings = (await db.scalars(select(Hearing).order_by(Hearing.starts_at.desc()))).all()
        jobs = (await db.scalars(select(BroadcastJob).order_by(BroadcastJob.id.desc()).limit(100))).all()
    titles = {h.id: h.title for h in hearings}
    return render(
        request,
        "hearings.html",
        hearings=hearings,
        jobs=jobs,
        titles=titles,
        now=now(request),
        consultations=request.app[keys.CONTENT].consultations,
        error=request.query.get("error"),
        defaults={"reminders": DEFAULT_REMINDERS},
        reminder_rows=reminder_rows,
        thai_moment=thai_moment,
    )


@requires("broadcast")
async def hearing_create(request: web.Request) -> web.StreamResponse:
    """Adds a hearing from the form."""
    form = await request.post()
    try:
        new = _from_form(form)
        by, at = signed_in(request).username, now(request)
        async with request.app[keys.SESSIONS]() as db, db.begin():
            hearing = create(db, request.app[keys.CONTENT], new, by, at=at)
            await db.flush()
            hearing_id = hearing.id
            audit.record(db, by, "broadcast", f"hearing:{hearing_id}", at=at, step="create")
    except HearingError as exc:
        raise web.HTTPSeeOther(f"/staff/hearings?error={_quote(exc.code)}") from None
    raise web.HTTPSeeOther(f"/staff/hearings/{hearing_id}")


def _quote(code: str) -> str:
    from urllib.parse import quote

    return quote(code[:40])


QUOTA_WAIT_SECONDS = 3.0


async def _quota(request: web.Request) -> dict[str, Any] | None:
    """LINE's monthly message quota and what is used; None when LINE does not answer in a few seconds (the
    page must not wait out the gateway's retries)."""
    try:
        return await asyncio.wait_for(request.app[keys.LINE].get_quota(), QUOTA_WAIT_SECONDS)
    except (LineSendError, TimeoutError):
        return None


@requires("view")
async def hearing_page(request: web.Request) -> web.Response:
    """Everything about one hearing."""
    hearing_id = _id(request)
    async with request.app[keys.SESSIONS]() as db:
        hearing = await db.get(Hearing, hearing_id)
        if hearing is None:
            raise web.HTTPNotFound(text="ไม่มีการประชุมนี้", content_type="text/plain")
        audience = await audience_size(db, hearing)
        followers = int(
            await db.scalar(select(func.count()).where(Resident.followed.is_(True), Resident.notify.is_(True))) or 0
        )
        counts = await rsvp_counts(db, hearing.id)
        job_ids = list(
            await db.scalars(
                select(BroadcastJob.id).where(BroadcastJob.hearing_id == hearing.id).order_by(BroadcastJob.run_at)
            )
        )
        reports = [r for r in [await report(db, j) for j in job_ids] if r is not None]
    content = request.app[keys.CONTENT]
    quota = await _quota(request)
    return render(
        request,
        "hearing.html",
        form_key=secrets.token_urlsafe(16),
        thai_moment=thai_moment,
        hearing=hearing,
        preview=render_messages([cards.announcement(content, hearing)]),
        audience=audience,
        followers=followers,
        quota=quota,
        counts=counts,
        reports=reports,
        now=now(request),
        villages={v.no: v.name for v in content.municipality.villages},
        consultations=content.consultations,
        reminder_rows=reminder_rows,
        flash=request.query.get("saved"),
        error=request.query.get("error"),
    )


def _id(request: web.Request) -> int:
    try:
        return int(request.match_info["hearing_id"])
    except ValueError:
        raise web.HTTPNotFound() from None


@requires("broadcast")
async def hearing_update(request: web.Request) -> web.StreamResponse:
    """edit / announce / record (attendance and minutes) / follow_up."""
    hearing_id = _id(request)
    form = await request.post()
    action = str(form.get("action", ""))
    by, at = signed_in(request).username, now(request)
    here = f"/staff/hearings/{hearing_id}"
    if action == "announce":
        return await _announce(request, hearing_id, form)
    try:
        async with request.app[keys.SESSIONS]() as db, db.begin():
            hearing = await db.get(Hearing, hearing_id)
            if hearing is None:
                raise web.HTTPNotFound()
            if action == "edit":
                edit(request.app[keys.CONTENT], hearing, _from_form(form))
                audit.record(db, by, "broadcast", f"hearing:{hearing_id}", at=at, step="edit")
            elif action == "record":
                attendance = str(form.get("attendance", "")).strip()
                if attendance and not (attendance.isascii() and attendance.isdigit() and len(attendance) <= 6):
                    raise HearingError("attendance")
                hearing.attendance = int(attendance) if attendance else None
                hearing.minutes = clean_text(str(form.get("minutes", "")), 4000) or None
                audit.record(db, by, "broadcast", f"hearing:{hearing_id}", at=at, step="record")
            elif action == "follow_up":
                job = schedule_follow_up(db, hearing, str(form.get("note", "")), by, now=at)
                await db.flush()
                audit.record(db, by, "broadcast", f"hearing:{hearing_id}", at=at, step="follow_up", job=job.id)
            else:
                raise web.HTTPBadRequest(text="ไม่รู้จักคำสั่งนี้", content_type="text/plain")
    except (HearingError, BroadcastError) as exc:
        raise web.HTTPSeeOther(f"{here}?error={_quote(exc.code)}") from None
    raise web.HTTPSeeOther(f"{here}?saved={action}")


FRIENDS_WAIT_SECONDS = 3.0


async def _friends(request: web.Request) -> tuple[int | None, dt.date]:
    """How many friends a LINE broadcast reaches, by LINE's count for yesterday (Japan's date, as LINE
    keeps it; today's is not ready until the day ends): None when LINE gives no figure or does not answer
    within a few seconds. Never our own guess: the confirmation says the number is not known instead."""
    # LINE's own calendar, not the one clock: its statistics exist for the days that really passed.
    day = (utcnow() + dt.timedelta(hours=9)).date() - dt.timedelta(days=1)
    try:
        count = await asyncio.wait_for(request.app[keys.LINE].get_friends(day), FRIENDS_WAIT_SECONDS)
    except (LineSendError, TimeoutError):
        count = None
    return count, day


def _count(raw: object) -> int | None:
    """A form's id or count: digits only, or None."""
    text = str(raw or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


async def _announce(request: web.Request, hearing_id: int, form: Any) -> web.StreamResponse:
    """Schedule the announcement, or ask first: "send again?" when the hearing was announced before, and
    "to every friend?" for a LINE broadcast. The form's one-time key makes a second submit of the same form
    show the first sending's progress."""
    here = f"/staff/hearings/{hearing_id}"
    by, asked = signed_in(request).username, now(request)
    key = str(form.get("key", ""))
    mode = "broadcast" if form.get("mode") == "broadcast" else "multicast"
    at, at_time = (str(form.get(name, "")).strip() for name in ("at", "at_time"))
    again = _count(form.get("again"))
    broadcast_confirmed = form.get("confirm_broadcast") == "yes"
    friends_shown = _count(form.get("friends"))
    last = None
    try:
        if not FORM_KEY.match(key):
            raise BroadcastError("form_key")
        run_at = max(_parse_when(at, at_time, "at"), asked) if at or at_time else asked
        async with request.app[keys.SESSIONS]() as db, db.begin():
            hearing = await lock_hearing(db, hearing_id)
            if hearing is None:
                raise web.HTTPNotFound()
            earlier = await submitted_job(db, hearing, key)
            if earlier is not None:
                raise AlreadySubmitted(earlier)
            last = await last_announcement(db, hearing_id)
            if (last is None or again == last.id) and (mode == "multicast" or broadcast_confirmed):
                job = await announce(db, hearing, run_at, mode, by, form_key=key, again=again, now=asked)
                detail: dict[str, Any] = {"job": job.id, "mode": mode}
                if last is not None:
                    detail["again"] = last.id
                if mode == "broadcast":
                    detail["friends"] = friends_shown
                audit.record(db, by, "broadcast", f"hearing:{hearing_id}", at=asked, step="announce", **detail)
                job_id = job.id
            else:
                job_id = None
                title = hearing.title
                last_report = await report(db, last.id) if last is not None else None
    except AlreadySubmitted as exc:
        raise web.HTTPSeeOther(f"{here}/sendings/{exc.job_id}?again=submitted") from None
    except AlreadyAnnounced:
        # Announced by someone else between this page's question and the answer: ask again, afresh.
        raise web.HTTPSeeOther(f"{here}?error=announced_meanwhile") from None
    except (HearingError, BroadcastError) as exc:
        raise web.HTTPSeeOther(f"{here}?error={_quote(exc.code)}") from None
    if job_id is not None:
        raise web.HTTPSeeOther(f"{here}/sendings/{job_id}?saved=announce")
    # Asked first, outside any transaction (LINE may take a few seconds to give the friend count).
    friends, friends_day = await _friends(request) if mode == "broadcast" else (None, None)
    return render(
        request,
        "hearing_confirm.html",
        hearing_id=hearing_id,
        title=title,
        key=key,
        at=at,
        at_time=at_time,
        mode=mode,
        last=last_report,
        needs_again=last_report is not None,
        friends=friends,
        friends_day=friends_day,
        thai_moment=thai_moment,
        thai_date=thai_date,
    )


@requires("view")
async def sending_page(request: web.Request) -> web.Response:
    """One sending's progress and report (where an announce form leads, and a second submit of it)."""
    hearing_id = _id(request)
    try:
        job_id = int(request.match_info["job_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[keys.SESSIONS]() as db:
        hearing = await db.get(Hearing, hearing_id)
        result = await report(db, job_id)
    if hearing is None or result is None or result.hearing_id != hearing_id:
        raise web.HTTPNotFound()
    return render(
        request,
        "hearing_sending.html",
        hearing=hearing,
        r=result,
        now=now(request),
        thai_moment=thai_moment,
        flash=request.query.get("saved"),
        resubmitted=request.query.get("again") == "submitted",
    )
