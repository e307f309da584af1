"""content/staff.yaml: the Thai words the staff workspace shows instead of the codes it stores (roles, audit
actions and their details, what an opinion's history changed, sendings' kinds, modes and states, export
kinds, filter names, hearing answers). Every code the program uses must have a word, or `content check`
names the file and line, so a page never falls back to showing a code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.content.source import ContentErrors, Located, read_yaml
from bot.db.codes import ExportKind, RsvpAnswer, SendingKind, SendingMode
from bot.db.statuses import SendingState
from bot.nlp.intents import Intent
from bot.ops import audit
from bot.staff.accounts import ROLES

# Sections that map a code to its word, beside `roles` (code -> label and what it may do) and
# `audit_values` (detail key -> code -> word).
SECTIONS = (
    "audit_actions",
    "audit_details",
    "audit_targets",
    "actors",
    "intents",
    "ages",
    "yes_no",
    "opinion_fields",
    "sending_kinds",
    "sending_modes",
    "sending_states",
    "export_kinds",
    "filters",
    "rsvp_answers",
    "hearing_villages",
)
# bot.db.models.BroadcastJob.status: the states a sending goes through.
SENDING_STATES = tuple(state.value for state in SendingState)
OPINION_FIELDS = ("status", "category", "outcome_detail", "plan_project", "staff_note")
# Who did something when it was not a staff account: the resident themselves, or a command on the server.
ACTORS = ("resident", "command")
# A case's age on its page: the same day, the day before, or so many days ago ("{days}" is the number).
AGES = ("today", "yesterday", "days")
FILTER_NAMES = ("consultation", "category", "village", "status", "since", "until", "words", "division")


@dataclass(frozen=True)
class StaffLabels:
    # role -> its name, and role -> what it may do.
    roles: dict[str, str] = field(default_factory=dict)
    rights: dict[str, str] = field(default_factory=dict)
    # section (SECTIONS) -> code -> word.
    words: dict[str, dict[str, str]] = field(default_factory=dict)
    # audit detail key -> code -> word.
    audit_values: dict[str, dict[str, str]] = field(default_factory=dict)


def required_codes() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The codes that need a word: roles, each section's, each coded audit detail's; from the modules that
    own them."""
    sections = {
        "audit_actions": audit.ACTIONS,
        "audit_details": audit.DETAIL_KEYS,
        "audit_targets": ("hearing",),
        "actors": ACTORS,
        "intents": tuple(intent.value for intent in Intent),
        "ages": AGES,
        "yes_no": ("yes", "no"),
        "opinion_fields": OPINION_FIELDS,
        "sending_kinds": tuple(SendingKind),
        "sending_modes": tuple(SendingMode),
        "sending_states": SENDING_STATES,
        "export_kinds": tuple(ExportKind),
        "filters": FILTER_NAMES,
        "rsvp_answers": tuple(RsvpAnswer),
        "hearing_villages": ("all",),
    }
    return tuple(ROLES), sections, dict(audit.CODED_VALUES)


def read_staff_labels(file: Path, errors: ContentErrors) -> StaffLabels:
    if not file.is_file():
        errors.add(f"{file}:1", "required file is missing (the staff workspace's Thai words for its codes)")
        return StaffLabels()
    src = read_yaml(file, errors)
    if src is None:
        return StaffLabels()
    if not isinstance(src.data, dict):
        src.error((), "expected sections such as 'roles' and 'audit_actions'")
        return StaffLabels()
    roles, sections, coded = required_codes()
    names, rights = _roles(src, roles)
    words = {name: _words(src, (name,), codes) for name, codes in sections.items()}
    _days_placeholder(src, words.get("ages", {}))
    values = {key: _words(src, ("audit_values", key), codes) for key, codes in coded.items()}
    return StaffLabels(roles=names, rights=rights, words=words, audit_values=values)


def _words(src: Located, path: tuple[str, ...], codes: tuple[str, ...]) -> dict[str, str]:
    """code -> word under path; every code given must be there, with a non-empty text."""
    raw: object = src.data
    for part in path:
        raw = raw.get(part) if isinstance(raw, dict) else None
    if not isinstance(raw, dict):
        src.error(path, f"'{'.'.join(path)}' must map each code to its Thai word ({', '.join(codes)})")
        return {}
    result: dict[str, str] = {}
    for code, word in raw.items():
        if not isinstance(word, str) or not word.strip():
            src.error((*path, code), f"'{code}' needs a Thai word")
            continue
        result[str(code)] = word.strip()
    for code in codes:
        if code not in raw:
            src.error(path, f"'{code}' has no word in '{'.'.join(path)}'")
    return result


def _days_placeholder(src: Located, ages: dict[str, str]) -> None:
    """'N วันก่อน' needs the number: its word must hold {days} once, and nothing else in braces."""
    word = ages.get("days")
    if word is not None and (word.count("{days}") != 1 or word.replace("{days}", "").count("{")):
        src.error(("ages", "days"), "'days' must contain {days} once (the number of days), e.g. '{days} วันก่อน'")


def _roles(src: Located, roles: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    raw = src.data.get("roles")
    if not isinstance(raw, dict):
        src.error(("roles",), f"'roles' must give each role ({', '.join(roles)}) a label and what it can do")
        return {}, {}
    names: dict[str, str] = {}
    rights: dict[str, str] = {}
    for role in roles:
        item = raw.get(role)
        texts = [item.get(k) if isinstance(item, dict) else None for k in ("label", "can")]
        if not all(isinstance(t, str) and t.strip() for t in texts):
            src.error(("roles", role) if role in raw else ("roles",), f"role '{role}' needs a label and 'can'")
            continue
        names[role], rights[role] = str(texts[0]).strip(), str(texts[1]).strip()
    for role in raw:
        if role not in roles:
            src.error(("roles", role), f"unknown role '{role}'; the roles are {', '.join(roles)}")
    return names, rights
