"""Questions the bot could not answer (or answered and got 👎), grouped by similarity, each group with its
count and the closest service. Staff attach a group to a service or to one of a service's FAQ entries (its
phrasings teach the matcher at once, no code or content change) or mark it out of scope."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from bot import keys
from bot.content import Content
from bot.db.models import ServiceQuery
from bot.handlers.services import phrasings
from bot.nlp.understand import Reading
from bot.ops import audit
from bot.staff.insight import group_similar
from bot.staff.shell import now, render, requires, signed_in

MAX_QUESTIONS = 2000
SHOWN_GROUPS = 50
# What was asked for a service but not answered: small talk and menu words are not the matcher's to learn.
UNANSWERED_INTENTS = ("service", "clarify", "out_of_scope")
# The values of a group's "attach to" choice.
SERVICE_TARGET = "service:"
FAQ_TARGET = "faq:"


@dataclass(frozen=True)
class QuestionGroup:
    ids: tuple[int, ...]
    texts: tuple[str, ...]  # distinct texts, most recent first
    closest_service: str | None
    closest_score: float | None  # None: not a similarity (the follow-up's service)
    thumbs_down: int
    # The FAQ entry the reader answered the group with, if any, and the services whose FAQ entries are
    # offered to attach to (the reader's candidates: a list of every entry would not fit a phone).
    closest_faq: str | None = None
    faq_services: tuple[str, ...] = ()
    # For each text read as a follow-up, the service it followed (a follow-up such as "กี่วัน" means little
    # without that service's card).
    followed: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.ids)


def _untriaged() -> list[ColumnElement[bool]]:
    return [
        ServiceQuery.triage.is_(None),
        ServiceQuery.text != "",
        or_(ServiceQuery.answered.is_(False), ServiceQuery.feedback == "down"),
        ServiceQuery.intent.in_(UNANSWERED_INTENTS),
    ]


@requires("view")
async def page(request: web.Request) -> web.Response:
    """The groups, largest first."""
    async with request.app[keys.SESSIONS]() as db:
        rows = (
            await db.execute(
                select(
                    ServiceQuery.id,
                    ServiceQuery.text,
                    ServiceQuery.feedback,
                    ServiceQuery.follow_up,
                    ServiceQuery.service_id,
                    ServiceQuery.score,
                    ServiceQuery.answered,
                    ServiceQuery.context_service_id,
                )
                .where(*_untriaged())
                .order_by(ServiceQuery.id.desc())
                .limit(MAX_QUESTIONS)
            )
        ).all()
    qa = request.app[keys.QA]
    similar = await asyncio.to_thread(group_similar, [r.text for r in rows])
    groups = []
    for group in similar[:SHOWN_GROUPS]:
        members = [rows[i] for i in group.members]
        followed = _followed(members)
        # A follow-up is read again with the service it followed, as the chat read it; any other question
        # on its own: the service the chat was about before is no reading of it.
        context = next(iter(followed.get(members[0].text, ())), None)
        reading = await qa.read_for_chat(members[0].text, context_service=context)
        closest = _closest(reading, members[0])
        groups.append(
            QuestionGroup(
                ids=tuple(m.id for m in members),
                texts=tuple(dict.fromkeys(m.text for m in members)),
                closest_service=closest[0] if closest else None,
                closest_score=closest[1] if closest else None,
                thumbs_down=sum(m.feedback == "down" for m in members),
                closest_faq=reading.faq_id,
                faq_services=tuple(
                    dict.fromkeys([*([context] if context else []), *(c.label for c in reading.candidates)])
                ),
                followed=followed,
            )
        )
    content = request.app[keys.CONTENT]
    return render(
        request,
        "questions.html",
        groups=groups,
        total=len(rows),
        services=content.services,
        faq_by_service=_faq_by_service(content),
        faq=phrasings.faq_entries(content),
        flash=request.query.get("saved"),
    )


def _followed(members: list[Any]) -> dict[str, tuple[str, ...]]:
    """Each text's services it was read as a follow-up of (the logged follow_up flag): the service it was
    answered about, which for a follow-up is the chat's context. A question merely asked after a service's
    answer (context_service_id without follow_up) was read on its own and followed nothing."""
    found: dict[str, dict[str, None]] = {}
    for m in members:
        context = (m.service_id or m.context_service_id) if m.follow_up else None
        if context:
            found.setdefault(m.text, {})[context] = None
    return {text: tuple(services) for text, services in found.items()}


def _closest(reading: Reading, logged: Any) -> tuple[str, float | None] | None:
    """The service to suggest and its score: the service a follow-up was read about (no similarity score:
    the chat's context decided it), else the reader's best candidate, else the service the bot answered with
    the score it was answered at; else none, and the page says so rather than preselect the first service of
    the list ("555555" is close to nothing)."""
    if reading.follow_up and reading.service_id:
        return reading.service_id, None
    if reading.candidates:
        return reading.candidates[0].label, reading.candidates[0].score
    if logged.answered and logged.service_id:
        return logged.service_id, None if logged.follow_up else logged.score
    return None


def _faq_by_service(content: Content) -> dict[str, list[tuple[str, str]]]:
    """Each service's FAQ entries as (id, question), in content order."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for faq_id, entry in phrasings.faq_entries(content).items():
        grouped.setdefault(entry.service_id, []).append((faq_id, entry.question))
    return grouped


def _target(target: str, content: Content) -> tuple[str, str | None]:
    """The service, and the FAQ entry if one was chosen, that a group is attached to; target is
    "service:<id>" or "faq:<id>"."""
    if target.startswith(FAQ_TARGET):
        entry = phrasings.faq_entries(content).get(target.removeprefix(FAQ_TARGET))
        if entry is None:
            raise web.HTTPBadRequest(text="ไม่มีคำถามที่พบบ่อยข้อนี้", content_type="text/plain")
        return entry.service_id, target.removeprefix(FAQ_TARGET)
    service_id = target.removeprefix(SERVICE_TARGET)
    if not target.startswith(SERVICE_TARGET) or service_id not in content.services:
        raise web.HTTPBadRequest(text="ไม่มีบริการนี้", content_type="text/plain")
    return service_id, None


@requires("triage")
async def triage(request: web.Request) -> web.StreamResponse:
    """Attach a group's phrasings to a service, or mark the group out of scope."""
    form = await request.post()
    try:
        ids = [int(i) for i in str(form.get("ids", "")).split(",") if i][:MAX_QUESTIONS]
    except ValueError:
        raise web.HTTPBadRequest(text="รายการคำถามไม่ถูกต้อง", content_type="text/plain") from None
    action = str(form.get("action", ""))
    by, at = signed_in(request).username, now(request)
    if not ids or action not in ("attach", "out_of_scope"):
        raise web.HTTPBadRequest(text="ไม่รู้จักคำสั่งนี้", content_type="text/plain")
    # A page rendered before FAQ entries could be chosen sends `service` instead of `target`.
    target = str(form.get("target") or SERVICE_TARGET + str(form.get("service", "")))
    service_id, faq_id = _target(target, request.app[keys.CONTENT]) if action == "attach" else ("", None)
    async with request.app[keys.SESSIONS]() as db, db.begin():
        texts = (await db.scalars(select(ServiceQuery.text).where(ServiceQuery.id.in_(ids), *_untriaged()))).all()
        if action == "attach":
            phrasings.add(db, service_id, list(dict.fromkeys(texts)), by, faq_id, at=at)
        await db.execute(
            update(ServiceQuery)
            .where(ServiceQuery.id.in_(ids), ServiceQuery.triage.is_(None))
            .values(triage="example" if action == "attach" else "out_of_scope")
        )
        detail = {"action": action, "questions": len(ids)} | ({"faq": faq_id} if faq_id else {})
        audit.record(db, by, "question_triage", service_id or None, at=at, **detail)
    if action == "attach":
        # This process learns at once; the others within a few seconds (bot.handlers.services.phrasings polls).
        await request.app[keys.PHRASINGS].refresh()
    raise web.HTTPSeeOther(f"/staff/questions?saved={action}")
