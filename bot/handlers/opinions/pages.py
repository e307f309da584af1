"""Opinions: the filtered, searchable list and one opinion's page, where staff correct the category, set the
outcome (the resident is told), link a plan project, keep a note, and see what changed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot import keys
from bot.db.models import Opinion, Photo, Resident
from bot.db.statuses import OpinionStatus, PhotoStatus
from bot.delivery.geo import map_label, map_url
from bot.delivery.photos import photos_for_staff
from bot.handlers.opinions.rules import (
    OUTCOMES,
    UnknownOpinion,
    WithdrawnOpinion,
    correct_category,
    find_to_view,
    history,
    set_outcome,
    set_plan_project,
    set_staff_note,
    withdrawn_at,
)
from bot.ops import audit
from bot.references import stored_reference
from bot.staff.exports import opinion_conditions
from bot.staff.pages.filtering import PAGE_SIZE, filters_from, page_number, query_without_page
from bot.staff.shell import now, render, requires, signed_in


def _labels(request: web.Request) -> dict[str, Any]:
    content = request.app[keys.CONTENT]
    return {
        "categories": content.categories,
        "consultations": content.consultations,
        "villages": content.municipality.villages,
        "statuses": {k.removeprefix("status_"): v for k, v in content.phrases.items() if k.startswith("status_")},
        "outcomes": list(OUTCOMES),
        "map_url": map_url,
        "map_label": map_label,
    }


@requires("view")
async def opinion_list(request: web.Request) -> web.Response:
    """Opinions with the filter bar, newest first, a page at a time."""
    filters, problems = filters_from(request)
    page = page_number(request)
    # Withdrawn opinions are counted apart and listed only when asked for (status=withdrawn).
    shown = [] if filters.status == OpinionStatus.WITHDRAWN else [Opinion.status != OpinionStatus.WITHDRAWN]
    conditions = [*opinion_conditions(filters), *shown]
    taken_back = [*opinion_conditions(replace(filters, status=None)), Opinion.status == OpinionStatus.WITHDRAWN]
    async with request.app[keys.SESSIONS]() as db:
        total = int(await db.scalar(select(func.count()).select_from(Opinion).where(*conditions)) or 0)
        withdrawn = int(await db.scalar(select(func.count()).select_from(Opinion).where(*taken_back)) or 0)
        rows = (
            await db.scalars(
                select(Opinion)
                .where(*conditions)
                .order_by(Opinion.id.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        ).all()
    return render(
        request,
        "opinions.html",
        opinions=rows,
        total=total,
        withdrawn=withdrawn,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        query=request.query,
        keep=query_without_page(request),
        problems=problems,
        **_labels(request),
    )


def _addressed(request: web.Request) -> str:
    """The opinion the address names, in its stored form whichever form it was written in (a link from before
    references had their letter, a number typed into the address bar)."""
    typed = request.match_info["reference"]
    return stored_reference("opinion", typed) or typed


@requires("view")
async def opinion_page(request: web.Request) -> web.Response:
    """One opinion with its photos, its history and the forms to act on it. A withdrawn one stays visible
    (issue 16 item 12): "ถอนแล้ว" with the day it was withdrawn, its erased text said to be erased, no forms."""
    reference = _addressed(request)
    async with request.app[keys.SESSIONS]() as db:
        try:
            opinion = await find_to_view(db, reference)
        except UnknownOpinion:
            raise web.HTTPNotFound(text="ไม่พบความคิดเห็นเลขนี้", content_type="text/plain") from None
        changes = await history(db, opinion.id)
        photos = (await db.scalars(photos_for_staff(opinion_id=opinion.id))).all()
        pseudonym = await db.scalar(select(Resident.pseudonym).where(Resident.id == opinion.resident_id))
    withdrawn = opinion.status == OpinionStatus.WITHDRAWN
    return render(
        request,
        "opinion.html",
        opinion=opinion,
        changes=changes,
        photos=photos,
        pseudonym=pseudonym,
        withdrawn=withdrawn,
        withdrawn_at=withdrawn_at(changes) if withdrawn else None,
        erased=request.app[keys.CONTENT].phrases["case_text_withdrawn"],
        flash=request.query.get("saved"),
        error=request.query.get("error"),
        **_labels(request),
    )


@requires("triage")
async def opinion_update(request: web.Request) -> web.StreamResponse:
    """Applies one form of the opinion page; the resident is told of a new outcome through the outbox."""
    reference = _addressed(request)
    form = await request.post()
    action = str(form.get("action", ""))
    by, at = signed_in(request).username, now(request)
    content = request.app[keys.CONTENT]
    here = f"/staff/opinions/{reference}"
    try:
        async with request.app[keys.SESSIONS]() as db, db.begin():
            if action == "category":
                await correct_category(db, content, reference, str(form.get("category", "")), by, at=at)
            elif action == "outcome":
                detail = str(form.get("detail", "")).strip() or None
                await set_outcome(db, content, reference, str(form.get("outcome", "")), detail, by, at=at)
            elif action == "project":
                await set_plan_project(db, reference, str(form.get("project", "")), by, at=at)
            elif action == "note":
                await set_staff_note(db, reference, str(form.get("note", "")), by, at=at)
            else:
                raise web.HTTPBadRequest(text="ไม่รู้จักคำสั่งนี้", content_type="text/plain")
            audit.record(db, by, "opinion_change", reference, at=at, change=action)
    except WithdrawnOpinion:
        # A form left open while the resident withdrew it: nothing of a withdrawn opinion is changed.
        raise web.HTTPConflict(text="ผู้ส่งถอนความคิดเห็นนี้แล้ว จึงแก้ไขไม่ได้", content_type="text/plain") from None
    except UnknownOpinion:
        raise web.HTTPNotFound(text="ไม่พบความคิดเห็นเลขนี้", content_type="text/plain") from None
    except ValueError:
        raise web.HTTPSeeOther(f"{here}?error={action}") from None
    raise web.HTTPSeeOther(f"{here}?saved={action}")


@requires("view")
async def photo(request: web.Request) -> web.StreamResponse:
    """A stored photo, for signed-in staff only."""
    try:
        photo_id = int(request.match_info["photo_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[keys.SESSIONS]() as db:
        row = await db.get(Photo, photo_id)
    if row is None or row.status != PhotoStatus.STORED or not row.path:
        raise web.HTTPNotFound()
    media = (request.app[keys.SETTINGS].data_dir / "media").resolve()
    path = (media / row.path).resolve()
    if not path.is_relative_to(media) or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "image/jpeg", "Cache-Control": "no-store"})
