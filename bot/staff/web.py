"""The guard every /staff request passes (session, CSRF, security headers), signing in and out, and the
housekeeping of failed sign-ins. What pages use (rendering, roles) is in bot/staff/shell.py; the paths are in
bot/urls.py.

What docs/security.md#staff-sign-in-and-sessions asks: generic sign-in errors with throttling; server-side
sessions with a fresh id at sign-in, Secure/HttpOnly/SameSite=Lax cookies (prefixed __Host- over HTTPS), idle
and absolute timeouts; a CSRF token on every form plus an Origin / Sec-Fetch-Site check; GET never changes
anything; CSP with frame-ancestors 'none', nosniff and a strict Referrer-Policy on every page, and HSTS behind
HTTPS.

An anonymous flood of sign-ins is refused from the process's memory before any database work or hashing
(bot/staff/throttle.py); a password is verified with no transaction held, so LINE's webhook never waits on it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot import keys
from bot.db.models import utcnow
from bot.delivery.background import Stopping, stop_tasks
from bot.ops import audit
from bot.staff import sessions
from bot.staff.accounts import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    THROTTLE_WINDOW,
    Checked,
    check_password,
    complete_sign_in,
    purge_login_failures,
)
from bot.staff.pacing import Busy, Pacer
from bot.staff.sessions import SessionPolicy
from bot.staff.shell import PREFIX, USER, Handler, now, render, signed_in, templates
from bot.staff.throttle import FailureDigest, SignInGuard, SlidingWindow

log = logging.getLogger(__name__)

_PUBLIC_PATHS = {f"{PREFIX}/login"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# Sent only when the workspace is reached over HTTPS (as the Secure cookie is); no preload: a municipality's
# domain may serve other things over plain HTTP.
HSTS = "max-age=31536000"
# Keys each in-memory window remembers: a flood of new names or addresses pushes out the oldest.
THROTTLE_KEYS = 10_000
# Sign-ins handled per second and process, one at a time (argon2 takes ~50 ms of a core each), and how many
# more may wait their turn before the rest are refused at once.
SIGN_INS_PER_SECOND, WAITING = 10.0, 1000
# Failed sign-ins of one name from one address within this window are one audit row plus one with the count.
AUDIT_COLLAPSE = dt.timedelta(minutes=5)
FLUSH_EVERY = 30.0
PURGE_EVERY = dt.timedelta(hours=1)


def policy_for(app: web.Application) -> SessionPolicy:
    settings = app[keys.SETTINGS]
    return SessionPolicy(
        key=settings.staff_session_secret.reveal().encode(),
        idle=dt.timedelta(seconds=settings.staff_idle_seconds),
        absolute=dt.timedelta(seconds=settings.staff_absolute_seconds),
    )


def _is_https(request: web.Request) -> bool:
    public = request.app[keys.SETTINGS].public_url
    return request.secure or bool(public and public.startswith("https://"))


async def _strict_transport(request: web.Request, response: web.StreamResponse) -> None:
    if _is_https(request):
        response.headers["Strict-Transport-Security"] = HSTS


def cookie_name(request: web.Request) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and for path "/".
    return "__Host-staff" if _is_https(request) else "staff"


def _same_origin(request: web.Request) -> bool:
    """Browsers say where a form came from; a state-changing request from another site is refused. Clients
    that send neither header (scripts, tests) still need the session's CSRF token."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    if origin is not None:
        return urlsplit(origin).netloc == request.host
    return True


@web.middleware
async def staff_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(PREFIX):
        return await handler(request)
    try:
        response = await _guarded(request, handler)
    except web.HTTPException as exc:
        response = exc
    response.headers.update(SECURITY_HEADERS)
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(f"{PREFIX}/static/"):
        return await handler(request)
    if request.method not in ("GET", "HEAD") and not _same_origin(request):
        raise web.HTTPForbidden(text="คำขอนี้ไม่ได้มาจากหน้าของระบบ", content_type="text/plain")
    if request.path in _PUBLIC_PATHS:
        return await handler(request)
    token = request.cookies.get(cookie_name(request))
    user = None
    if token:
        async with request.app[keys.SESSIONS]() as db, db.begin():
            user = await sessions.resume(db, policy_for(request.app), token)
    if user is None:
        target = request.path_qs if request.method == "GET" else PREFIX
        raise web.HTTPSeeOther(f"{PREFIX}/login?next={quote(target)}")
    request[USER] = user
    if request.method not in ("GET", "HEAD"):
        form = await request.post()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, user.csrf_token):
            raise web.HTTPForbidden(text="แบบฟอร์มหมดอายุ กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง", content_type="text/plain")
    return await handler(request)


async def login_page(request: web.Request) -> web.Response:
    """The sign-in form."""
    return render(request, "login.html", next=_safe_next(request.query.get("next")), failed=False, malformed=False)


async def login(request: web.Request) -> web.StreamResponse:
    """Checks the password (throttled), starts a fresh session, and goes where the person was headed."""
    guard = request.app[keys.STAFF_SIGN_IN]
    try:
        async with guard.gate:
            return await _login(request, guard)
    except Busy:
        # One message for every failure: it must not tell a wrong name from a wrong password or a lockout.
        return render(request, "login.html", status=401, next=PREFIX, failed=True, malformed=False)


