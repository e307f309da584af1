"""The command line: `python -m bot serve`, `python -m bot content check`, ..."""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings, SettingsError, database_url_from_env, describe_database, sqlite_file
from bot.db.statuses import OpinionStatus, ReportState
from bot.ops.invocation import bot_command, interpreter

WORKER_NICENESS = 10

# The commands that open the database. Only the server and the worker make a new SQLite file (that is a
# fresh install's first start) and restore fills one from a backup; any other command run from the wrong
# directory would make an empty database beside the real one and work on it without a word.
DATABASE_COMMANDS = frozenset(
    {"serve", "worker", "staff", "export", "hearing", "report", "opinion", "backup", "restore"}
)
MAY_CREATE_DATABASE = frozenset({"serve", "worker", "restore"})
# What becomes of an opinion is set by staff; these two the resident sets (sending it, taking it back).
_NOT_OUTCOMES = (OpinionStatus.RECEIVED, OpinionStatus.WITHDRAWN)


def freeze_startup_objects() -> None:
    """Exempt what start-up built (content, the NLP dictionaries and indexes) from garbage collection.

    Those objects live as long as the process, yet every full collection walked them with the event loop
    stopped, every few seconds under load (figures: docs/decisions/gc-freeze.md).
    """
    gc.collect()
    gc.freeze()


