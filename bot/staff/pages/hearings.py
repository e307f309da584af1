"""Hearings in the workspace: create and edit (broadcaster or admin), preview the announcement, see how many
residents it reaches and what it costs against LINE's monthly quota, send it now or at a time, follow each
sending's progress and report, RSVP counts by answer and village, and after the hearing: attendance, minutes
and a follow-up message."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot import audit, keys
from bot.broadcast import cards
from bot.broadcast.fanout import BroadcastError, announce, audience_size, report, schedule_follow_up
from bot.broadcast.hearings import (
    DEFAULT_REMINDERS,
    HearingError,
    NewHearing,
    check_reminders,
    create,
    parse_villages,
    rsvp_counts,
)
from bot.db.models import BroadcastJob, Hearing, Resident, utcnow
from bot.line import LineSendError
from bot.staff.preview import render_messages
from bot.staff.web import render, requires, signed_in
from bot.timeline import BANGKOK

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
    "reminders",
)


def _local_input(value: dt.datetime) -> str:
    """For <input type=datetime-local>: Thai time without the zone."""
    return value.astimezone(BANGKOK).strftime("%Y-%m-%dT%H:%M")


def _parse_when(raw: str) -> dt.datetime:
    try:
        local = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise HearingError("วันเวลาไม่ถูกต้อง") from None
    return local.replace(tzinfo=BANGKOK).astimezone(dt.UTC)


def _from_form(request: web.Request, form: Any) -> NewHearing:
    content = request.app[keys.CONTENT]
    value = {name: str(form.get(name, "")).strip() for name in FIELDS}
    latitude = longitude = None
    if value["map"]:
        try:
            latitude, longitude = (float(x) for x in value["map"].split(","))
        except ValueError:
            raise HearingError("พิกัดต้องเป็น ละติจูด,ลองจิจูด") from None
    try:
        capacity = int(value["capacity"]) if value["capacity"] else None
    except ValueError:
        raise HearingError("จำนวนที่นั่งต้องเป็นตัวเลข") from None
    return NewHearing(
        title=value["title"],
        starts_at=_parse_when(value["starts"]),
        place=value["place"],
        villages=parse_villages(value["villages"], content),
        consultation_id=value["consultation"] or None,
        agenda=value["agenda"] or None,
        invited=value["invited"] or None,
        online_url=value["online"] or None,
        capacity=capacity,
        rsvp_enabled=form.get("rsvp") == "on",
        latitude=latitude,
        longitude=longitude,
        reminders=check_reminders(value["reminders"] or DEFAULT_REMINDERS),
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
        now=utcnow(),
        consultations=request.app[keys.CONTENT].consultations,
        error=request.query.get("error"),
        defaults={"reminders": DEFAULT_REMINDERS},
        local_input=_local_input,
    )


@requires("broadcast")
async def hearing_create(request: web.Request) -> web.StreamResponse:
    """Adds a hearing from the form."""
    form = await request.post()
    try:
        new = _from_form(request, form)
        async with request.app[keys.SESSIONS]() as db, db.begin():
            hearing = create(db, request.app[keys.CONTENT], new, signed_in(request).username)
            await db.flush()
            hearing_id = hearing.id
            audit.record(db, signed_in(request).username, "broadcast", f"hearing:{hearing_id}", step="create")
    except HearingError as exc:
        raise web.HTTPSeeOther(f"/staff/hearings?error={_quote(str(exc))}") from None
    raise web.HTTPSeeOther(f"/staff/hearings/{hearing_id}")


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:200])


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
        hearing=hearing,
        preview=render_messages([cards.announcement(content, hearing)]),
        audience=audience,
        followers=followers,
        quota=quota,
        counts=counts,
        reports=reports,
        now=utcnow(),
        villages={v.no: v.name for v in content.municipality.villages},
        consultations=content.consultations,
        local_input=_local_input,
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
    by = signed_in(request).username
    here = f"/staff/hearings/{hearing_id}"
    try:
        async with request.app[keys.SESSIONS]() as db, db.begin():
            hearing = await db.get(Hearing, hearing_id)
            if hearing is None:
                raise web.HTTPNotFound()
            if action == "edit":
                _apply_edit(hearing, _from_form(request, form))
                audit.record(db, by, "broadcast", f"hearing:{hearing_id}", step="edit")
            elif action == "announce":
                run_at = _parse_when(str(form["at"])) if form.get("at") else utcnow()
                mode = "broadcast" if form.get("mode") == "broadcast" else "multicast"
                job = await announce(db, hearing, max(run_at, utcnow()), mode, by)
                audit.record(db, by, "broadcast", f"hearing:{hearing_id}", step="announce", job=job.id, mode=mode)
            elif action == "record":
                attendance = str(form.get("attendance", "")).strip()
                hearing.attendance = int(attendance) if attendance else None
                hearing.minutes = str(form.get("minutes", "")).strip()[:4000] or None
                audit.record(db, by, "broadcast", f"hearing:{hearing_id}", step="record")
            elif action == "follow_up":
                job = schedule_follow_up(db, hearing, str(form.get("note", "")), by)
                await db.flush()
                audit.record(db, by, "broadcast", f"hearing:{hearing_id}", step="follow_up", job=job.id)
            else:
                raise web.HTTPBadRequest(text="ไม่รู้จักคำสั่งนี้", content_type="text/plain")
    except (HearingError, BroadcastError, ValueError) as exc:
        raise web.HTTPSeeOther(f"{here}?error={_quote(str(exc))}") from None
    raise web.HTTPSeeOther(f"{here}?saved={action}")


def _apply_edit(hearing: Hearing, new: NewHearing) -> None:
    for name in (
        "title",
        "starts_at",
        "place",
        "villages",
        "consultation_id",
        "agenda",
        "invited",
        "online_url",
        "capacity",
        "rsvp_enabled",
        "latitude",
        "longitude",
        "reminders",
    ):
        setattr(hearing, name, getattr(new, name))


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(f"{prefix}/hearings", hearing_list)
    router.add_post(f"{prefix}/hearings", hearing_create)
    router.add_get(f"{prefix}/hearings/{{hearing_id}}", hearing_page)
    router.add_post(f"{prefix}/hearings/{{hearing_id}}", hearing_update)
