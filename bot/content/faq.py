"""content/faq/<service_id>.yaml: the specific questions residents ask about one service, each with its
phrasings, a short answer, its sources and how certain it is; validated entry by entry with file:line errors.

A service card answers "how does this work" in general; these answer one question ("ย้ายบ้านแล้วเบี้ยยังได้ไหม")
so the reader can reply with the one fact asked for instead of the whole card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.services import CERTAINTIES, ServiceEntry
from bot.content.source import ContentErrors, Located, read_yaml
from bot.delivery.limits import TEXT_MAX_UTF16, utf16_len

MIN_EXAMPLES = 3
# An answer and the certainty note after it (responses.yaml faq_note_*) are one LINE text message.
NOTE_ROOM = 300
ANSWER_MAX = TEXT_MAX_UTF16 - NOTE_ROOM
_KEYS = ("id", "question", "examples", "answer", "sources", "certainty")
# A slug is what follows "<service_id>." in the public id: short, lowercase, safe in postback data.
_SLUG = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


@dataclass(frozen=True)
class FaqEntry:
    """One frequently asked question about a service and its answer, as staff wrote it."""

    id: str  # "<service_id>.<slug>"
    service_id: str
    question: str
    examples: tuple[str, ...]
    answer: str
    sources: tuple[str, ...]
    certainty: str

    @property
    def phrasings(self) -> tuple[str, ...]:
        """Every way residents ask it: the question itself first, then the examples."""
        return (self.question, *self.examples)


def read_faq(
    directory: Path, services: dict[str, ServiceEntry], phrases: dict[str, str], errors: ContentErrors
) -> dict[str, FaqEntry]:
    """Every faq/*.yaml file, keyed by public id; the directory is optional (a municipality may have none).

    `phrases` are responses.yaml's: an answer that is not `seen` is said with its faq_note_<certainty>."""
    if not directory.is_dir():
        return {}
    entries: dict[str, FaqEntry] = {}
    for file in sorted(directory.glob("*.yaml")):
        src = read_yaml(file, errors)
        if src is None:
            continue
        if file.stem not in services and not _service_failed(file, errors):
            src.error((), f"no service '{file.stem}': name the file after one in services/ (elderly_allowance.yaml)")
            continue
        for entry in _entries(src, file.stem, phrases):
            entries[entry.id] = entry
    return entries


def _service_failed(file: Path, errors: ContentErrors) -> bool:
    """The service file exists but has errors of its own: those are reported already, not this file."""
    service_file = file.parent.parent / "services" / file.name
    return service_file.is_file() and any(item.startswith(f"{service_file}:") for item in errors)


def _entries(src: Located, service_id: str, phrases: dict[str, str]) -> list[FaqEntry]:
    if not isinstance(src.data, list):
        src.error((), "an FAQ file is a list of entries, each starting with '- id: ...'")
        return []
    result: list[FaqEntry] = []
    seen: set[str] = set()
    for i, item in enumerate(src.data):
        entry = _entry(src, service_id, i, item, phrases)
        if entry is None:
            continue
        if entry.id in seen:
            src.error((i, "id"), f"id '{entry.id.split('.', 1)[1]}' is used twice in this file")
            continue
        seen.add(entry.id)
        result.append(entry)
    return result


def _entry(src: Located, service_id: str, i: int, item: object, phrases: dict[str, str]) -> FaqEntry | None:
    if not isinstance(item, dict):
        src.error((i,), f"each entry needs {', '.join(_KEYS)}")
        return None
    before = len(src.errors.items)
    for key in _KEYS:
        if key not in item:
            src.error((i,), f"'{key}' is required")
    for key in item:
        if key not in _KEYS:
            src.error((i, key), f"unknown field '{key}'")
    slug = item.get("id")
    if "id" in item and (not isinstance(slug, str) or not _SLUG.match(slug)):
        src.error((i, "id"), "id must be a slug: lowercase letters, digits and single underscores (moved_house)")
    question = _text(src, item, i, "question")
    answer = _text(src, item, i, "answer")
    if answer is not None and utf16_len(answer) > ANSWER_MAX:
        src.error(
            (i, "answer"),
            f"answer is {utf16_len(answer)} UTF-16 units; LINE's limit is {TEXT_MAX_UTF16} and the note "
            f"about certainty needs room: at most {ANSWER_MAX} (and a resident reads a few lines)",
        )
    examples = _texts(src, item, i, "examples")
    if "examples" in item and len(examples) < MIN_EXAMPLES:
        src.error((i, "examples"), f"give at least {MIN_EXAMPLES} other ways residents ask it")
    sources = _texts(src, item, i, "sources")
    certainty = item.get("certainty")
    if "certainty" in item and certainty not in CERTAINTIES:
        src.error((i, "certainty"), f"certainty must be one of {', '.join(CERTAINTIES)}")
    elif phrases and certainty != "seen" and f"faq_note_{certainty}" not in phrases:
        src.error((i, "certainty"), f"responses.yaml needs the phrase 'faq_note_{certainty}' to say this answer")
    if len(src.errors.items) > before or question is None or answer is None:
        return None
    return FaqEntry(
        id=f"{service_id}.{slug}",
        service_id=service_id,
        question=question,
        examples=examples,
        answer=answer,
        sources=sources,
        certainty=str(certainty),
    )


def _text(src: Located, item: dict[str, Any], i: int, key: str) -> str | None:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        if key in item:
            src.error((i, key), f"'{key}' must be a non-empty text")
        return None
    return value.strip()


def _texts(src: Located, item: dict[str, Any], i: int, key: str) -> tuple[str, ...]:
    value = item.get(key)
    if key not in item:
        return ()
    if not isinstance(value, list) or not value:
        src.error((i, key), f"'{key}' must be a list of texts")
        return ()
    result = []
    for j, text in enumerate(value):
        if not isinstance(text, str) or not text.strip():
            src.error((i, key, j), f"each item of '{key}' must be a non-empty text")
            continue
        result.append(text.strip())
    return tuple(result)