def raise_open_files_limit(wanted: int = 65_536) -> int:
    """Lift the soft limit on open files towards the hard one; return the limit now in force.

    Each connection is a file descriptor. Under the usual soft limit of 1,024, a thousand clients that
    connect and stall (until their body times out) leave the server unable to accept LINE's next delivery.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{interpreter()} -m bot", description="LINE chatbot for Thai local governments"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the webhook server (local mode without LINE credentials)")
    serve.add_argument("--host", help="address to listen on (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT or 8080)")
    serve.add_argument(
        "--reuse-port",
        action="store_true",
        help="let several serve processes listen on one port (the kernel spreads connections between them)",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help=f"only acknowledge webhooks; `{bot_command('worker')}` handles them (needs LINE settings)",
    )

    commands.add_parser("worker", help="handle stored events and send replies, without serving HTTP")

    ask = commands.add_parser("ask", help="answer a question as the bot would, offline")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer")
    ask.add_argument("text", nargs="?", help="the question (default: one question per line of stdin)")

    categorize = commands.add_parser("categorize", help="suggest the plan category of an opinion, offline")
    categorize.add_argument("--json", action="store_true", help="one JSON object per opinion")
    categorize.add_argument("text", nargs="?", help="the opinion (default: one opinion per line of stdin)")

    report = commands.add_parser("report", help="work with problem reports")
    report_commands = report.add_subparsers(dest="report_command", required=True)
    status = report_commands.add_parser("status", help="set a report's status; the resident is told in the chat")
    status.add_argument("reference", help="the report's reference number, e.g. 2569-00012")
    status.add_argument("status", choices=[s.value for s in ReportState])
    status.add_argument("--note", help="a short note the resident reads with the new status")
    status.add_argument("--by", default="cli", help="who made the change (kept in the history)")

    opinion = commands.add_parser("opinion", help="work with opinions")
    opinion_commands = opinion.add_subparsers(dest="opinion_command", required=True)
    outcome = opinion_commands.add_parser("outcome", help="set what became of an opinion; the resident is told")
    outcome.add_argument("reference", help="the opinion's reference number, e.g. 2569-00042")
    outcome.add_argument("outcome", choices=[s.value for s in OpinionStatus if s not in _NOT_OUTCOMES])
    outcome.add_argument("--detail", help="the project (in_plan), the agency (forwarded) or the reason (rejected)")
    outcome.add_argument("--by", default="cli", help="who made the decision (kept with the opinion)")

    content = commands.add_parser("content", help="work with content/")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    check = content_commands.add_parser("check", help="validate content/ and print file:line errors")
    check.add_argument("--dir", type=Path, help="content directory (default: CONTENT_DIR or ./content)")

    backup = commands.add_parser("backup", help="a consistent copy of the database, while the bot runs")
    backup.add_argument("--out", type=Path, required=True)
    restore = commands.add_parser("restore", help="replace the database's contents with a backup's")
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true", help="overwrite the data already there (stop the bot first)")

    from bot.handlers.hearings import cli as hearing_cli
    from bot.ops import richmenu
    from bot.staff import cli as staff_cli

    staff_cli.add_parsers(commands)
    hearing_cli.add_parsers(commands)
    richmenu.add_parsers(commands)

    args = parser.parse_args(argv)
    if args.command in DATABASE_COMMANDS:
        try:
            refused = _check_database(database_url_from_env(), args)
        except SettingsError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
        if refused:
            return refused
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    from bot.content.source import ContentError

    try:
        return _run_command(settings, args)
    except ContentError as exc:
        # Run from another directory, CONTENT_DIR's default (content/) is not the municipality's content.
        print(f"content/ has errors (CONTENT_DIR: {settings.content_dir.absolute()}):\n{exc}", file=sys.stderr)
        return 1


def _run_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.handlers.hearings import cli as hearing_cli
    from bot.ops import richmenu
    from bot.staff import cli as staff_cli

    if args.command == "serve":
        return _serve(settings, args.host, args.port, with_inbox=not args.no_worker, reuse_port=args.reuse_port)
    if args.command == "worker":
        return _worker(settings)
    if args.command == "ask":
        return _ask(settings, args.text, args.json)
    if args.command == "categorize":
        return _categorize(settings, args.text, args.json)
    if args.command == "opinion":
        return _opinion_outcome(settings, args.reference, args.outcome, args.detail, args.by)
    if args.command == "report":
        return _report_status(settings, args.reference, args.status, args.note, args.by)
    if args.command == "content":
        return _content_check(args.dir or settings.content_dir)
    if args.command in ("staff", "export"):
        return staff_cli.run(settings, args)
    if args.command == "hearing":
        return hearing_cli.run(settings, args)
    if args.command == "richmenu":
        return richmenu.run(settings, args)
    if args.command in ("backup", "restore"):
        return _backup_or_restore(settings, args)
    return 2


def _check_database(database_url: str, args: argparse.Namespace) -> int:
    """Say which database the command works on; refuse (2) to make a new SQLite file where none should be.

    Runs before the settings are read, so a refused command leaves nothing behind (not even DATA_DIR)."""
    print(f"database: {describe_database(database_url)}", file=sys.stderr)
    file = sqlite_file(database_url)
    if file is None or file.exists():
        return 0
    if args.command in MAY_CREATE_DATABASE:
        return 0
    if getattr(args, "create", False):
        print(f"creating a new, empty database at {file}", file=sys.stderr)
        return 0
    print(_missing_database_help(file, args), file=sys.stderr)
    return 2


def _missing_database_help(file: Path, args: argparse.Namespace) -> str:
    """Where the command looked, why there, and how to point it at the server's database."""
    if os.environ.get("DATABASE_URL"):
        why = "DATABASE_URL names it"
    else:
        data_dir = os.environ.get("DATA_DIR", "var")
        why = f"DATA_DIR is {data_dir!r}" + ("" if Path(data_dir).is_absolute() else f", relative to {Path.cwd()}")
    sub = getattr(args, f"{args.command}_command", None)  # staff add, hearing list, report status ...
    command = f"{args.command} {sub}" if sub else args.command
    lines = [
        f"no database at {file} ({why}); `{command}` does not create one.",
        "The server keeps its database under DATA_DIR (default: var/ in the directory it was started from).",
        "Run this command from that directory, or point it there: DATA_DIR=/path/to/var, or",
        "DATABASE_URL=sqlite:////path/to/bot.sqlite3 (postgresql://user:password@host/dbname in production).",
    ]
    lines += [f"A database exists at {found}: DATA_DIR={found.parent} {bot_command('...')}" for found in _nearby(file)]
    if args.command == "staff":
        lines.append("To start a new, empty database at that place instead, add --create.")
    else:
        lines.append(f"A new install makes its database when the server first starts: {bot_command('serve')}")
    return "\n".join(lines)


