"""Typed settings, read once from the environment; bad values fail at start-up with a clear message.

Secrets may also come from files: for every secret NAME, NAME_FILE names a file holding it (the usual way
container platforms hand secrets over). Secret values never appear in reprs, logs or error messages.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_LINE_API = "https://api.line.me"
DEFAULT_LINE_DATA_API = "https://api-data.line.me"

# LINE channel secrets are 32 hex characters; access tokens are long base64-ish strings.
_CHANNEL_SECRET = re.compile(r"^[0-9a-f]{32}$")
_ACCESS_TOKEN = re.compile(r"^[A-Za-z0-9+/=._-]{20,}$")
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR"}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable, never its value."""


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know about its surroundings."""

    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = "sqlite+aiosqlite:///var/bot.sqlite3"
    content_dir: Path = Path("content")
    data_dir: Path = Path("var")
    line_channel_secret: Secret | None = None
    line_channel_access_token: Secret | None = None
    line_api_base_url: str = DEFAULT_LINE_API
    line_data_api_base_url: str = DEFAULT_LINE_DATA_API
    staff_session_secret: Secret = field(default_factory=lambda: Secret(secrets.token_hex(32)))
    pseudonym_key: Secret = field(default_factory=lambda: Secret(secrets.token_hex(32)))
    log_level: str = "INFO"
    # The inbox waits this long after an event arrives before handling it, so that messages a resident
    # sent in quick succession (and LINE delivered out of order) are handled in timestamp order
    # (docs/decisions/inbox-settle-time.md).
    inbox_settle_seconds: float = 0.2
    inbox_workers: int = 2
    # How long a worker's claim on a chat lasts without renewal: after a crash, another worker (or the
    # restarted process) takes the chat over once it passes.
    inbox_lease_seconds: float = 30.0
    # How often an idle worker looks for work it was not woken for (events stored by another process).
    inbox_poll_seconds: float = 0.25
    # Chats leased per cycle: larger batches cost fewer transactions, smaller ones hold the database less
    # (SQLite's single connection is shared with the webhook). None: 16 on SQLite, 64 on PostgreSQL.
    inbox_lanes_per_cycle: int | None = None
    # Residents' messages are read in a child process, at this much lower CPU priority than the process that
    # acknowledges webhooks (bot/nlp/reader.py); off, they are read in a thread of the process (tests do so).
    reader_process: bool = True
    reader_niceness: int = 10
    # Reader processes: each reads one message at a time and holds its own model (about 280 MB). Two on a
    # machine with two cores or more nearly doubled answers a second (docs/decisions/reader-process.md).
    reader_processes: int = field(default_factory=lambda: min(2, len(os.sched_getaffinity(0))))
    webhook_max_body_bytes: int = 1_048_576
    # A request's body must have arrived this long after its headers (LINE sends it at once); a client
    # that never sends it would otherwise keep its connection open for ever.
    body_timeout_seconds: float = 10.0
    line_request_timeout_seconds: float = 10.0
    line_retry_base_seconds: float = 0.5
    # Where residents' browsers reach this server (links in chat, such as the full privacy notice).
    public_url: str | None = None
    # Staff workspace sessions end after this long without a request, and after this long in any case.
    # Fan-out requests per second (LINE allows 200 multicast requests per second; stay well under).
    broadcast_requests_per_second: float = 100.0
    staff_idle_seconds: int = 30 * 60
    staff_absolute_seconds: int = 8 * 60 * 60

    @property
    def local_mode(self) -> bool:
        """No LINE credentials: the fake LINE platform and the simulator stand in for LINE."""
        return self.line_channel_secret is None or self.line_channel_access_token is None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every setting; raise SettingsError naming the first bad variable."""
        env = os.environ if env is None else env
        secret = _read_secret(env, "LINE_CHANNEL_SECRET")
        token = _read_secret(env, "LINE_CHANNEL_ACCESS_TOKEN")
        if (secret is None) != (token is None):
            raise SettingsError(
                "LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN must be set together "
                "(leave both unset for local mode)"
            )
        if secret is not None and not _CHANNEL_SECRET.match(secret.reveal()):
            raise SettingsError("LINE_CHANNEL_SECRET must be the 32 hex characters shown in LINE Developers")
        if token is not None and not _ACCESS_TOKEN.match(token.reveal()):
            raise SettingsError("LINE_CHANNEL_ACCESS_TOKEN does not look like a channel access token")

        data_dir = Path(env.get("DATA_DIR", "var"))
        defaults = cls()
        kwargs: dict[str, object] = {
            "host": env.get("HOST", defaults.host),
            "port": _int(env, "PORT", defaults.port, 1, 65535),
            "database_url": database_url_from_env(env),
            "content_dir": Path(env.get("CONTENT_DIR", "content")),
            "data_dir": data_dir,
            "line_channel_secret": secret,
            "line_channel_access_token": token,
            "line_api_base_url": _base_url(env, "LINE_API_BASE_URL", DEFAULT_LINE_API),
            "line_data_api_base_url": _base_url(env, "LINE_DATA_API_BASE_URL", DEFAULT_LINE_DATA_API),
            "log_level": _log_level(env),
            "inbox_settle_seconds": _float(env, "INBOX_SETTLE_SECONDS", defaults.inbox_settle_seconds, 0, 5),
            "inbox_workers": _int(env, "INBOX_WORKERS", defaults.inbox_workers, 1, 64),
            "public_url": _base_url(env, "PUBLIC_URL", "") if env.get("PUBLIC_URL") else None,
            "inbox_lease_seconds": _float(env, "INBOX_LEASE_SECONDS", defaults.inbox_lease_seconds, 0.5, 600),
            "inbox_poll_seconds": _float(env, "INBOX_POLL_SECONDS", defaults.inbox_poll_seconds, 0.01, 60),
            "inbox_lanes_per_cycle": _int(env, "INBOX_LANES_PER_CYCLE", 0, 0, 1000) or None,
            "reader_process": _int(env, "READER_PROCESS", 1, 0, 1) == 1,
            "reader_niceness": _int(env, "READER_NICENESS", defaults.reader_niceness, 0, 19),
            "reader_processes": _int(env, "READER_PROCESSES", defaults.reader_processes, 1, 16),
            "line_request_timeout_seconds": _float(
                env, "LINE_REQUEST_TIMEOUT_SECONDS", defaults.line_request_timeout_seconds, 0.1, 120
            ),
            "line_retry_base_seconds": _float(env, "LINE_RETRY_BASE_SECONDS", defaults.line_retry_base_seconds, 0, 30),
            "body_timeout_seconds": _float(env, "BODY_TIMEOUT_SECONDS", defaults.body_timeout_seconds, 0.1, 300),
            "broadcast_requests_per_second": _float(
                env, "BROADCAST_REQUESTS_PER_SECOND", defaults.broadcast_requests_per_second, 0.1, 180
            ),
            "staff_idle_seconds": _int(env, "STAFF_IDLE_SECONDS", defaults.staff_idle_seconds, 5, 24 * 3600),
            "staff_absolute_seconds": _int(
                env, "STAFF_ABSOLUTE_SECONDS", defaults.staff_absolute_seconds, 60, 7 * 24 * 3600
            ),
        }
        for name, attr in (("STAFF_SESSION_SECRET", "staff_session_secret"), ("PSEUDONYM_KEY", "pseudonym_key")):
            value = _read_secret(env, name)
            if value is not None:
                if len(value.reveal()) < 32:
                    raise SettingsError(f"{name} must be at least 32 characters long")
                kwargs[attr] = value
            elif secret is not None:
                # With a real LINE channel, a random key per start would break pseudonyms and sessions.
                raise SettingsError(f"{name} must be set when a LINE channel is configured")
            else:
                kwargs[attr] = _local_key(data_dir, name)
        return cls(**kwargs)  # type: ignore[arg-type]


