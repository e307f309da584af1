"""Reading content YAML while remembering where every value came from, so errors can say file:line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass
class ContentErrors:
    """Collects every problem found in content/ so one check reports them all at once."""

    items: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[str]:
        return iter(self.items)


class ContentError(Exception):
    """Content failed validation; str() lists each problem on its own file:line."""

    def __init__(self, errors: ContentErrors) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass
class Located:
    """A parsed YAML document plus the line of every mapping key and sequence item in it."""

    file: Path
    data: Any
    lines: dict[Path_, int]
    errors: ContentErrors
    # For block scalars (text: |-), the line where the text itself begins.
    block_starts: dict[Path_, int] = field(default_factory=dict)

    def where(self, path: Path_) -> str:
        """file:line of the nearest located ancestor of path."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return f"{self.file}:{line}"
        return f"{self.file}:1"

    def error(self, path: Path_, message: str) -> None:
        self.errors.add(self.where(path), message)

    def error_in_text(self, path: Path_, offset: int, message: str) -> None:
        """An error at character `offset` of the text at path: reported on that very line of a block."""
        start = self.block_starts.get(path)
        text = self.data
        for part in path:
            text = text[part]
        if start is None or not isinstance(text, str):
            self.error(path, message)
            return
        self.errors.add(f"{self.file}:{start + text.count(chr(10), 0, offset)}", message)


def read_yaml(file: Path, errors: ContentErrors) -> Located | None:
    """Parse one file; a syntax error is recorded with its line and None is returned."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        errors.add(f"{file}:1", "file is not UTF-8 text")
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        errors.add(f"{file}:{line}", f"YAML syntax error: {exc.problem or exc.context}")
        return None
    lines: dict[Path_, int] = {}
    blocks: dict[Path_, int] = {}
    data = _build(node, (), lines, blocks) if node is not None else None
    return Located(file=file, data=data, lines=lines, errors=errors, block_starts=blocks)


def _build(node: yaml.Node, path: Path_, lines: dict[Path_, int], blocks: dict[Path_, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        blocks[path] = node.start_mark.line + 2
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _build(value_node, (*path, key), lines, blocks)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, blocks) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return str(node.value)
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