def _nearby(missing: Path) -> list[Path]:
    """Databases where the server usually keeps one: var/ here, and var/ of the checkout `pip install -e .`
    installed (where the README's `python -m bot serve` runs)."""
    checkout = Path(__file__).resolve().parent.parent
    found: list[Path] = []
    for place in (Path.cwd() / "var" / "bot.sqlite3", checkout / "var" / "bot.sqlite3"):
        place = place.absolute()
        if place != missing and place.exists() and place not in found:
            found.append(place)
    return found


def _serve(settings: Settings, host: str | None, port: int | None, with_inbox: bool, reuse_port: bool = False) -> int:
    import dataclasses

    from aiohttp import web

    from bot.app import create_app
    from bot.content import ContentError
    from bot.ops.logs import configure_logging

    settings = dataclasses.replace(settings, host=host or settings.host, port=port or settings.port)
    configure_logging(settings.log_level)
    raise_open_files_limit()
    if settings.local_mode and not with_inbox:
        print(
            "--no-worker needs LINE settings: in local mode the simulator's fake LINE lives in this process",
            file=sys.stderr,
        )
        return 2
    app = create_app(settings, with_inbox=with_inbox)
    shown = "127.0.0.1" if settings.host in {"0.0.0.0", "::"} else settings.host  # noqa: S104

    async def announce(_app: web.Application) -> None:
        if settings.local_mode:
            print(
                f"Local mode (no LINE credentials). Chat with the bot: http://{shown}:{settings.port}/simulator",
                flush=True,
            )
        else:
            print(f"Serving LINE webhook at http://{shown}:{settings.port}/callback", flush=True)
        # Printed after the first line, which the simulator's browser test reads.
        print(
            f"Staff workspace: http://{shown}:{settings.port}/staff "
            f"(first account: {bot_command('staff add NAME --role admin')})",
            flush=True,
        )

    app.on_startup.append(announce)

    async def freeze(_app: web.Application) -> None:
        freeze_startup_objects()

    app.on_startup.append(freeze)
    try:
        # Webhook requests finish in milliseconds; only simulator long-polls would hold shutdown longer.
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            print=None,
            access_log=None,
            shutdown_timeout=3.0,
            reuse_port=reuse_port or None,
        )
    except ContentError as exc:
        print("content/ has errors:\n" + str(exc), file=sys.stderr)
        return 1
    return 0


def _worker(settings: Settings) -> int:
    """The inbox alone: the same start-up as the server (migrations, content, LINE client) without HTTP."""
    import asyncio
    import signal

    from aiohttp import web

    from bot.app import create_app
    from bot.content import ContentError
    from bot.ops.logs import configure_logging

    configure_logging(settings.log_level)
    # Lower CPU priority than the web process on the same machine: LINE gives up on an acknowledgement after
    # 2 seconds, while a reply token lasts a minute, so under load replies should wait, not acknowledgements.
    os.nice(WORKER_NICENESS)
    if settings.local_mode:
        print("the worker needs LINE settings (LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN)", file=sys.stderr)
        return 2

    async def run() -> None:
        runner = web.AppRunner(create_app(settings))
        await runner.setup()  # runs every cleanup context: database, content, LINE, inbox
        freeze_startup_objects()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print("worker running", flush=True)
        await stop.wait()
        await runner.cleanup()

    try:
        asyncio.run(run())
    except ContentError as exc:
        print("content/ has errors:\n" + str(exc), file=sys.stderr)
        return 1
    return 0


def _ask(settings: Settings, text: str | None, as_json: bool) -> int:
    """Answers from the command line: TEXT, or one question per stdin line (JSON lines with --json), each as
    the chat answers a resident writing for the first time (bot/handlers/services/ask.py).

    Every stdin line gets its line of output, an empty one too, so output and input line up for scoring."""
    import asyncio
    import json

    from bot.content import ContentError, load_content
    from bot.handlers.services.ask import OfflineChat
    from bot.handlers.services.qa import QuestionAnswering

    try:
        qa = QuestionAnswering.from_content(load_content(settings.content_dir))
    except ContentError as exc:
        print("content/ has errors:\n" + str(exc), file=sys.stderr)
        return 1
    if text is None and isinstance(sys.stdin, io.TextIOWrapper):
        # A batch pasted from a web page may hold a broken byte; it should not end the batch.
        sys.stdin.reconfigure(errors="replace")
    questions = [text] if text is not None else (line.rstrip("\r\n") for line in sys.stdin)

    async def answer_all() -> None:
        chat = await OfflineChat.open(qa)
        try:
            for question in questions:
                record = await chat.record(question)
                if as_json or text is None:
                    print(json.dumps(record, ensure_ascii=False), flush=True)
                else:
                    print(record["reply"])
        finally:
            await chat.close()

    asyncio.run(answer_all())
    return 0


