"""Every command example in README.md works as written (issue 16, item 16).

The examples are read out of README.md itself (fenced and indented code blocks, and inline `python -m bot ...`
spans), so an example edited there is the example tested here. They run in a fresh directory with the
defaults' environment (DATA_DIR and DATABASE_URL unset, so var/ there), after `python -m bot serve` has made
the database, as the README's order of commands has it. A synopsis runs in its shortest and its fullest form
(`[--json]` left out, then every bracketed option in), each `a|b` alternative, with FILE and ID filled in.
The references the status examples name are put in the database first: the README presupposes them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import Opinion, Report, Resident
from bot.dev.fake_line import FakeLinePlatform
from bot.handlers.residents.rules import pseudonym_for
from bot.handlers.services.timeline import BANGKOK
from bot.references import format_reference
from tests.conftest import ACCESS_TOKEN, new_user_id
from tests.serving import ROOT

README = ROOT / "README.md"
PASSWORD = "a long enough password"
# Commands that run a server rather than do one thing and exit: the server is started once, below.
SERVERS = {"serve", "worker"}
# What the README's examples must cover; a test that found none of them would pass for the wrong reason.
EXPECTED = {
    "staff add",
    "hearing create",
    "hearing list",
    "hearing announce",
    "export",
    "backup",
    "restore",
    "content check",
    "ask",
    "categorize",
    "report status",
    "opinion outcome",
    "richmenu render",
    "richmenu push",
}
_BOT = re.compile(r"^python3? -m bot(?:\s|$)")
_INLINE = re.compile(r"`([^`\n]+)`")


def readme_commands(text: str) -> list[str]:
    """The `python -m bot ...` commands of the README's code, in order: fenced blocks, indented blocks
    (4 spaces and more) and inline code spans; a `a && b` line gives each bot command of it."""
    found: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        pieces = [line.strip()] if fenced or line.startswith("    ") else _INLINE.findall(line)
        for piece in pieces:
            commands = [part.strip() for part in piece.split("&&") if _BOT.match(part.strip())]
            if not fenced and not line.startswith("    "):
                # Prose names a command in passing ("every `python -m bot ...` command", "times `python -m
                # bot export`"): an inline span of one word at most is a name, not an example to run.
                commands = [command for command in commands if len(command.split()) > 4]
            found += commands
    return found


def _command_name(words: list[str]) -> str:
    """'staff add', 'hearing list', 'export', 'ask': the words that name what the command does."""
    two = {"staff", "hearing", "content", "report", "opinion", "richmenu"}
    return " ".join(words[:2]) if words[0] in two else words[0]


def variants(words: list[str]) -> list[list[str]]:
    """A synopsis as commands: without its [optional] parts and with all of them, each a|b alternative."""
    shortest: list[list[str]] = [[]]
    fullest: list[list[str]] = [[]]
    depth = 0
    for word in words:
        opens, closes = word.startswith("["), word.endswith("]")
        plain = word.strip("[]")
        choices = plain.split("|") if "|" in plain and not plain.startswith("-") else [plain]
        inside = depth > 0 or opens
        depth += opens - closes
        fullest = [[*done, choice] for done in fullest for choice in choices]
        if not inside:
            shortest = [[*done, choice] for done in shortest for choice in choices]
    unique: list[list[str]] = []
    for command in shortest + fullest:
        if command not in unique:
            unique.append(command)
    return unique


def test_the_readme_examples_are_found_and_expanded() -> None:
    text = "\n".join(
        [
            "```",
            "pip install -e . && python -m bot serve",
            "```",
            "    python -m bot export reports|queries --out FILE [--since 2026-11-01]",
            'or `python -m bot ask "x"`; every `python -m bot ...` command, as `python -m bot export` times.',
        ]
    )
    assert readme_commands(text) == [
        "python -m bot serve",
        "python -m bot export reports|queries --out FILE [--since 2026-11-01]",
        'python -m bot ask "x"',
    ]
    assert variants(["export", "reports|queries", "--out", "FILE", "[--since", "2026-11-01]", "[--json]"]) == [
        ["export", "reports", "--out", "FILE"],
        ["export", "queries", "--out", "FILE"],
        ["export", "reports", "--out", "FILE", "--since", "2026-11-01", "--json"],
        ["export", "queries", "--out", "FILE", "--since", "2026-11-01", "--json"],
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _defaults_env(**extra: str) -> dict[str, str]:
    """The environment of someone following the README: nothing set but where content/ is (the directory is
    a fresh one) and the test runner's offline switches for PyThaiNLP."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CONTENT_DIR": str(ROOT / "content"), **extra}
    for name in ("PYTHAINLP_OFFLINE", "PYTHAINLP_READ_ONLY", "PYTHAINLP_DATA_DIR", "BOT_CACHE_DIR", "HOME"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


@pytest.fixture
def served_here(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """`python -m bot serve` started in a fresh directory; (that directory, its stderr file)."""
    port = _free_port()
    errors = tmp_path / "serve.stderr"
    work = tmp_path / "here"
    work.mkdir()
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=work,
            env=_defaults_env(PORT=str(port)),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    assert process.poll() is None, errors.read_text()
                    assert time.monotonic() < deadline, "serve did not answer /healthz in 90 s"
                    time.sleep(0.3)
            yield work, errors
        finally:
            process.terminate()
            process.wait(timeout=15)


async def _seed_the_cases_the_examples_name(database: Path) -> None:
    """The report and the opinion whose references the README's status examples use."""
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    key = (database.parent / "local-keys" / "pseudonym_key").read_text().strip()
    user = new_user_id()
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            resident = Resident(line_user_id=user, pseudonym=pseudonym_for(key, user), followed=True)
            session.add(resident)
            await session.flush()
            session.add(
                Report(
                    reference=format_reference("report", 2569, 1),
                    resident_id=resident.id,
                    type="road",
                    division="engineering",
                    village=3,
                    text="ถนนหน้าบ้านเป็นหลุม",
                )
            )
            session.add(
                Opinion(
                    reference=format_reference("opinion", 2569, 1),
                    resident_id=resident.id,
                    consultation_id="local_plan_2571_2575_rev1",
                    village=3,
                    category="physical",
                    category_suggested="physical",
                    text="อยากให้ซ่อมถนนในหมู่บ้าน",
                )
            )
    finally:
        await engine.dispose()


def _filled(words: list[str], work: Path, hearing: str | None) -> list[str]:
    """FILE and ID as a reader would fill them in. `--wait` with an `--at` still to come would wait for that
    time, as it should: the command then runs without it."""
    name = _command_name(words)
    if "--wait" in words and "--at" in words:
        at = dt.datetime.strptime(words[words.index("--at") + 1], "%Y-%m-%d %H:%M").replace(tzinfo=BANGKOK)
        if at > dt.datetime.now(dt.UTC):
            words = [word for word in words if word != "--wait"]
    filled = []
    for word in words:
        if word == "FILE":
            if name == "export":
                kind, fmt = words[1], words[words.index("--format") + 1]
                word = str(work / f"{kind}.{fmt}")
            else:
                word = str(work / "bot.ops.backup")
        elif word == "ID":
            assert hearing is not None, "the README announces a hearing before creating one"
            word = hearing
        filled.append(word)
    return filled


async def test_every_readme_example_works_as_written(
    served_here: tuple[Path, Path], fake_line: FakeLinePlatform
) -> None:
    work, serve_errors = served_here
    database = work / "var" / "bot.sqlite3"
    assert f"database: SQLite {database}" in serve_errors.read_text()
    await _seed_the_cases_the_examples_name(database)
    line = {  # richmenu push talks to LINE: here, the fake LINE platform
        "LINE_CHANNEL_SECRET": "ab" * 16,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_BASE_URL": fake_line.base_url,  # type: ignore[attr-defined]
        "LINE_DATA_API_BASE_URL": fake_line.base_url,  # type: ignore[attr-defined]
        "LINE_RETRY_BASE_SECONDS": "0",
        "PSEUDONYM_KEY": "p" * 32,
        "STAFF_SESSION_SECRET": "s" * 32,
    }
    ran: set[str] = set()
    failures: list[str] = []
    hearing: str | None = None
    for example in readme_commands(README.read_text(encoding="utf-8")):
        words = shlex.split(example)[3:]
        if not words or words[0] in SERVERS:
            continue
        for command in variants(words):
            command = _filled(command, work, hearing)
            name = _command_name(command)
            env = _defaults_env(**(line if name == "richmenu push" else {}))
            if name == "restore":
                env["DATA_DIR"] = str(work / "restored")  # the README restores into an empty database
            stdin = PASSWORD + "\n" if name == "staff add" else ""
            done = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "bot", *command],
                cwd=work,
                env=env,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=180,
            )
            ran.add(name)
            if done.returncode != 0:
                failures.append(f"python -m bot {shlex.join(command)}\n  exit {done.returncode}: {done.stderr[-600:]}")
            elif name == "hearing create":
                hearing = str(json.loads(done.stdout)["id"]) if "--json" in command else done.stdout.strip()
    assert not failures, "README examples that do not work as written:\n" + "\n".join(failures)
    assert ran >= EXPECTED, f"README examples no longer found: {sorted(EXPECTED - ran)}"
    async with create_sessionmaker(engine := create_engine(f"sqlite+aiosqlite:///{database}"))() as session:
        report = await session.scalar(select(Report).where(Report.reference == format_reference("report", 2569, 1)))
    await engine.dispose()
    assert report is not None and report.status == "in_progress"
    assert (work / "restored" / "bot.sqlite3").is_file() and (work / "menu.png").is_file()
