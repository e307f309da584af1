"""Admins manage staff accounts (add, change role, disable, reset password) and read the audit log."""

from __future__ import annotations

import json

from aiohttp import web
from sqlalchemy import func, select

from bot import keys
from bot.db.models import AuditEntry, Hearing, StaffUser
from bot.ops import audit
from bot.staff import sessions
from bot.staff.accounts import ROLES, AccountError, add_user, check_new_account, hash_password
from bot.staff.labels import hearing_target
from bot.staff.pages.filtering import page_number
from bot.staff.shell import now, render, requires, signed_in

AUDIT_PAGE = 100


@requires("admin")
async def account_list(request: web.Request) -> web.Response:
    """Every account with forms to change it."""
    async with request.app[keys.SESSIONS]() as db:
        users = (await db.scalars(select(StaffUser).order_by(StaffUser.username))).all()
    return render(
        request,
        "accounts.html",
        users=users,
        roles=list(ROLES),
        flash=request.query.get("saved"),
        error=request.query.get("error"),
    )


@requires("admin")
async def account_update(request: web.Request) -> web.StreamResponse:
    """add / role / disable / enable / password: one action per form."""
    form = await request.post()
    action = str(form.get("action", ""))
    username = str(form.get("username", "")).strip()
    by, at = signed_in(request).username, now(request)
    try:
        async with request.app[keys.SESSIONS]() as db, db.begin():
            if action == "add":
                await add_user(db, username, str(form.get("role", "")), str(form.get("password", "")))
                audit.record(db, by, "account_add", username, at=at, role=str(form.get("role", "")))
            else:
                user = await db.scalar(select(StaffUser).where(StaffUser.username == username))
                if user is None:
                    raise AccountError("no such user")
                if user.username == by and action in ("role", "disable"):
                    raise AccountError("admins cannot demote or disable themselves")
                if action == "role":
                    role = str(form.get("role", ""))
                    if role not in ROLES:
                        raise AccountError("unknown role")
                    user.role = role
                elif action in ("disable", "enable"):
                    user.active = action == "enable"
                elif action == "password":
                    password = str(form.get("password", ""))
                    check_new_account(user.username, user.role, password)
                    user.password_hash = await hash_password(password)
                else:
                    raise AccountError("unknown action")
                # Whatever changed, the person signs in again under the new terms.
                await sessions.end_all(db, user.id)
                audit.record(db, by, "account_change", username, at=at, change=action)
    except AccountError:
        raise web.HTTPSeeOther(f"/staff/accounts?error={action}") from None
    raise web.HTTPSeeOther(f"/staff/accounts?saved={action}")


@requires("admin")
async def audit_log(request: web.Request) -> web.Response:
    """The audit log, newest first, a page at a time."""
    page = page_number(request)
    async with request.app[keys.SESSIONS]() as db:
        total = int(await db.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        entries = (
            await db.scalars(
                select(AuditEntry).order_by(AuditEntry.id.desc()).offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE)
            )
        ).all()
        # The hearings the page names, by title (an entry keeps only the id; a title may have been edited since).
        hearing_ids = {i for e in entries if (i := hearing_target(e.target)) is not None}
        titles = await db.execute(select(Hearing.id, Hearing.title).where(Hearing.id.in_(hearing_ids)))
        hearings = {hearing_id: title for hearing_id, title in titles}
    rows = [(e, json.loads(e.detail or "{}")) for e in entries]
    return render(request, "audit.html", rows=rows, hearings=hearings, page=page, pages=max(1, -(-total // AUDIT_PAGE)))
