"""What the commands run on the server share (bot/__main__.py, bot/staff/cli.py): who they act as in the audit
log, and one transaction on the configured database with content loaded."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.content import Content


def command_actor() -> str:
    """Who a command on the server acts as in the audit log: "cli:<the server's user>" (the workspace shows
    it as คำสั่งบนเครื่องแม่ข่าย, bot.staff.labels.StaffWords.actor); what --by names is kept in the case's
    own history."""
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # no user name in some containers
        return "cli"


def in_transaction(settings: Settings, work: Callable[[AsyncSession, Content], Awaitable[Any]]) -> None:
    """Run `work(session, content)` in one transaction on the configured database (migrated first), as a
    staff command does; pushes it queues leave through the running server's outbox."""
    from bot.content import load_content
    from bot.db.engine import create_engine, create_sessionmaker, migrate

    # Content first: a command run from the wrong directory stops on it before touching the database.
    content = load_content(settings.content_dir)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
            async with create_sessionmaker(engine)() as session, session.begin():
                await work(session, content)
        finally:
            await engine.dispose()

    asyncio.run(run())
