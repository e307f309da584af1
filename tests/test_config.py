"""Settings from the environment: defaults, *_FILE secrets, and clear failures that never show a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, SettingsError

SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "A" * 40


def test_defaults_are_local_mode_on_sqlite(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
    assert settings.local_mode
    assert settings.port == 8080
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    assert settings.line_api_base_url == "https://api.line.me"
    # Local keys are made once and reused, so pseudonyms survive restarts.
    again = Settings.from_env({"DATA_DIR": str(tmp_path)})
    assert again.pseudonym_key == settings.pseudonym_key


def test_line_channel_from_files_and_urls_normalised(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text(SECRET + "\n")
    (tmp_path / "token").write_text(TOKEN)
    settings = Settings.from_env(
        {
            "LINE_CHANNEL_SECRET_FILE": str(tmp_path / "secret"),
            "LINE_CHANNEL_ACCESS_TOKEN_FILE": str(tmp_path / "token"),
            "PSEUDONYM_KEY": "p" * 32,
            "STAFF_SESSION_SECRET": "s" * 32,
            "LINE_API_BASE_URL": "http://127.0.0.1:9999/",
            "DATABASE_URL": "postgres://bot:pw@db/bot",
            "PORT": "9000",
        }
    )
    assert not settings.local_mode
    assert settings.line_channel_secret is not None and settings.line_channel_secret.reveal() == SECRET
    assert settings.line_api_base_url == "http://127.0.0.1:9999"
    assert settings.database_url == "postgresql+asyncpg://bot:pw@db/bot"
    assert settings.port == 9000
    assert SECRET not in repr(settings) and TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"LINE_CHANNEL_SECRET": SECRET}, "LINE_CHANNEL_ACCESS_TOKEN"),
        ({"LINE_CHANNEL_SECRET": "not-hex-" + SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN}, "LINE_CHANNEL_SECRET"),
        ({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "short"}, "LINE_CHANNEL_ACCESS_TOKEN"),
        ({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN}, "STAFF_SESSION_SECRET"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"LINE_API_BASE_URL": "ftp://x"}, "LINE_API_BASE_URL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"PSEUDONYM_KEY": "short"}, "PSEUDONYM_KEY"),
        ({"LINE_CHANNEL_SECRET_FILE": "/nonexistent/secret"}, "LINE_CHANNEL_SECRET_FILE"),
    ],
)
def test_bad_settings_fail_naming_the_variable_not_its_value(env: dict[str, str], names: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"DATA_DIR": str(tmp_path), **env})
    assert names in str(raised.value)
    for value in env.values():
        if len(value) >= 20:
            assert value not in str(raised.value)
