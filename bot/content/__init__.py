"""Loads and validates content/: everything the municipality writes and the bot says, as frozen objects.

Every problem is reported as `file:line: message`, all at once, so staff can fix a file in one pass.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.content.faq import FaqEntry, read_faq
from bot.content.model import (
    Content,
    Division,
    Municipality,
    PlanCategory,
    QuickReplyOption,
    ResponseTemplate,
    Village,
)
from bot.content.office import read_office
from bot.content.participation import read_consultations, read_privacy, read_report_kinds
from bot.content.reading import read_reading
from bot.content.referrals import Referral, read_referrals
from bot.content.responses import read_responses
from bot.content.richmenu import RichMenu, read_rich_menu
from bot.content.services import ServiceEntry, read_services
from bot.content.source import ContentError, ContentErrors, Located, read_yaml
from bot.content.staff_labels import StaffLabels, read_staff_labels
from bot.delivery.limits import QUICK_REPLY_LABEL_MAX

__all__ = [
    "Content",
    "ContentError",
    "Division",
    "FaqEntry",
    "Municipality",
    "QuickReplyOption",
    "Referral",
    "ResponseTemplate",
    "RichMenu",
    "ServiceEntry",
    "StaffLabels",
    "Village",
    "check_content",
    "load_content",
]


def check_content(content_dir: Path) -> tuple[Content | None, list[str]]:
    """Validate every file; return the content (None when anything is wrong) and the list of errors."""
    errors = ContentErrors()
    municipality = _read_municipality(content_dir / "municipality.yaml", errors)
    located = _read_required(content_dir / "responses.yaml", errors)
    quick, responses, phrases = read_responses(located) if located else ({}, {}, {})
    commands = _read_commands(content_dir / "commands.yaml", errors)
    divisions = {d.id: d for d in municipality.divisions} if municipality else {}
    services = read_services(content_dir / "services", divisions, errors)
    faq = read_faq(content_dir / "faq", services, phrases, errors)
    intents, aspects, featured = _read_intents(content_dir / "intents.yaml", errors)
    extra_holidays, working_days = _read_calendar(content_dir / "calendar.yaml", errors)
    categories = _read_categories(content_dir / "categories.yaml", errors)
    villages = {v.no for v in municipality.villages} if municipality else set()
    consultations = read_consultations(content_dir / "consultations", villages, errors)
    privacy = read_privacy(content_dir / "privacy.yaml", errors)
    divisions_by_id = {d.id: d for d in municipality.divisions} if municipality else {}
    report_types, report_statuses = read_report_kinds(content_dir / "reports.yaml", divisions_by_id, errors)
    rich_menu = read_rich_menu(content_dir / "richmenu.yaml", quick, errors)
    referrals = read_referrals(content_dir / "referrals.yaml", municipality, services, errors)
    office = read_office(content_dir / "office.yaml", content_dir / "calendar.yaml", errors)
    reading = read_reading(content_dir / "reading.yaml", errors)
    staff_labels = read_staff_labels(content_dir / "staff.yaml", errors)
    if errors or municipality is None or privacy is None or rich_menu is None:
        return None, list(errors)
    return Content(
        municipality=municipality,
        quick_replies=quick,
        responses=responses,
        commands=commands,
        services=services,
        intents=intents,
        aspects=aspects,
        phrases=phrases,
        featured_services=featured,
        extra_holidays=extra_holidays,
        working_days=working_days,
        categories=categories,
        consultations=consultations,
        privacy=privacy,
        report_types=report_types,
        report_statuses=report_statuses,
        rich_menu=rich_menu,
        referrals=referrals,
        office=office,
        reading=reading,
        faq=faq,
        staff_labels=staff_labels,
    ), []


# The six dimensions of a livable city in the Department of Local Administration's strategy.
PLAN_CATEGORIES = ("physical", "economy", "society_environment", "politics_administration", "safety_order", "virtue")


def _read_categories(file: Path, errors: ContentErrors) -> dict[str, PlanCategory]:
    src = _read_required(file, errors)
    if src is None:
        return {}
    raw = src.data.get("categories") if isinstance(src.data, dict) else None
    if not isinstance(raw, dict):
        src.error((), "expected a 'categories' mapping")
        return {}
    categories: dict[str, PlanCategory] = {}
    for cid, item in raw.items():
        path = ("categories", cid)
        if cid not in PLAN_CATEGORIES:
            src.error(path, f"unknown category '{cid}'; the categories are {', '.join(PLAN_CATEGORIES)}")
            continue
        fields = {k: item.get(k) if isinstance(item, dict) else None for k in ("label", "short", "description")}
        examples = item.get("examples") if isinstance(item, dict) else None
        if not all(isinstance(v, str) and v.strip() for v in fields.values()):
            src.error(path, "a category needs label, short and description")
            continue
        if len(str(fields["short"])) > QUICK_REPLY_LABEL_MAX:
            src.error((*path, "short"), f"short is a button label: at most {QUICK_REPLY_LABEL_MAX} characters")
        if not isinstance(examples, list) or len(examples) < 3 or not all(isinstance(e, str) for e in examples):
            src.error((*path, "examples"), "give at least 3 example opinions")
            continue
        categories[str(cid)] = PlanCategory(id=str(cid), examples=tuple(examples), **fields)  # type: ignore[arg-type]
    for cid in PLAN_CATEGORIES:
        if cid not in raw:
            src.error(("categories",), f"category '{cid}' is required")
    return categories


def _read_calendar(file: Path, errors: ContentErrors) -> tuple[tuple[dt.date, ...], tuple[dt.date, ...]]:
    src = _read_required(file, errors)
    if src is None:
        return (), ()
    data = src.data if isinstance(src.data, dict) else {}
    lists: list[tuple[dt.date, ...]] = []
    for key in ("extra_holidays", "working_days"):
        raw = data.get(key, [])
        if not isinstance(raw, list):
            src.error((key,), f"'{key}' must be a list of dates (YYYY-MM-DD)")
            raw = []
        dates = []
        for i, item in enumerate(raw):
            day = item.get("date") if isinstance(item, dict) else item
            if not isinstance(day, dt.date):
                src.error((key, i), "each entry must be a date written YYYY-MM-DD (or {date: ..., name: ...})")
                continue
            dates.append(day)
        lists.append(tuple(dates))
    return lists[0], lists[1]


def load_content(content_dir: Path) -> Content:
    """Load content/ or raise ContentError listing every problem."""
    content, problems = check_content(content_dir)
    if content is None:
        errors = ContentErrors(problems)
        raise ContentError(errors)
    return content


def _read_required(file: Path, errors: ContentErrors) -> Located | None:
    if not file.is_file():
        errors.add(f"{file}:1", "required file is missing")
        return None
    return read_yaml(file, errors)


REQUIRED_COMMANDS = ("menu", "help", "cancel")
REQUIRED_INTENTS = ("greeting", "thanks", "help", "opinion", "report", "hearing", "mydata", "out_of_scope")
REQUIRED_ASPECTS = ("documents", "fees", "time", "timeline", "contact", "steps")


def _word_lists(
    src: Located, section: str, raw: object, required: tuple[str, ...], key: str | None
) -> dict[str, tuple[str, ...]]:
    """A mapping of name -> list of texts (under `key` when given); every name in `required` present."""
    result: dict[str, tuple[str, ...]] = {}
    if not isinstance(raw, dict):
        src.error((section,), f"'{section}' must be a mapping")
        return result
    for name, value in raw.items():
        path: tuple[str | int, ...] = (section, name) if key is None else (section, name, key)
        words = value.get(key) if key is not None and isinstance(value, dict) else value
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            src.error(path, f"'{name}' needs a list of texts")
            continue
        result[str(name)] = tuple(str(w) for w in words)
    for name in required:
        if name not in result and name not in raw:
            src.error((section,), f"'{name}' is required in '{section}'")
    return result


def _read_intents(
    file: Path, errors: ContentErrors
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], tuple[str, ...]]:
    src = _read_required(file, errors)
    if src is None or not isinstance(src.data, dict):
        if src is not None:
            src.error((), "expected 'intents' and 'aspects' sections")
        return {}, {}, ()
    intents = _word_lists(src, "intents", src.data.get("intents"), REQUIRED_INTENTS, "examples")
    aspects = _word_lists(src, "aspects", src.data.get("aspects"), REQUIRED_ASPECTS, None)
    featured = src.data.get("featured_services", [])
    if not isinstance(featured, list) or len(featured) > 13 or not all(isinstance(f, str) for f in featured):
        src.error(("featured_services",), "'featured_services' must list at most 13 service ids")
        featured = []
    services_dir = file.parent / "services"
    for i, sid in enumerate(featured):
        if not (services_dir / f"{sid}.yaml").is_file():
            src.error(("featured_services", i), f"unknown service '{sid}'")
    return intents, aspects, tuple(featured)


def _read_commands(file: Path, errors: ContentErrors) -> dict[str, tuple[str, ...]]:
    src = _read_required(file, errors)
    if src is None:
        return {}
    if not isinstance(src.data, dict):
        src.error((), "expected a mapping of command -> list of words")
        return {}
    result: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for name, words in src.data.items():
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            src.error((name,), f"command '{name}' needs a list of words")
            continue
        for i, word in enumerate(words):
            key = "".join(word.split()).casefold()
            if key in owner and owner[key] != name:
                src.error((name, i), f"'{word}' already means '{owner[key]}'")
            owner[key] = str(name)
        result[str(name)] = tuple(words)
    for name in REQUIRED_COMMANDS:
        if name not in result:
            src.error((), f"command '{name}' is required")
    return result


def _read_municipality(file: Path, errors: ContentErrors) -> Municipality | None:
    src = _read_required(file, errors)
    if src is None:
        return None
    data = src.data
    if not isinstance(data, dict):
        src.error((), "expected a mapping of municipality fields")
        return None
    before = len(errors.items)
    fields = {}
    for key in ("name", "short_name", "address", "phone", "office_hours", "website"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            src.error((key,), f"'{key}' must be a non-empty text")
        fields[key] = str(value or "").strip()
    sample = data.get("sample", False)
    if not isinstance(sample, bool):
        src.error(("sample",), "'sample' must be true or false")
    divisions = tuple(_divisions(src, data.get("divisions")))
    villages = tuple(_villages(src, data.get("villages")))
    if len(errors.items) > before:
        return None
    return Municipality(sample=bool(sample), divisions=divisions, villages=villages, **fields)


def _divisions(src: Located, raw: object) -> list[Division]:
    if not isinstance(raw, list) or not raw:
        src.error(("divisions",), "'divisions' must list at least one division (กอง/สำนัก)")
        return []
    result: list[Division] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        path = ("divisions", i)
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "name", "location")):
            src.error(path, "each division needs text fields id, name and location")
            continue
        if item["id"] in seen:
            src.error((*path, "id"), f"division id '{item['id']}' is used twice")
        seen.add(item["id"])
        result.append(Division(id=item["id"], name=item["name"], location=item["location"]))
    return result


def _villages(src: Located, raw: object) -> list[Village]:
    if not isinstance(raw, list) or not raw:
        src.error(("villages",), "'villages' must list at least one village (หมู่)")
        return []
    result: list[Village] = []
    for i, item in enumerate(raw):
        path = ("villages", i)
        no = item.get("number") if isinstance(item, dict) else None
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(no, int) or isinstance(no, bool) or no < 1 or not isinstance(name, str):
            src.error(path, "each village needs a 'number' (1, 2, ...) and a 'name'")
            continue
        if no != len(result) + 1:
            src.error((*path, "number"), f"villages must be numbered 1, 2, 3 ... in order; expected {len(result) + 1}")
        result.append(Village(no=no, name=name))
    return result
