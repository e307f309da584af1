"""Problem reports: an inbox by status and age, one report's page with its history, status changes that
notify the resident, and assignment to a division."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot import keys
from bot.db.models import Report, ReportStatus, Resident
from bot.delivery.geo import map_label, map_url
from bot.delivery.photos import photos_for_staff
from bot.handlers.reports.rules import STATUSES, UnknownReport, assign, change_status
from bot.ops import audit
from bot.references import stored_reference
from bot.staff.exports import report_conditions
from bot.staff.pages.filtering import PAGE_SIZE, filters_from, page_number, query_without_page, text_filter
from bot.staff.shell import now, render, requires, signed_in


def _labels(request: web.Request) -> dict[str, Any]:
    content = request.app[keys.CONTENT]
    return {
        "statuses": {s: content.report_statuses.get(s, s) for s in STATUSES},
        "types": {t.id: t.label for t in content.report_types.values()},
        "divisions": {d.id: d.name for d in content.municipality.divisions},
        "villages": content.municipality.villages,
        "categories": {},
        "consultations": {},
        "map_url": map_url,
        "map_label": map_label,
    }


@requires("view")
async def report_list(request: web.Request) -> web.Response:
    """Reports, the ones waiting longest first unless a status is chosen; counts per status on top."""
    filters, problems = filters_from(request)
    division = text_filter(request.query, "division", problems)
    page = page_number(request)
    conditions = report_conditions(filters)
    if division:
        conditions.append(Report.division == division)
    async with request.app[keys.SESSIONS]() as db:
        counts = dict((await db.execute(select(Report.status, func.count()).group_by(Report.status))).all())
        total = int(await db.scalar(select(func.count()).select_from(Report).where(*conditions)) or 0)
        rows = (
            await db.scalars(
                select(Report)
                .where(*conditions)
                .order_by(Report.created_at)
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        ).all()
    return render(
        request,
        "reports.html",
        reports=rows,
        counts=counts,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        now=now(request),
        query=request.query,
        keep=query_without_page(request),
        problems=problems,
        **_labels(request),
    )


def _addressed(request: web.Request) -> str:
    """The report the address names, in its stored form whichever form it was written in (a link from before
    references had their letter, a number typed into the address bar)."""
    typed = request.match_info["reference"]
    return stored_reference("report", typed) or typed


@requires("view")
async def report_page(request: web.Request) -> web.Response:
    """One report: what the resident wrote, where, photos, the status history and the forms to act."""
    reference = _addressed(request)
    async with request.app[keys.SESSIONS]() as db:
        report = await db.scalar(select(Report).where(Report.reference == reference))
        if report is None:
            raise web.HTTPNotFound(text="ไม่พบเรื่องเลขนี้", content_type="text/plain")
        changes = (
            await db.scalars(select(ReportStatus).where(ReportStatus.report_id == report.id).order_by(ReportStatus.id))
        ).all()
        photos = (await db.scalars(photos_for_staff(report_id=report.id))).all()
        pseudonym = await db.scalar(select(Resident.pseudonym).where(Resident.id == report.resident_id))
    return render(
        request,
        "report.html",
        report=report,
        changes=changes,
        photos=photos,
        pseudonym=pseudonym,
        now=now(request),
        flash=request.query.get("saved"),
        error=request.query.get("error"),
        **_labels(request),
    )


@requires("triage")
async def report_update(request: web.Request) -> web.StreamResponse:
    """A new status (the resident is told in the chat) or a new division."""
    reference = _addressed(request)
    form = await request.post()
    action = str(form.get("action", ""))
    by, at = signed_in(request).username, now(request)
    content = request.app[keys.CONTENT]
    here = f"/staff/reports/{reference}"
    try:
        async with request.app[keys.SESSIONS]() as db, db.begin():
            if action == "status":
                note = str(form.get("note", "")).strip()[:1000] or None
                status = str(form.get("status", ""))
                await change_status(db, content, reference, status, note, by, at=at)
                audit.record(db, by, "report_status", reference, at=at, status=status)
            elif action == "assign":
                division = str(form.get("division", ""))
                await assign(db, content, reference, division, by, at=at)
                audit.record(db, by, "report_assign", reference, at=at, division=division)
            else:
                raise web.HTTPBadRequest(text="ไม่รู้จักคำสั่งนี้", content_type="text/plain")
    except UnknownReport:
        raise web.HTTPNotFound(text="ไม่พบเรื่องเลขนี้", content_type="text/plain") from None
    except ValueError:
        raise web.HTTPSeeOther(f"{here}?error={action}") from None
    raise web.HTTPSeeOther(f"{here}?saved={action}")
