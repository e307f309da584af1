"""What the process-level benchmarks share: free ports, the bot's environment, the fake LINE platform as its
own process, a throwaway PostgreSQL cluster that can be stopped and started, and reading back what the fake
delivered."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-access-token-" + "x" * 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(fake_url: str, port: int, work: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a bot process that talks to the fake LINE at fake_url."""
    return {
        **os.environ,
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": fake_url,
        "LINE_DATA_API_BASE_URL": fake_url,
        "PORT": str(port),
        "PSEUDONYM_KEY": "p" * 32,
        "STAFF_SESSION_SECRET": "s" * 32,
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(work / "var"),
        "DATABASE_URL": database_url or f"sqlite:///{work}/bench.sqlite3",
        **extra,
    }


async def fresh_database(server_url: str, name: str) -> str:
    """A new, empty PostgreSQL database on the server of server_url (dropped first if an earlier run left it);
    returns its URL."""
    import asyncpg

    conn = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    # Through make_url, so a socket directory in the query (?host=/run/postgresql) stays as it was.
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def start_fake_line(port: int, niceness: int = 0) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.dev.fake_line", "--port", str(port), "--token", TOKEN],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
        preexec_fn=(lambda: os.nice(niceness)) if niceness else None,
    )


def start_bot(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`python -m bot ARGS...`, quiet."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(url)
            await asyncio.sleep(0.2)


async def issue_tokens(fake_url: str, users: list[str], per_user: int) -> dict[str, list[str]]:
    tokens: dict[str, list[str]] = {}
    async with aiohttp.ClientSession() as session:
        for user in users:
            async with session.post(f"{fake_url}/_fake/reply-tokens", json={"userId": user, "count": per_user}) as r:
                tokens[user] = (await r.json())["replyTokens"]
    return tokens


async def fake_get(fake_url: str, what: str) -> list[dict[str, Any]]:
    """GET /_fake/deliveries or /_fake/received from the fake platform."""
    async with aiohttp.ClientSession() as session, session.get(f"{fake_url}/_fake/{what}") as response:
        return list(await response.json())


async def queue_faults(fake_url: str, endpoint: str, faults: list[dict[str, Any]]) -> None:
    async with aiohttp.ClientSession() as session:
        body = {"endpoint": endpoint, "faults": faults}
        async with session.post(f"{fake_url}/_fake/faults", json=body) as response:
            response.raise_for_status()


class PostgresCluster:
    """A throwaway PostgreSQL cluster in a temporary directory (Debian's binaries), stoppable at will."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise SystemExit("PostgreSQL's binaries are needed (Debian: apt-get install postgresql)")
        self._bin = found[-1].parent
        self._dir = Path(tempfile.mkdtemp(prefix="bot-bench-pg."))
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        if os.getuid() == 0:
            shutil.chown(self._dir, "postgres")
        self._run("initdb", "-D", str(self._dir / "data"), "-A", "trust", "-U", "postgres", "--encoding=UTF8")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self._bin / tool), *args]
        if os.getuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self._dir} -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-l", str(self._dir / "log"), "-w", "-o", options, "start")

    def stop(self) -> None:
        """As abruptly as a crash: no checkpoint, clients cut off."""
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
