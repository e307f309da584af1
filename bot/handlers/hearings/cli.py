"""`python -m bot hearing create|list|announce`: hearings from the command line, on the configured database.
An announcement is a job the running server's worker sends; `--wait` follows it to its report."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import Any

from sqlalchemy import select

from bot.config import Settings
from bot.db.statuses import SendingState

WAIT_LIMIT_SECONDS = 3600


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hearing = commands.add_parser("hearing", help="public hearings: create, list, announce")
    sub = hearing.add_subparsers(dest="hearing_command", required=True)
    create = sub.add_parser("create", help="add a hearing; prints its id")
    create.add_argument("--title", required=True)
    create.add_argument("--starts", required=True, help='"YYYY-MM-DD HH:MM", Thai time')
    create.add_argument("--place", required=True)
    create.add_argument("--villages", help="village numbers, e.g. 1,3 (default: every village)")
    create.add_argument("--consultation", help="the consultation it belongs to")
    create.add_argument("--agenda")
    create.add_argument("--invited", help="who is invited")
    create.add_argument("--online", help="an https:// link for joining online")
    create.add_argument("--capacity", type=int)
    create.add_argument("--no-rsvp", action="store_true", help="no ไป / ไม่สะดวก buttons")
    create.add_argument("--map", help="latitude,longitude of the place")
    create.add_argument("--reminders", default="1@18:00,0@07:00", help="days_before@HH:MM, comma-separated")
    create.add_argument("--json", action="store_true")
    listing = sub.add_parser("list", help="hearings, soonest first, with RSVP counts")
    listing.add_argument("--json", action="store_true")
    announce = sub.add_parser("announce", help="schedule the announcement (and its reminders)")
    announce.add_argument("id", type=int)
    announce.add_argument("--at", help='"YYYY-MM-DD HH:MM", Thai time (default: now)')
    announce.add_argument("--broadcast", action="store_true", help="LINE broadcast to every friend")
    announce.add_argument(
        "--again", action="store_true", help="announce a hearing that was announced before (it is refused otherwise)"
    )
    announce.add_argument("--by", default="cli")
    announce.add_argument("--wait", action="store_true", help="wait for the worker to finish and print the report")
    announce.add_argument("--json", action="store_true")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.handlers.hearings.fanout import AlreadyAnnounced, BroadcastError
    from bot.handlers.hearings.rules import HearingError
    from bot.handlers.services.timeline import BANGKOK

    try:
        return asyncio.run(_run(settings, args))
    except (HearingError, BroadcastError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except AlreadyAnnounced as exc:
        when = exc.when.astimezone(BANGKOK).strftime("%Y-%m-%d %H:%M")
        print(
            f"hearing {args.id} was already announced: job {exc.job_id}, {exc.status} ({when} Thai time), "
            f"{exc.sent} of {exc.recipients} recipients reached; add --again to send it again",
            file=sys.stderr,
        )
        return 3


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.content import load_content
    from bot.db.engine import create_engine, create_sessionmaker, migrate

    content = load_content(settings.content_dir)
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        sessions = create_sessionmaker(engine)
        if args.hearing_command == "create":
            return await _create(sessions, content, args)
        if args.hearing_command == "list":
            return await _list(sessions, content, args)
        return await _announce(sessions, args)
    finally:
        await engine.dispose()


async def _create(sessions: Any, content: Any, args: argparse.Namespace) -> int:
    from bot.db.models import utcnow
    from bot.handlers.hearings.rules import HearingError, NewHearing, create, parse_local, parse_villages

    latitude = longitude = None
    if args.map:
        try:
            latitude, longitude = (float(x) for x in args.map.split(","))
        except ValueError:
            raise HearingError("map", "--map is latitude,longitude") from None
    new = NewHearing(
        title=args.title,
        starts_at=parse_local(args.starts),
        place=args.place,
        villages=parse_villages(args.villages, content),
        consultation_id=args.consultation,
        agenda=args.agenda,
        invited=args.invited,
        online_url=args.online,
        capacity=args.capacity,
        rsvp_enabled=not args.no_rsvp,
        latitude=latitude,
        longitude=longitude,
        reminders=args.reminders,
    )
    async with sessions() as session, session.begin():
        hearing = create(session, content, new, "cli", at=utcnow())  # a command's clock is the machine's
        await session.flush()
        hearing_id = hearing.id
    print(json.dumps({"id": hearing_id}) if args.json else hearing_id)
    return 0


async def _list(sessions: Any, content: Any, args: argparse.Namespace) -> int:
    from bot.db.models import Hearing
    from bot.handlers.hearings.rules import rsvp_counts
    from bot.handlers.services.timeline import BANGKOK
    from bot.staff.labels import StaffWords

    rows = []
    async with sessions() as session:
        for hearing in await session.scalars(select(Hearing).order_by(Hearing.starts_at)):
            counts = await rsvp_counts(session, hearing.id)
            rows.append(
                {
                    "id": hearing.id,
                    "title": hearing.title,
                    "starts": hearing.starts_at.astimezone(BANGKOK).strftime("%Y-%m-%d %H:%M"),
                    "place": hearing.place,
                    "villages": list(hearing.village_numbers),
                    "rsvp": counts.by_answer,
                }
            )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    # For people: the answers and the villages in content/staff.yaml's words ("ไป 2 · ไม่สะดวก 0 ...").
    words = StaffWords(content)
    for row in rows:
        answers = " · ".join(f"{words.rsvp_answer(code)} {count:,}" for code, count in row["rsvp"].items())
        villages = words.hearing_villages(row["villages"])
        print(f"{row['id']}\t{row['starts']}\t{row['title']}\t{row['place']}\t{villages}\t{answers}")
    return 0


async def _announce(sessions: Any, args: argparse.Namespace) -> int:
    from bot.db.models import utcnow
    from bot.handlers.hearings.fanout import announce, last_announcement, lock_hearing, report
    from bot.handlers.hearings.rules import HearingError, parse_local
    from bot.ops import audit

    now = utcnow()  # a command's clock is the machine's
    run_at = parse_local(args.at) if args.at else now
    mode = "broadcast" if args.broadcast else "multicast"
    async with sessions() as session, session.begin():
        hearing = await lock_hearing(session, args.id)
        if hearing is None:
            raise HearingError("hearing", f"no hearing {args.id}")
        last = await last_announcement(session, hearing.id)
        again = last.id if last is not None and args.again else None
        job = await announce(session, hearing, run_at, mode, args.by, again=again, now=now)
        job_id = job.id
        detail: dict[str, Any] = {"job": job_id, "mode": mode}
        if again is not None:
            detail["again"] = again
        audit.record(session, args.by, "broadcast", f"hearing:{hearing.id}", at=now, step="announce", **detail)
    deadline = asyncio.get_running_loop().time() + WAIT_LIMIT_SECONDS
    while True:
        async with sessions() as session:
            result = await report(session, job_id)
        assert result is not None
        if not args.wait or result.status == SendingState.DONE or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.5)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        when = result.run_at.astimezone(dt.UTC).isoformat()
        print(
            f"job {result.id}: {result.status}, {result.sent}/{result.recipients} sent, {result.failed} failed ({when})"
        )
    return 0
