"""LINE's documented limits have one home, bot/delivery/limits.py, so a figure LINE changes is changed once.

No other module under bot/ may assign, at module level, a constant that restates one of them: a name that
limits.py defines, a limit-like name (a MAX, MIN or LIMIT word) about something LINE limits (quick replies, flex,
labels, rich menus, text, links, ...), or a name about such a thing set to one of LINE's figures. A project's own,
lower cap is fine under a name of its own (bot/handlers/hearings/cards.py's NOTIFICATION_ALT_CHARS). limits.py
imports nothing from bot/, so content checks, delivery and the fake LINE platform can all import it without tying
the layers together.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
HOME = BOT / "delivery" / "limits.py"
# What a name is about when it is about something LINE limits.
LINE_WORDS = re.compile(
    r"QUICK_?REPLY|ALT_?TEXT|FLEX|BUBBLE|CAROUSEL|POSTBACK|LABEL|MULTICAST|RECIPIENTS|RICH_?MENU|CHAT_?BAR|UTF16"
    r"|MESSAGES_PER|LOADING_SECONDS"
)
# Words too common to count alone, but LINE's when the name is a limit (TEXT_MAX, URI_MAX).
LIMITED_WORDS = re.compile(r"TEXT|URI|LINK")
LIMIT_WORD = re.compile(r"(?:^|_)(?:MAX|MIN|LIMIT)(?:_|$)")
# Restatements in modules others own, each with why it is still there; an entry that is gone fails below, so
# this list only shrinks.
KNOWN: dict[tuple[str, str], str] = {
    ("bot/chat/messages.py", "LINK_MAX"): "LINE's 1,000 characters for a uri action, not yet in limits.py",
}


def assignments(tree: ast.Module) -> list[tuple[str, ast.expr | None, int]]:
    """(name, value, line) of every module-level assignment to a plain name."""
    found: list[tuple[str, ast.expr | None, int]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            found += [(t.id, node.value, node.lineno) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.append((node.target.id, node.value, node.lineno))
    return found


def number(node: ast.expr | None) -> float | None:
    """The value of a number written out (30_000, 1024 * 1024, 2 * 1024 * 1024); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp):
        left, right = number(node.left), number(node.right)
        if left is not None and right is not None:
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
    return None


def limits() -> dict[str, float]:
    """LINE's limits as limits.py states them: name -> figure."""
    tree = ast.parse(HOME.read_text(encoding="utf-8"))
    found = {name: number(value) for name, value, _ in assignments(tree)}
    return {name: value for name, value in found.items() if value is not None}


def restatements(path: Path, source: str, home: dict[str, float]) -> list[str]:
    """'path:line NAME = ...' for each module-level constant of this file that restates a LINE limit."""
    figures = set(home.values())
    found = []
    for name, value, line in assignments(ast.parse(source, filename=str(path))):
        upper = name.upper().strip("_")
        limit_like = bool(LIMIT_WORD.search(upper))
        about_line = bool(LINE_WORDS.search(upper))
        restates_figure = about_line and number(value) in figures
        if name in home or restates_figure or (limit_like and (about_line or LIMITED_WORDS.search(upper))):
            found.append(f"{path}:{line} {name}")
    return found


def scattered() -> list[str]:
    home = limits()
    found = []
    for path in sorted(BOT.rglob("*.py")):
        if path == HOME or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(BOT.parent).as_posix()
        for hit in restatements(Path(relative), path.read_text(encoding="utf-8"), home):
            if (relative, hit.rsplit(" ", 1)[1]) not in KNOWN:
                found.append(hit)
    return found


def test_the_checker_sees_a_restated_limit() -> None:
    home = {"QUICK_REPLY_ITEMS_MAX": 13, "RICH_MENU_IMAGE_MAX_BYTES": 1024 * 1024, "ALT_TEXT_MAX": 1500}
    source = (
        "QUICK_REPLY_ITEMS_MAX = 13\n"  # a name limits.py defines
        "CHIP_LABEL_MAX = 20\n"  # a LINE-ish limit name, whatever its value
        "_RICH_MENU_MAX_AREAS: int = 20\n"
        "FLEX_ALT_TEXT = 1500\n"  # no MAX in the name, but LINE's figure
        "_MAX_TEXT = 5000\n"  # a limit on text
        "_SLICE_TEXTS = 300\n"  # a count of texts, not a limit
        "MENU_IMAGE_BYTES = 1024 * 1024\n"  # not about anything LINE-ish by name: not a restatement
        "NOTIFICATION_ALT_CHARS = 400\n"  # the project's own cap, named as such
        "MAX_LISTED = 5\n"
        "def f():\n    LABEL_MAX = 20\n"  # not module level
    )
    assert restatements(Path("bot/x.py"), source, home) == [
        "bot/x.py:1 QUICK_REPLY_ITEMS_MAX",
        "bot/x.py:2 CHIP_LABEL_MAX",
        "bot/x.py:3 _RICH_MENU_MAX_AREAS",
        "bot/x.py:4 FLEX_ALT_TEXT",
        "bot/x.py:5 _MAX_TEXT",
    ]


def test_limits_py_states_lines_limits() -> None:
    home = limits()
    for name in ("QUICK_REPLY_ITEMS_MAX", "QUICK_REPLY_LABEL_MAX", "TEXT_MAX_UTF16", "ALT_TEXT_MAX"):
        assert name in home, f"bot/delivery/limits.py should state {name}"


def test_no_module_under_bot_restates_a_line_limit() -> None:
    found = scattered()
    assert not found, "LINE's limits belong in bot/delivery/limits.py; import them from there:\n" + "\n".join(found)


def test_every_known_restatement_is_still_there() -> None:
    home = limits()
    for (relative, name), why in sorted(KNOWN.items()):
        path = BOT.parent / relative
        hits = restatements(Path(relative), path.read_text(encoding="utf-8"), home) if path.is_file() else []
        gone = f"{relative} no longer restates a limit as {name} ({why}): drop it from KNOWN"
        assert any(hit.endswith(f" {name}") for hit in hits), gone


def test_limits_py_imports_nothing_from_bot_and_explains_each_limit() -> None:
    source = HOME.read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += ["." * node.level + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    from_bot = [name for name in imported if name == "bot" or name.startswith(("bot.", "."))]
    assert not from_bot, f"bot/delivery/limits.py imports {from_bot}: it must import nothing from bot/"
    lines = source.splitlines()
    for name, _, line in assignments(tree):
        here, before = lines[line - 1], lines[line - 2] if line > 1 else ""
        assert "#" in here or before.lstrip().startswith("#"), f"limits.py:{line} {name}: say what LINE documents"
