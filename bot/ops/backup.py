"""`python -m bot backup` and `restore`: a consistent copy of the database while the bot keeps running.

SQLite: the library's online backup (a snapshot even while the server writes). PostgreSQL: pg_dump's custom
format, restored with pg_restore (both from Debian's postgresql-client). Photos live under DATA_DIR/media:
copy that folder alongside (the README says how).
"""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(database)


def _libpq_dsn(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise BackupError(f"{name} not found: install Debian's postgresql-client")
    return found


def backup(database_url: str, out: Path) -> None:
    if database_url.startswith("sqlite"):
        source = _sqlite_path(database_url)
        if not source.exists():
            raise BackupError(
                f"no database at {source.absolute()}: point DATA_DIR (or DATABASE_URL) at the server's database"
            )
        with sqlite3.connect(source) as live, sqlite3.connect(out) as copy:
            live.backup(copy)
        return
    done = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(out), _libpq_dsn(database_url)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(done.stderr.strip() or "pg_dump failed")


def restore(database_url: str, backup_file: Path, force: bool) -> None:
    """Replace the database's contents with the backup's; refuses to overwrite data unless forced."""
    if not backup_file.is_file():
        raise BackupError(f"no backup at {backup_file}")
    if database_url.startswith("sqlite"):
        target = _sqlite_path(database_url)
        if target.exists() and not force:
            raise BackupError(f"{target} exists: stop the bot, then restore with --force to replace it")
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        with sqlite3.connect(backup_file) as copy, sqlite3.connect(target) as live:
            copy.backup(live)
        return
    command = [_tool("pg_restore"), "--no-owner", "--dbname", _libpq_dsn(database_url)]
    if force:
        command[1:1] = ["--clean", "--if-exists"]
    done = subprocess.run([*command, str(backup_file)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(done.stderr.strip() or "pg_restore failed")
