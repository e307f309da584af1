"""`python -m bot richmenu render|push`: the tiles of content/richmenu.yaml drawn as the menu's picture (unless
the municipality supplies its own) and installed on the LINE channel as every friend's default menu."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont, features

from bot.content.richmenu import RichMenu, image_type

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.delivery.line import LineGateway

# The command line builds its parser on every command: the LINE SDK (a second and a half to import) is
# imported only when a menu is pushed.

# Fonts with Thai letters, as Debian and Ubuntu install them (fonts-thai-tlwg, fonts-noto-core); RICHMENU_FONT
# names another .ttf/.otf file.
THAI_FONTS = (
    "/usr/share/fonts/truetype/tlwg/Loma-Bold.ttf",
    "/usr/share/fonts/opentype/tlwg/Loma-Bold.otf",
    "/usr/share/fonts/truetype/noto/NotoSansThai-Bold.ttf",
    "/usr/share/fonts/truetype/tlwg/Garuda-Bold.ttf",
    "/usr/share/fonts/opentype/tlwg/Garuda-Bold.otf",
)
LABEL_PX, CAPTION_PX = 120, 62
MARGIN = 0.08  # of a tile's width, kept clear on each side of the text
GRID_LINE_PX = 6


class RichMenuError(Exception):
    """Something an operator must fix: no Thai font, no LINE credentials, LINE refusing the menu."""


def find_thai_font() -> Path:
    chosen = os.environ.get("RICHMENU_FONT")
    for candidate in ([chosen] if chosen else []) + list(THAI_FONTS):
        if Path(candidate).is_file():
            return Path(candidate)
    raise RichMenuError(
        "no font with Thai letters found: install Debian's fonts-thai-tlwg, set RICHMENU_FONT to a .ttf file, "
        "or put the municipality's own picture in content/ and name it under image: in content/richmenu.yaml"
    )


def picture(menu: RichMenu) -> bytes:
    """The menu's image as LINE will show it: the municipality's file, or tiles drawn from content."""
    if menu.image is not None:
        return menu.image.read_bytes()
    font_file = find_thai_font()
    # Thai vowels and tone marks sit above and below consonants; libraqm places them properly.
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    canvas = Image.new("RGB", (menu.width, menu.height), "white")
    draw = ImageDraw.Draw(canvas)
    boxes = menu.tile_boxes()
    # One size for every label and one for every caption (the largest at which all fit): a calm grid.
    tightest = min(w for _, _, w, _ in boxes)
    label = _fitted(draw, [t.chip.label for t in menu.tiles], font_file, LABEL_PX, tightest, layout)
    caption = _fitted(draw, [t.caption for t in menu.tiles], font_file, CAPTION_PX, tightest, layout)
    for tile, (x, y, w, h) in zip(menu.tiles, boxes, strict=True):
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=tile.color, outline="white", width=GRID_LINE_PX // 2)
        centre_x = x + w / 2
        if tile.caption:
            draw.text((centre_x, y + h * 0.45), tile.chip.label, font=label, fill="white", anchor="ms")
            draw.text((centre_x, y + h * 0.62), tile.caption, font=caption, fill="#f2f2f2", anchor="ms")
        else:
            draw.text((centre_x, y + h / 2), tile.chip.label, font=label, fill="white", anchor="mm")
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _fitted(
    draw: ImageDraw.ImageDraw, texts: list[str], font_file: Path, size: int, width: int, layout: ImageFont.Layout
) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` at which every text fits a tile's width inside its margins."""
    room = width * (1 - 2 * MARGIN)
    while True:
        font = ImageFont.truetype(str(font_file), size, layout_engine=layout)
        if all(draw.textlength(text, font=font) <= room for text in texts) or size <= 24:
            return font
        size -= 4


@dataclass(frozen=True)
class Pushed:
    rich_menu_id: str
    replaced: tuple[str, ...]  # earlier menus of the same name, deleted


async def push(menu: RichMenu, image: bytes, line: LineGateway) -> Pushed:
    """Create the menu, attach its picture, make it every friend's default, then delete the menus it replaces.
    A failure before it becomes the default removes the half-made one and leaves the old menu in place."""
    from bot.delivery.line import LineSendError

    body = menu.line_object()
    await line.validate_rich_menu(body)
    new_id = await line.create_rich_menu(body)
    try:
        await line.set_rich_menu_image(new_id, image, image_type(image))
        await line.set_default_rich_menu(new_id)
    except LineSendError:
        await line.delete_rich_menu(new_id)
        raise
    replaced = tuple(
        m["richMenuId"] for m in await line.rich_menus() if m.get("name") == menu.name and m["richMenuId"] != new_id
    )
    for old in replaced:
        await line.delete_rich_menu(old)
    return Pushed(new_id, replaced)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    richmenu = commands.add_parser("richmenu", help="the menu of tiles under the chat (content/richmenu.yaml)")
    actions = richmenu.add_subparsers(dest="richmenu_command", required=True)
    render = actions.add_parser("render", help="write the menu's picture to a file, to look at before pushing")
    render.add_argument("--out", type=Path, required=True)
    actions.add_parser("push", help="install the menu on the LINE channel as every friend's default")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.content import ContentError, load_content
    from bot.delivery.line import LineSendError

    try:
        menu = load_content(settings.content_dir).rich_menu
        image = picture(menu)
        if args.richmenu_command == "render":
            args.out.write_bytes(image)
            print(f"{args.out}: {menu.width}x{menu.height}, {len(image):,} bytes")
            return 0
        pushed = asyncio.run(_push(settings, menu, image))
    except ContentError as exc:
        print("content/ has errors:\n" + str(exc), file=sys.stderr)
        return 1
    except (RichMenuError, LineSendError) as exc:
        print(f"rich menu not installed: {exc}", file=sys.stderr)
        return 1
    print(f"rich menu {pushed.rich_menu_id} is now every friend's default ({len(pushed.replaced)} older removed)")
    return 0


async def _push(settings: Settings, menu: RichMenu, image: bytes) -> Pushed:
    if settings.line_channel_access_token is None:
        raise RichMenuError("LINE_CHANNEL_ACCESS_TOKEN is not set (the channel's long-lived access token)")
    from bot.delivery.line import LineGateway

    line = LineGateway.for_channel(settings)
    try:
        return await push(menu, image, line)
    finally:
        await line.close()
