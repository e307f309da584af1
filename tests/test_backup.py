"""Backup and restore as an operator runs them: `python -m bot backup` while the bot is up, then `restore`
into an empty database, which then holds the same rows; restoring over data needs --force."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import AuditEntry, Opinion, Resident
from tests.conftest import Bot, postgres_admin, postgres_database
from tests.serving import cli_env, run_cli
from tests.staffing import add_opinions


def _cli(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The runner's PATH: pg_dump and pg_restore may be wherever the test command installed them.
    env = cli_env(data_dir, database_url, PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    return run_cli(env, *args)


async def _counts(database_url: str) -> tuple[int, int, list[str]]:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            opinions = int(await session.scalar(select(func.count()).select_from(Opinion)) or 0)
            residents = int(await session.scalar(select(func.count()).select_from(Resident)) or 0)
            texts = sorted(await session.scalars(select(Opinion.text)))
    finally:
        await engine.dispose()
    return opinions, residents, texts


async def _empty_database(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path}/restored/bot.sqlite3"
    return await postgres_database("r_")


async def test_backup_while_running_and_restore_into_an_empty_database(
    bot: Bot, database_url: str, tmp_path: Path
) -> None:
    await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5), ("ตลาดนัดชุมชน", "economy", 3)])
    file = tmp_path / "bot.ops.backup"
    made = await asyncio.to_thread(_cli, database_url, tmp_path, "backup", "--out", str(file))
    assert made.returncode == 0, made.stderr
    assert file.stat().st_size > 0
    await add_opinions(bot, [("หลังสำรอง", "virtue", 1)])  # not in the backup
    target = await _empty_database(database_url, tmp_path)
    restored = await asyncio.to_thread(_cli, target, tmp_path, "restore", str(file))
    assert restored.returncode == 0, restored.stderr
    assert await _counts(target) == (2, 1, ["ขอไฟส่องสว่างซอย 5", "ตลาดนัดชุมชน"])
    # The restored database is one the bot starts on (migrations already at head) ...
    started = await asyncio.to_thread(
        _cli, target, tmp_path, "export", "opinions", "--format", "csv", "--out", str(tmp_path / "x.csv")
    )
    assert started.returncode == 0, started.stderr
    # ... and restoring over data is refused unless forced.
    again = await asyncio.to_thread(_cli, target, tmp_path, "restore", str(file))
    assert again.returncode == 1
    forced = await asyncio.to_thread(_cli, target, tmp_path, "restore", str(file), "--force")
    assert forced.returncode == 0, forced.stderr
    engine = create_engine(target)
    try:
        async with create_sessionmaker(engine)() as session:
            assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    finally:
        await engine.dispose()
    assert (await _counts(target))[0] == 2
    if not target.startswith("sqlite"):
        await postgres_admin(f'DROP DATABASE IF EXISTS "{target.rsplit("/", 1)[1]}" WITH (FORCE)')
