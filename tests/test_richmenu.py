"""The rich menu: content/richmenu.yaml checked with file:line errors, every tile's tap handled by the bot, the
picture drawn, and `python -m bot richmenu push` installing it on the fake LINE over HTTP."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from linebot.v3.messaging import RichMenuRequest
from PIL import Image

from bot import keys
from bot.content import check_content, load_content
from bot.dev.fake_line import FakeLinePlatform
from bot.ops.richmenu import picture
from tests.conftest import ACCESS_TOKEN, ROOT, Bot, new_user_id
from tests.serving import cli_env, run_cli


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text("utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, 1), "utf-8")


def test_the_bundled_menu_is_a_valid_line_object_whose_tiles_cover_the_picture() -> None:
    menu = load_content(ROOT / "content").rich_menu
    body = menu.line_object()
    RichMenuRequest.from_dict(body)  # the SDK's own model accepts it
    covered = sum(a["bounds"]["width"] * a["bounds"]["height"] for a in body["areas"])  # type: ignore[index]
    assert covered == menu.width * menu.height  # no gap, and (tiles being a grid) no overlap
    with Image.open(io.BytesIO(picture(menu))) as image:
        assert image.format == "PNG" and image.size == (menu.width, menu.height)


async def test_every_tile_is_answered_by_the_bot(bot: Bot) -> None:
    """A tap sends the tile's postback (or text); the bot answers each one."""
    menu = bot.app[keys.CONTENT].rich_menu
    for tile in menu.tiles:
        user = new_user_id()
        action = tile.action()
        event = bot.postback(user, action["data"]) if action["type"] == "postback" else bot.text(user, action["text"])
        await bot.post(event)
        await bot.idle()
        assert bot.fake.messages_to(user), f"no answer to the tile {tile.chip.id}"


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("chip: opinion", "chip: opinions", "chip: opinions", "one of responses.yaml's quick_replies"),
        ("chat_bar_text: เมนูบริการ", "chat_bar_text: เมนูบริการของเทศบาลตำบล", "chat_bar_text:", "1 to 14"),
        ("columns: 3", "columns: 2", "tiles:", "has 4 tiles"),
        ('color: "#1f6f5c"', "color: green", "color: green", "#RRGGBB"),
        ("size: large", "size: huge", "size: huge", "large (two rows"),
        ("image:\n", "image: menu.png\n", "image: menu.png", "menu.png is not in"),
    ],
)
def test_a_broken_menu_is_reported_with_file_and_line(
    content_copy: Path, old: str, new: str, needle: str, message: str
) -> None:
    file = content_copy / "richmenu.yaml"
    _edit(file, old, new)
    content, errors = check_content(content_copy)
    assert content is None
    line = next(i for i, text in enumerate(file.read_text("utf-8").splitlines(), 1) if needle in text)
    assert any(e.startswith(f"{file}:{line}:") and message in e for e in errors), (errors, line)


def test_a_picture_of_the_wrong_size_is_refused_before_line_sees_it(content_copy: Path) -> None:
    Image.new("RGB", (1200, 810), "navy").save(content_copy / "menu.png")
    _edit(content_copy / "richmenu.yaml", "image:\n", "image: menu.png\n")
    _, errors = check_content(content_copy)
    assert any("1200x810 pixels" in e and "2500x1686" in e for e in errors), errors


def _push_env(tmp_path: Path, fake: FakeLinePlatform, content: Path | None = None) -> dict[str, str]:
    base = fake.base_url  # type: ignore[attr-defined]
    env = cli_env(
        tmp_path,
        LINE_CHANNEL_SECRET="ab" * 16,
        LINE_CHANNEL_ACCESS_TOKEN=ACCESS_TOKEN,
        LINE_API_BASE_URL=base,
        LINE_DATA_API_BASE_URL=base,
        LINE_RETRY_BASE_SECONDS="0",
        STAFF_SESSION_SECRET="t" * 32,
        PSEUDONYM_KEY="p" * 32,
    )
    if content is not None:
        env["CONTENT_DIR"] = str(content)
    return env


async def test_push_installs_the_menu_as_default_and_replaces_the_previous_one(
    fake_line: FakeLinePlatform, tmp_path: Path
) -> None:
    env = _push_env(tmp_path, fake_line)
    first = await asyncio.to_thread(run_cli, env, "richmenu", "push")
    assert first.returncode == 0, first.stderr
    first_id = fake_line.default_rich_menu
    assert first_id is not None and first_id in first.stdout
    image, content_type = fake_line.rich_menu_images[first_id]
    assert content_type == "image/png" and Image.open(io.BytesIO(image)).size == (2500, 1686)
    assert fake_line.rich_menus[first_id]["chatBarText"] == "เมนูบริการ"
    second = await asyncio.to_thread(run_cli, env, "richmenu", "push")
    assert second.returncode == 0 and "1 older removed" in second.stdout
    assert list(fake_line.rich_menus) == [fake_line.default_rich_menu] != [first_id]


async def test_push_takes_the_municipality_own_jpeg(
    fake_line: FakeLinePlatform, content_copy: Path, tmp_path: Path
) -> None:
    Image.new("RGB", (2500, 1686), (30, 90, 60)).save(content_copy / "menu.jpg", quality=80)
    _edit(content_copy / "richmenu.yaml", "image:\n", "image: menu.jpg\n")
    result = await asyncio.to_thread(run_cli, _push_env(tmp_path, fake_line, content_copy), "richmenu", "push")
    assert result.returncode == 0, result.stderr
    assert fake_line.default_rich_menu is not None
    data, content_type = fake_line.rich_menu_images[fake_line.default_rich_menu]
    assert content_type == "image/jpeg" and data == (content_copy / "menu.jpg").read_bytes()


async def test_a_failed_upload_leaves_the_old_menu_and_no_half_made_one(
    fake_line: FakeLinePlatform, tmp_path: Path
) -> None:
    env = _push_env(tmp_path, fake_line)
    assert (await asyncio.to_thread(run_cli, env, "richmenu", "push")).returncode == 0
    old = fake_line.default_rich_menu
    for _ in range(4):  # every attempt of the upload fails
        fake_line.add_fault("richmenu-image", {"status": 500})
    failed = await asyncio.to_thread(run_cli, env, "richmenu", "push")
    assert failed.returncode == 1 and "rich menu not installed" in failed.stderr
    assert fake_line.default_rich_menu == old and list(fake_line.rich_menus) == [old]


async def test_push_without_a_channel_token_says_what_is_missing(tmp_path: Path) -> None:
    result = await asyncio.to_thread(run_cli, cli_env(tmp_path), "richmenu", "push")
    assert result.returncode == 1 and "LINE_CHANNEL_ACCESS_TOKEN" in result.stderr


async def test_render_writes_the_picture_for_a_look_before_pushing(tmp_path: Path) -> None:
    out = tmp_path / "menu.png"
    result = await asyncio.to_thread(run_cli, cli_env(tmp_path), "richmenu", "render", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (2500, 1686)
