"""Creating the engine for SQLite or PostgreSQL, and applying migrations before the server takes traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed number works: every process that migrates this database takes the same advisory lock.
_MIGRATION_LOCK_ID = 7_340_115


def create_engine(database_url: str) -> AsyncEngine:
    """An engine tuned for the backend: SQLite gets WAL and write-ahead locking, PostgreSQL a pool (why:
    docs/decisions/sqlite-settings.md)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # How long a writer waits for the lock; `?timeout=SECONDS` in DATABASE_URL overrides it.
        connect_args = {} if "timeout" in url.query else {"timeout": 15}
        # One connection, handed out in turn by the pool's async queue. Several connections would contend
        # for SQLite's single write lock through its busy handler, which sleeps in steps of up to 100 ms:
        # a queue in the event loop is both fairer and far faster.
        engine = create_async_engine(url, connect_args=connect_args, pool_size=1, max_overflow=0)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_timeout=5)


def create_memory_engine() -> AsyncEngine:
    """SQLite in memory, set up as a file is: one connection, handed out in turn (it holds the database, so
    it is never closed before the engine), the same pragmas and BEGIN IMMEDIATE. For `python -m bot ask`
    (nothing it handles is kept) and the in-process flow tests."""
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads and then writes can fail with "database is locked" at once,
        # whatever the busy timeout. Taking the write lock up front makes concurrent writers queue instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def driver_connection(connection: AsyncConnection) -> Any:
    """The connection as the database driver sees it (asyncpg's, for COPY and array parameters), inside
    whatever the connection is doing."""
    return (await connection.get_raw_connection()).driver_connection


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; safe when several processes start at once."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        await conn.run_sync(_upgrade)


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
