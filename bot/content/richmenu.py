"""content/richmenu.yaml: the menu of tiles under the chat. Each tile is one of responses.yaml's chips, so a
tap does exactly what the chip under a message does; the image is the municipality's own or drawn from the
tiles (bot/ops/richmenu.py)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from bot.content.model import QuickReplyOption
from bot.content.source import ContentErrors, Located, read_yaml
from bot.delivery.limits import RICH_MENU_CHAT_BAR_TEXT_MAX, RICH_MENU_IMAGE_MAX_BYTES, RICH_MENU_NAME_MAX

# The project's choices within LINE's limits (bot/delivery/limits.py): two sizes of LINE's templates, and how
# many tiles fit with a readable Thai caption.
SIZES = {"large": (2500, 1686), "compact": (2500, 843)}
ROWS = {"large": 2, "compact": 1}
COLUMNS_MAX = 4  # wider tiles than 625 px leave no room for a Thai label
CAPTION_MAX = 40
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True)
class Tile:
    chip: QuickReplyOption
    caption: str
    color: str

    def action(self) -> dict[str, str]:
        """LINE's action object for a tap: the chip's postback (shown as the resident's words) or its text."""
        if self.chip.postback:
            return {
                "type": "postback",
                "label": self.chip.label,
                "data": self.chip.postback,
                "displayText": self.chip.display or self.chip.label,
            }
        return {"type": "message", "label": self.chip.label, "text": self.chip.text or self.chip.label}


@dataclass(frozen=True)
class RichMenu:
    name: str
    chat_bar_text: str
    size: str  # large | compact
    columns: int
    open_by_default: bool
    tiles: tuple[Tile, ...]
    image: Path | None  # the municipality's own picture; None: drawn from the tiles

    @property
    def width(self) -> int:
        return SIZES[self.size][0]

    @property
    def height(self) -> int:
        return SIZES[self.size][1]

    def tile_boxes(self) -> list[tuple[int, int, int, int]]:
        """(x, y, width, height) of each tile, row by row; the last column and row take the rounding."""
        rows = ROWS[self.size]
        boxes = []
        for i in range(len(self.tiles)):
            row, col = divmod(i, self.columns)
            x0, x1 = self.width * col // self.columns, self.width * (col + 1) // self.columns
            y0, y1 = self.height * row // rows, self.height * (row + 1) // rows
            boxes.append((x0, y0, x1 - x0, y1 - y0))
        return boxes

    def line_object(self) -> dict[str, object]:
        """The rich menu object LINE's API takes."""
        return {
            "size": {"width": self.width, "height": self.height},
            "selected": self.open_by_default,
            "name": self.name,
            "chatBarText": self.chat_bar_text,
            "areas": [
                {"bounds": {"x": x, "y": y, "width": w, "height": h}, "action": tile.action()}
                for tile, (x, y, w, h) in zip(self.tiles, self.tile_boxes(), strict=True)
            ],
        }


def read_rich_menu(file: Path, chips: dict[str, QuickReplyOption], errors: ContentErrors) -> RichMenu | None:
    if not file.is_file():
        errors.add(f"{file}:1", "required file is missing")
        return None
    found_before = len(errors.items)
    src = read_yaml(file, errors)
    if src is None:
        return None
    data = src.data if isinstance(src.data, dict) else {}
    name, bar = data.get("name"), data.get("chat_bar_text")
    if not isinstance(name, str) or not 1 <= len(name) <= RICH_MENU_NAME_MAX:
        src.error(("name",), f"name: 1 to {RICH_MENU_NAME_MAX} characters (staff see it, residents do not)")
    if not isinstance(bar, str) or not 1 <= len(bar) <= RICH_MENU_CHAT_BAR_TEXT_MAX:
        src.error(("chat_bar_text",), f"chat_bar_text: 1 to {RICH_MENU_CHAT_BAR_TEXT_MAX} characters (LINE's limit)")
    size = data.get("size")
    if size not in SIZES:
        src.error(("size",), "size: large (two rows of tiles) or compact (one row)")
        size = "large"
    columns = data.get("columns")
    if not isinstance(columns, int) or not 1 <= columns <= COLUMNS_MAX:
        src.error(("columns",), f"columns: 1 to {COLUMNS_MAX}")
        columns = 1
    tiles = _tiles(src, data.get("tiles"), chips)
    if tiles and len(tiles) != columns * ROWS[str(size)]:
        src.error(("tiles",), f"a {size} menu of {columns} columns has {columns * ROWS[str(size)]} tiles")
    image = _image(src, data.get("image"), SIZES[str(size)])
    if len(errors.items) > found_before or not isinstance(name, str) or not isinstance(bar, str):
        return None
    return RichMenu(name, bar, str(size), columns, data.get("open_by_default") is not False, tiles, image)


def _tiles(src: Located, raw: object, chips: dict[str, QuickReplyOption]) -> tuple[Tile, ...]:
    if not isinstance(raw, list) or not raw:
        src.error(("tiles",), "tiles: a list of {chip, caption, color}")
        return ()
    tiles = []
    for i, item in enumerate(raw):
        path = ("tiles", i)
        fields = item if isinstance(item, dict) else {}
        chip = chips.get(str(fields.get("chip")))
        caption, color = fields.get("caption", ""), fields.get("color")
        if chip is None:
            src.error((*path, "chip"), f"chip: one of responses.yaml's quick_replies ({', '.join(chips)})")
        if not isinstance(caption, str) or len(caption) > CAPTION_MAX:
            src.error((*path, "caption"), f"caption: at most {CAPTION_MAX} characters")
        if not isinstance(color, str) or not _COLOR.match(color):
            src.error((*path, "color"), 'color: "#RRGGBB", dark enough for white letters')
        if chip is not None and isinstance(caption, str) and isinstance(color, str):
            tiles.append(Tile(chip, caption, color))
    return tuple(tiles)


def _image(src: Located, raw: object, size: tuple[int, int]) -> Path | None:
    """The municipality's own picture, checked as LINE will check it."""
    if raw in (None, ""):
        return None
    path = src.file.parent / str(raw)
    if not path.is_file():
        src.error(("image",), f"image: {path.name} is not in {src.file.parent}")
        return None
    data = path.read_bytes()
    if len(data) > RICH_MENU_IMAGE_MAX_BYTES:
        src.error(("image",), f"image: {len(data):,} bytes; LINE takes at most 1 MB")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind, actual = picture.format, picture.size
    except UnidentifiedImageError:
        src.error(("image",), "image: not a picture PIL can read")
        return None
    if kind not in _IMAGE_TYPES:
        src.error(("image",), "image: PNG or JPEG only")
    if actual != size:
        src.error(("image",), f"image: {actual[0]}x{actual[1]} pixels; this menu's size needs {size[0]}x{size[1]}")
    return path


def image_type(data: bytes) -> str:
    """The content type LINE needs for an image's bytes (PNG or JPEG)."""
    with Image.open(io.BytesIO(data)) as picture:
        return _IMAGE_TYPES[str(picture.format)]
