"""Which database a command works on (issue 16, items 15 and 16).

Every command that opens the database says which one on stderr (the SQLite file's absolute path, or the URL
with its password masked). Run where the server's database is not, a command other than the server refuses
to make a new, empty one silently: it says where it looked and how to point it, and leaves nothing behind;
`staff add --create` makes it (the first account before the server's first start). An export filter that
names no consultation, category, status or village is an error naming the valid values, not 0 rows."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import describe_database, sqlite_file
from tests.conftest import Bot
from tests.serving import ROOT, cli_env, run_cli
from tests.staffing import add_opinions

PASSWORD = "a long enough password"


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory with no database, as the commands' working directory, with the defaults' environment."""
    for name in ("DATABASE_URL", "DATA_DIR", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONTENT_DIR", str(ROOT / "content"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _main(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(argv))


def test_the_database_is_named_by_its_absolute_path_or_its_url_without_the_password() -> None:
    assert describe_database("sqlite+aiosqlite:///var/bot.sqlite3") == f"SQLite {Path.cwd() / 'var' / 'bot.sqlite3'}"
    shown = describe_database("postgresql+asyncpg://bot:s3cret@db.example:5432/bot")
    assert shown == "postgresql://bot:***@db.example:5432/bot" and "s3cret" not in shown
    assert sqlite_file("postgresql+asyncpg://bot@db/bot") is None
    assert sqlite_file("sqlite+aiosqlite:///:memory:") is None


@pytest.mark.parametrize(
    "argv",
    [
        ("staff", "add", "somsri", "--role", "admin"),
        ("export", "opinions", "--format", "csv", "--out", "o.csv"),
        ("export", "plan", "--format", "xlsx", "--out", "plan.xlsx"),
        ("hearing", "list"),
        ("report", "status", "2569-00001", "done"),
        ("opinion", "outcome", "2569-00001", "considering"),
        ("backup", "--out", "b.sqlite3"),
    ],
)
def test_a_command_run_where_there_is_no_database_refuses_and_leaves_nothing(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    assert _main(monkeypatch, *argv, stdin=PASSWORD + "\n") == 2
    err = capsys.readouterr().err
    looked = elsewhere / "var" / "bot.sqlite3"
    assert f"database: SQLite {looked}" in err
    assert f"no database at {looked} (DATA_DIR is 'var', relative to {elsewhere})" in err
    assert "DATA_DIR=/path/to/var" in err and "DATABASE_URL=sqlite:////" in err
    assert ("--create" in err) == (argv[0] == "staff")
    assert list(elsewhere.iterdir()) == []  # no var/, no empty database, no local keys


def test_staff_add_create_makes_the_first_database_and_later_commands_use_it(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = elsewhere / "var" / "bot.sqlite3"
    assert _main(monkeypatch, "staff", "add", "somsri", "--role", "admin", "--create", stdin=PASSWORD + "\n") == 0
    out = capsys.readouterr()
    assert database.is_file() and out.out.strip() == "added somsri (admin)"
    assert f"database: SQLite {database}" in out.err and f"creating a new, empty database at {database}" in out.err
    assert _main(monkeypatch, "staff", "add", "nid", "--role", "viewer", stdin=PASSWORD + "\n") == 0
    err = capsys.readouterr().err
    assert f"database: SQLite {database}" in err and "creating" not in err


def test_the_refusal_names_the_database_the_server_made_nearby(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(monkeypatch, "staff", "add", "somsri", "--role", "admin", "--create", stdin=PASSWORD + "\n") == 0
    capsys.readouterr()
    monkeypatch.setenv("DATA_DIR", str(elsewhere / "other"))
    assert _main(monkeypatch, "hearing", "list") == 2
    err = capsys.readouterr().err
    assert f"no database at {elsewhere / 'other' / 'bot.sqlite3'} (DATA_DIR is '{elsewhere / 'other'}')" in err
    assert f"A database exists at {elsewhere / 'var' / 'bot.sqlite3'}: DATA_DIR={elsewhere / 'var'}" in err
    assert not (elsewhere / "other").exists()


def test_a_command_run_from_another_directory_says_which_content_it_could_not_read(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CONTENT_DIR")
    assert _main(monkeypatch, "staff", "add", "somsri", "--role", "admin", "--create", stdin=PASSWORD + "\n") == 1
    err = capsys.readouterr().err
    assert f"CONTENT_DIR: {elsewhere / 'content'}" in err and "Traceback" not in err
    assert not (elsewhere / "var" / "bot.sqlite3").exists()  # content is read before the database is made


def test_serve_worker_and_restore_may_make_a_database() -> None:
    from bot.__main__ import DATABASE_COMMANDS, MAY_CREATE_DATABASE

    assert {"serve", "worker", "restore"} == MAY_CREATE_DATABASE and MAY_CREATE_DATABASE < DATABASE_COMMANDS


async def test_an_export_filter_that_matches_nothing_named_is_an_error_naming_the_valid_ids(
    bot: Bot, database_url: str, tmp_path: Path
) -> None:
    # add_opinions files them under "local_plan_2571_2575", a consultation that is no longer in content/.
    await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5)])
    env = cli_env(tmp_path, database_url)

    def export(kind: str, *filters: str) -> subprocess.CompletedProcess[str]:
        return run_cli(env, "export", kind, "--format", "csv", "--out", str(tmp_path / "x.csv"), *filters)

    unknown = await asyncio.to_thread(export, "opinions", "--consultation", "plan_2570")
    assert unknown.returncode == 2 and "no consultation 'plan_2570'" in unknown.stderr
    assert "local_plan_2571_2575, local_plan_2571_2575_rev1" in unknown.stderr  # content's and the stored one
    assert not (tmp_path / "x.csv").exists()
    village = await asyncio.to_thread(export, "opinions", "--village", "99")
    assert village.returncode == 2 and "valid --village values: 1, 2, 3, 4, 5, 6, 7, 8" in village.stderr
    category = await asyncio.to_thread(export, "opinions", "--category", "roads")
    assert category.returncode == 2 and "physical" in category.stderr and "virtue" in category.stderr
    status = await asyncio.to_thread(export, "reports", "--status", "in_plan")
    assert status.returncode == 2 and "in_progress" in status.stderr and "in_plan," not in status.stderr
    plan = await asyncio.to_thread(
        run_cli, env, "export", "plan", "--format", "xlsx", "--out", str(tmp_path / "p.xlsx"), "--status", "nope"
    )
    assert plan.returncode == 2 and "in_plan" in plan.stderr
    # Values content or the database knows still export, a stored consultation content dropped included.
    for kind, filters in (
        ("opinions", ("--consultation", "local_plan_2571_2575", "--village", "5", "--status", "received")),
        ("opinions", ("--consultation", "local_plan_2571_2575_rev1", "--category", "virtue")),
        ("reports", ("--status", "in_progress", "--village", "8")),
    ):
        done = await asyncio.to_thread(export, kind, *filters)
        assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"0 rows -> {tmp_path / 'x.csv'}"
