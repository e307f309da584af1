"""content/referrals.yaml: questions the municipality does not handle, each with the agency that does, its
hotline and what the municipality can still help with; validated with file:line errors."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.model import MUNICIPALITY_PLACEHOLDERS, Municipality
from bot.content.services import ServiceEntry
from bot.content.source import ContentErrors, Located, read_yaml
from bot.delivery.limits import TEXT_MAX_UTF16, utf16_len

MIN_EXAMPLES = 5
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_FIELDS = ("name", "examples", "answer", "sources", "related", "offers_report")


@dataclass(frozen=True)
class RelatedService:
    """A service of the municipality's own that a referral offers as a chip (its label is the chip's)."""

    id: str
    label: str


@dataclass(frozen=True)
class Referral:
    """Who handles a question that is not the municipality's work. `answer` is ready to send: the
    municipality's details ({short_name}, {phone}, ...) are filled in when content is loaded."""

    id: str
    name: str
    examples: tuple[str, ...]
    answer: str
    sources: tuple[str, ...]
    related: tuple[RelatedService, ...] = ()
    offers_report: bool = False


def read_referrals(
    file: Path, municipality: Municipality | None, services: dict[str, ServiceEntry], errors: ContentErrors
) -> dict[str, Referral]:
    """Every entry of referrals.yaml; the file is optional (no referrals: out-of-scope questions are declined)."""
    if not file.is_file():
        return {}
    src = read_yaml(file, errors)
    if src is None:
        return {}
    raw = src.data.get("referrals") if isinstance(src.data, dict) else None
    if not isinstance(raw, dict):
        src.error((), "expected a 'referrals' mapping of id -> entry")
        return {}
    values = municipality.placeholders() if municipality else {k: "" for k in MUNICIPALITY_PLACEHOLDERS}
    referrals: dict[str, Referral] = {}
    for rid, item in raw.items():
        referral = _referral(src, str(rid), item, values, services)
        if referral is not None:
            referrals[referral.id] = referral
    _check_examples_unique(src, raw)
    return referrals


def _check_examples_unique(src: Located, raw: dict[Any, Any]) -> None:
    """One phrasing teaching two agencies would make the reader pick between them at random."""
    owner: dict[str, str] = {}
    for rid, item in raw.items():
        examples = item.get("examples") if isinstance(item, dict) else None
        for i, example in enumerate(examples if isinstance(examples, list) else []):
            if not isinstance(example, str):
                continue
            key = "".join(example.split()).casefold()
            if owner.setdefault(key, str(rid)) != str(rid):
                src.error(("referrals", rid, "examples", i), f"'{example}' is already an example of '{owner[key]}'")


def _referral(
    src: Located, rid: str, item: object, values: dict[str, str], services: dict[str, ServiceEntry]
) -> Referral | None:
    path: tuple[str | int, ...] = ("referrals", rid)
    if not _ID.match(rid):
        src.error(path, f"referral id '{rid}' must be lower-case letters, digits and _ (e.g. driving_licence)")
        return None
    if not isinstance(item, dict):
        src.error(path, "a referral needs name, examples, answer and sources")
        return None
    before = len(src.errors.items)
    for key in item:
        if key not in _FIELDS:
            src.error((*path, key), f"unknown field '{key}'; the fields are {', '.join(_FIELDS)}")
    name = _text(src, path, item, "name")
    examples = _texts(src, path, item, "examples")
    if "examples" in item and len(examples) < MIN_EXAMPLES:
        src.error((*path, "examples"), f"give at least {MIN_EXAMPLES} ways residents ask about this")
    answer = _answer(src, path, item, values)
    sources = _texts(src, path, item, "sources")
    related = _related(src, path, item, services)
    offers_report = item.get("offers_report", False)
    if not isinstance(offers_report, bool):
        src.error((*path, "offers_report"), "offers_report must be true or false")
    if len(src.errors.items) > before or name is None or answer is None:
        return None
    return Referral(
        id=rid,
        name=name,
        examples=examples,
        answer=answer,
        sources=sources,
        related=related,
        offers_report=bool(offers_report),
    )


def _text(src: Located, path: tuple[str | int, ...], item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        src.error((*path, key) if key in item else path, f"'{key}' must be a non-empty text")
        return None
    return value.strip()


def _texts(src: Located, path: tuple[str | int, ...], item: dict[str, Any], key: str) -> tuple[str, ...]:
    value = item.get(key)
    if not isinstance(value, list) or not value:
        src.error((*path, key) if key in item else path, f"'{key}' must be a list of texts")
        return ()
    result = []
    for i, text in enumerate(value):
        if not isinstance(text, str) or not text.strip():
            src.error((*path, key, i), f"each item of '{key}' must be a non-empty text")
            continue
        result.append(text.strip())
    return tuple(result)


def _answer(src: Located, path: tuple[str | int, ...], item: dict[str, Any], values: dict[str, str]) -> str | None:
    """The answer with the municipality's details filled in; an unknown {placeholder} is an error on its line."""
    text = _text(src, path, item, "answer")
    if text is None:
        return None
    where = (*path, "answer")
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        src.error(where, f"broken {{placeholder}}: {exc}")
        return None
    unknown = [n for n in names if n not in values]
    for name in unknown:
        src.error_in_text(
            where, text.find("{" + name), f"unknown placeholder {{{name}}}; use {', '.join(sorted(values))}"
        )
    if unknown:
        return None
    answer = text.format_map(values)
    if utf16_len(answer) > TEXT_MAX_UTF16:
        src.error(where, f"the answer is longer than LINE's {TEXT_MAX_UTF16} UTF-16 units")
        return None
    return answer


def _related(
    src: Located, path: tuple[str | int, ...], item: dict[str, Any], services: dict[str, ServiceEntry]
) -> tuple[RelatedService, ...]:
    if "related" not in item:
        return ()
    value = item["related"]
    if not isinstance(value, list):
        src.error((*path, "related"), "'related' must be a list of service ids (files in services/)")
        return ()
    related = []
    for i, sid in enumerate(value):
        service = services.get(str(sid))
        if service is None:
            src.error((*path, "related", i), f"unknown service '{sid}'")
            continue
        related.append(RelatedService(id=service.id, label=service.label))
    return tuple(related)