def _categorize(settings: Settings, text: str | None, as_json: bool) -> int:
    """Plan categories from the command line: TEXT, or one opinion per stdin line (JSON lines)."""
    import json

    from bot.content import ContentError, load_content
    from bot.nlp.categorize import Categorizer

    try:
        content = load_content(settings.content_dir)
    except ContentError as exc:
        print("content/ has errors:\n" + str(exc), file=sys.stderr)
        return 1
    model = Categorizer(content)
    opinions = [text] if text is not None else (line.rstrip("\n") for line in sys.stdin)
    for opinion in opinions:
        if not opinion.strip():
            continue
        ranked = model.suggest(opinion)
        if as_json or text is None:
            print(
                json.dumps(
                    {"text": opinion, "category": ranked[0].category, "scores": {s.category: s.score for s in ranked}},
                    ensure_ascii=False,
                ),
                flush=True,
            )
        else:
            print(f"{ranked[0].category}\t{content.categories[ranked[0].category].label}")
    return 0


def _report_status(settings: Settings, reference: str, status: str, note: str | None, by: str) -> int:
    """Sets a report's status; the resident is told in the chat."""
    from bot.db.models import utcnow
    from bot.handlers.reports.rules import UnknownReport, change_status
    from bot.ops import audit
    from bot.ops.commands import command_actor, in_transaction

    async def work(session: Any, content: Any) -> None:
        at = utcnow()  # a command's clock is the machine's
        report = await change_status(session, content, reference, status, note, by, at=at)
        # Audited as the workspace's status form is: every status change is in /staff/audit.
        audit.record(session, command_actor(), "report_status", report.reference, at=at, status=status)

    try:
        in_transaction(settings, work)
    except UnknownReport:
        print(f"no report {reference}", file=sys.stderr)
        return 1
    print(f"{reference}: {status}")
    return 0


def _opinion_outcome(settings: Settings, reference: str, outcome: str, detail: str | None, by: str) -> int:
    """Sets what became of an opinion; the resident is told in the chat unless they opted out."""
    from bot.db.models import utcnow
    from bot.handlers.opinions.rules import UnknownOpinion, set_outcome
    from bot.ops import audit
    from bot.ops.commands import command_actor, in_transaction

    async def work(session: Any, content: Any) -> None:
        at = utcnow()  # a command's clock is the machine's
        opinion = await set_outcome(session, content, reference, outcome, detail, by, at=at)
        # Audited as the workspace's outcome form is.
        audit.record(session, command_actor(), "opinion_change", opinion.reference, at=at, change="outcome")

    try:
        in_transaction(settings, work)
    except UnknownOpinion:
        print(f"no opinion {reference} (or it was withdrawn)", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"{reference}: {outcome}")
    return 0


def _backup_or_restore(settings: Settings, args: Any) -> int:
    from bot.ops.backup import BackupError, backup, restore

    try:
        if args.command == "backup":
            backup(settings.database_url, args.out)
            print(f"backup written to {args.out}")
        else:
            restore(settings.database_url, args.file, args.force)
            print(f"restored from {args.file}")
    except (BackupError, OSError) as exc:
        print(f"{args.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


def _content_check(content_dir: Path) -> int:
    from bot.content import check_content

    content, errors = check_content(content_dir)
    for error in errors:
        print(error)
    if content is None:
        print(f"{len(errors)} error(s) in {content_dir}", file=sys.stderr)
        return 1
    print(
        f"content OK: {len(content.services)} services, {len(content.responses)} responses, "
        f"{len(content.municipality.villages)} villages"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