async def _login(request: web.Request, guard: SignInGuard) -> web.StreamResponse:
    try:
        form = await request.post()
    except ValueError:  # a malformed form body (multipart or urlencoded)
        form = None
    fields = [form.get(name, "") for name in ("username", "password", "next")] if form is not None else []
    if form is None or not all(isinstance(value, str) for value in fields):
        return render(request, "login.html", status=400, next=PREFIX, failed=False, malformed=True)
    username, password, target = str(fields[0]).strip()[:64], str(fields[1]), _safe_next(str(fields[2]))
    address = (request.remote or "unknown")[:64]
    checked: Checked | None = None
    stamps = guard.admit(username, address)
    if stamps is not None:
        checked = await check_password(request.app[keys.SESSIONS], username, password, address)
    token = None
    if checked is not None and checked.user_id is not None:
        async with request.app[keys.SESSIONS]() as db, db.begin():
            user = await complete_sign_in(db, checked)
            if user is not None:
                token = await sessions.start(db, policy_for(request.app), user)
                audit.record(db, user.username, "login", at=now(request))
    if token is None:
        # Refused from memory (or by the database's count): nothing is written. A failure is written as the first
        # of its window, or counted into the row written when the window closes.
        refused = checked is None or checked.throttled
        if guard.digest.note(username or "-", address, throttled=refused):
            async with request.app[keys.SESSIONS]() as db, db.begin():
                audit.record(db, username or "-", "login_failed", at=now(request), attempts=1)
        return render(request, "login.html", status=401, next=target, failed=True, malformed=False)
    assert stamps is not None
    guard.succeeded(username, address, stamps)
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        cookie_name(request),
        token,
        path="/",
        secure=_is_https(request),
        httponly=True,
        samesite="Lax",
        max_age=request.app[keys.SETTINGS].staff_absolute_seconds,
    )
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """Ends the session here and in the database."""
    token = request.cookies.get(cookie_name(request), "")
    async with request.app[keys.SESSIONS]() as db, db.begin():
        await sessions.end(db, policy_for(request.app), token)
        audit.record(db, signed_in(request).username, "logout", at=now(request))
    response = web.HTTPSeeOther(f"{PREFIX}/login")
    response.del_cookie(cookie_name(request), path="/")
    return response


def _safe_next(target: str | None) -> str:
    """Only paths inside the workspace: never an open redirect to another site."""
    if target and target.startswith(f"{PREFIX}") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX


def sign_in_guard() -> SignInGuard:
    window = THROTTLE_WINDOW.total_seconds()
    return SignInGuard(
        by_account=SlidingWindow(MAX_FAILURES_PER_ACCOUNT, window, THROTTLE_KEYS),
        by_address=SlidingWindow(MAX_FAILURES_PER_ADDRESS, window, THROTTLE_KEYS),
        gate=Pacer(SIGN_INS_PER_SECOND, WAITING),
        digest=FailureDigest(AUDIT_COLLAPSE.total_seconds(), THROTTLE_KEYS),
    )


async def flush_failures(app: web.Application, everything: bool = False) -> int:
    """Writes the collapsed rows of the failure windows that have closed; how many."""
    rows = app[keys.STAFF_SIGN_IN].digest.closed(everything)
    if rows:
        async with app[keys.SESSIONS]() as db, db.begin():
            # Housekeeping, not a request: the machine's time, as the windows it closes are counted in.
            at = utcnow()
            for row in rows:
                audit.record(
                    db, row.username, "login_failed", at=at, attempts=row.failed, refused=row.throttled, collapsed=True
                )
    return len(rows)


async def _keep_house(app: web.Application, stopping: Stopping) -> None:
    last_purge: dt.datetime | None = None
    while not stopping.requested:
        try:
            await flush_failures(app)
            now = utcnow()
            if last_purge is None or now - last_purge >= PURGE_EVERY:
                async with app[keys.SESSIONS]() as db, db.begin():
                    purged = await purge_login_failures(db, now)
                last_purge = now
                if purged:
                    log.info("login failures purged", extra={"rows": purged})
        except Exception:
            log.exception("sign-in housekeeping failed; trying again")
        if await stopping.sleep(FLUSH_EVERY):
            return


async def _sign_in_housekeeping(app: web.Application) -> AsyncIterator[None]:
    """Collapsed audit rows for failed sign-ins, and old login failures purged, while the process runs."""
    stopping = Stopping()
    task = asyncio.create_task(_keep_house(app, stopping))
    yield
    await stop_tasks([task], stopping)
    try:
        await flush_failures(app, everything=True)
    except Exception:
        log.exception("failed sign-ins not written to the audit log at shutdown")


def setup(app: web.Application) -> None:
    """The guard and security headers on every /staff response, the templates, and the sign-in throttle with its
    housekeeping; bot/urls.py attaches the pages."""
    app.middlewares.append(staff_guard)
    app.on_response_prepare.append(_strict_transport)
    app[keys.STAFF_TEMPLATES] = templates()
    app[keys.STAFF_SIGN_IN] = sign_in_guard()
    app.cleanup_ctx.append(_sign_in_housekeeping)