def _local_key(data_dir: Path, name: str) -> Secret:
    """In local mode, keys are made once and kept under the data directory, so pseudonyms and staff
    sessions stay stable across restarts without any set-up."""
    path = data_dir / "local-keys" / name.lower()
    try:
        return Secret(path.read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return Secret(value)


def _read_secret(env: Mapping[str, str], name: str) -> Secret | None:
    path = env.get(f"{name}_FILE")
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE cannot be read ({exc.strerror})") from None
    else:
        value = env.get(name, "").strip()
    return Secret(value) if value else None


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value


def _base_url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip()
    if not re.match(r"^https?://[^\s/]+(/[^\s]*)?$", value):
        raise SettingsError(f"{name} must be an http(s) URL")
    # The SDK builds URLs as host + "/v2/...": a trailing slash would double it.
    return value.rstrip("/")


def _log_level(env: Mapping[str, str]) -> str:
    level = env.get("LOG_LEVEL", "INFO").upper()
    if level not in _LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(sorted(_LOG_LEVELS))}")
    return level


def database_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """The database the settings name: DATABASE_URL, or the SQLite file under DATA_DIR.

    Read on its own, before the rest of the settings, so a command can refuse a missing database before
    anything (the local keys under DATA_DIR) is written."""
    env = os.environ if env is None else env
    return _database_url(env.get("DATABASE_URL"), Path(env.get("DATA_DIR", "var")))


def sqlite_file(database_url: str) -> Path | None:
    """The absolute path of a SQLite database's file; None for PostgreSQL and in-memory SQLite."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).absolute()


def describe_database(database_url: str) -> str:
    """Which database a command works on, as an operator can check it: the SQLite file's absolute path, or
    the PostgreSQL URL as they wrote it, with the password masked."""
    from sqlalchemy.engine import make_url

    file = sqlite_file(database_url)
    if file is not None:
        return f"SQLite {file}"
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return "SQLite in memory"
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql")
    return url.render_as_string(hide_password=True)


def _database_url(raw: str | None, data_dir: Path) -> str:
    if not raw:
        return f"sqlite+aiosqlite:///{data_dir / 'bot.sqlite3'}"
    # Operators paste the URLs their hosting gives them; map them to the async drivers we ship.
    for prefix, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if raw.startswith(prefix):
            return driver + raw[len(prefix) :]
    if raw.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:///")):
        return raw
    raise SettingsError("DATABASE_URL must be a postgresql:// or sqlite:/// URL")
