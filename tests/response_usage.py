"""Where the code under bot/ names a message, phrase or chip of content/responses.yaml, read from its syntax
tree (nothing is imported or run): the evidence tests/test_response_ids.py holds bot/content/ids.py to.

Recognised forms (the id is a literal or an f-string; an f-string's {...} parts become a glob '*'):
    turn.say("id", **params)              builder.text("id", ...)   MessageBuilder(c).text("id", ...)   message
    self.phrase("id", ...)  phrase(turn, "id", ...)  chip(turn, "id", data)  says(turn, "id")          phrase
    words(content, "id")  content.phrases["id"].format(...)  phrases.get("id")                           phrase
    builder.chip("id")                                                                                   chip
Any other string literal equal to an id of today's content is reported as a loose mention (an id kept in a
table or returned, said later through a variable).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["message", "phrase", "chip"]

# Function name -> (kind, which positional argument is the id). "phrase" and "chip" take the id first as
# methods (self.phrase("x"), builder.chip("x")) and second as helpers (phrase(turn, "x"), chip(turn, "x", d)).
_BY_NAME: dict[str, tuple[Kind, int]] = {
    "say": ("message", 0),
    "says": ("phrase", 1),
    "words": ("phrase", 1),
    "_words": ("phrase", 1),
    "_chip": ("phrase", 1),
}


@dataclass(frozen=True)
class Use:
    kind: Kind
    literal: str | None  # the id as written, when it is a plain literal
    pattern: str | None  # an f-string as a glob ('rsvp_saved_*'), when it is not
    params: frozenset[str] | None  # keyword arguments given; None when some come from **mapping
    where: str  # file:line

    @property
    def shown(self) -> str:
        return self.literal if self.literal is not None else f"f-string {self.pattern}"


@dataclass(frozen=True)
class Mention:
    text: str
    where: str


def _ids_of(node: ast.expr) -> list[tuple[str | None, str | None, ast.AST]]:
    """(literal, None, node) or (None, glob, node) for each id the expression may be: a string literal, an
    f-string, or either branch of `"a" if x else "b"`; empty for anything else (a variable, a lookup)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.value, None, node)]
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else "*" for v in node.values]
        return [(None, "".join(str(p) for p in parts), node)]
    if isinstance(node, ast.IfExp):
        return _ids_of(node.body) + _ids_of(node.orelse)
    return []


def _params(call: ast.Call) -> frozenset[str] | None:
    if any(k.arg is None for k in call.keywords):
        return None
    return frozenset(k.arg for k in call.keywords if k.arg is not None)


def _classify(call: ast.Call) -> tuple[Kind, int] | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name is None:
        return None
    first_is_id = bool(call.args) and bool(_ids_of(call.args[0]))
    if name == "text" and isinstance(func, ast.Attribute):
        owner = ast.unparse(func.value)
        if owner.endswith("builder") or owner.startswith("MessageBuilder("):
            return ("message", 0)
        return None
    if name == "phrase":
        return ("phrase", 0) if first_is_id else ("phrase", 1)
    if name == "chip":
        return ("chip", 0) if first_is_id and isinstance(func, ast.Attribute) else ("phrase", 1)
    return _BY_NAME.get(name)


_LOOKED_UP: dict[str, Kind] = {"phrases": "phrase", "responses": "message", "quick_replies": "chip"}


def _lookup(node: ast.AST) -> tuple[Kind, ast.expr] | None:
    """The kind and key of content.phrases["id"] / phrases.get("id") / content.quick_replies["id"]."""
    if isinstance(node, ast.Subscript):
        kind = _LOOKED_UP.get(ast.unparse(node.value).split(".")[-1])
        return (kind, node.slice) if kind else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        kind = _LOOKED_UP.get(ast.unparse(node.func.value).split(".")[-1])
        return (kind, node.args[0]) if kind else None
    return None


def _format_params(parent: ast.AST | None, grand: ast.AST | None) -> frozenset[str] | None:
    """Keywords of the .format(...) applied to a looked-up phrase (none when it is used as it is)."""
    if isinstance(parent, ast.Attribute) and isinstance(grand, ast.Call) and parent.attr in ("format", "format_map"):
        if parent.attr == "format":
            return _params(grand)
        mapping = grand.args[0] if grand.args else None
        if isinstance(mapping, ast.Dict) and all(k is None or isinstance(k, ast.Constant) for k in mapping.keys):
            return frozenset(str(k.value) for k in mapping.keys if isinstance(k, ast.Constant))
        return None
    return frozenset()


def scan(root: Path) -> tuple[list[Use], list[Mention]]:
    """Every recognised use under root (a package directory), and every other string literal."""
    uses: list[Use] = []
    mentions: list[Mention] = []
    for file in sorted(root.rglob("*.py")):
        uses_here, mentions_here = _scan_file(file, root.parent)
        uses += uses_here
        mentions += mentions_here
    return uses, mentions


def _scan_file(file: Path, base: Path) -> tuple[list[Use], list[Mention]]:
    tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    name = file.relative_to(base).as_posix()
    uses: list[Use] = []
    taken: set[ast.AST] = set()
    for node in ast.walk(tree):
        for use, id_node in _uses_at(node, parents, name):
            uses.append(use)
            taken.add(id_node)
    mentions = [
        Mention(n.value, f"{name}:{n.lineno}")
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and n not in taken
        and not isinstance(parents.get(n), ast.JoinedStr)
    ]
    return uses, mentions


def _uses_at(node: ast.AST, parents: dict[ast.AST, ast.AST], file: str) -> Iterator[tuple[Use, ast.AST]]:
    looked_up = _lookup(node)
    if looked_up is not None:
        parent = parents.get(node)
        params = _format_params(parent, parents.get(parent) if parent is not None else None)
        line = f"{file}:{node.lineno}"  # type: ignore[attr-defined]
        for literal, pattern, id_node in _ids_of(looked_up[1]):
            yield Use(looked_up[0], literal, pattern, params, line), id_node
        return
    if not isinstance(node, ast.Call):
        return
    rule = _classify(node)
    if rule is None or len(node.args) <= rule[1]:
        return
    for literal, pattern, id_node in _ids_of(node.args[rule[1]]):
        yield Use(rule[0], literal, pattern, _params(node), f"{file}:{node.lineno}"), id_node


def iter_literal_mentions(mentions: list[Mention], ids: set[str]) -> Iterator[Mention]:
    """The loose mentions that are ids of today's content."""
    return (m for m in mentions if m.text in ids)
