"""content/consultations/*.yaml and content/privacy.yaml: what residents can give opinions to, and the
privacy notice they agree to first."""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path

from bot.content.model import MUNICIPALITY_PLACEHOLDERS, Consultation, Division, PrivacyNotice, ReportType
from bot.content.source import ContentErrors, Located, read_yaml
from bot.db.statuses import ReportState
from bot.handlers.services.timeline import BANGKOK

TIME_FORMAT = "%Y-%m-%d %H:%M"


def read_consultations(directory: Path, villages: set[int], errors: ContentErrors) -> dict[str, Consultation]:
    if not directory.is_dir():
        return {}
    consultations: dict[str, Consultation] = {}
    for file in sorted(directory.glob("*.yaml")):
        src = read_yaml(file, errors)
        if src is not None:
            consultation = _consultation(src, villages)
            if consultation is not None:
                if consultation.id in consultations:
                    src.error(("id",), f"consultation id '{consultation.id}' is used twice")
                consultations[consultation.id] = consultation
    return consultations


def _consultation(src: Located, villages: set[int]) -> Consultation | None:
    data = src.data if isinstance(src.data, dict) else {}
    before = len(src.errors.items)
    texts = {}
    for key in ("id", "title", "description"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            src.error((key,), f"'{key}' must be a non-empty text")
        texts[key] = str(data.get(key, "")).strip()
    times = {}
    for key in ("opens", "closes"):
        try:
            times[key] = dt.datetime.strptime(str(data.get(key)), TIME_FORMAT).replace(tzinfo=BANGKOK)
        except ValueError:
            src.error((key,), f"'{key}' must be a time written YYYY-MM-DD HH:MM (Thai time)")
    if len(times) == 2 and times["closes"] <= times["opens"]:
        src.error(("closes",), "closes must be after opens")
    raw_villages = data.get("villages", "all")
    chosen: tuple[int, ...] | None = None
    if raw_villages != "all":
        if not isinstance(raw_villages, list) or not all(isinstance(v, int) and v in villages for v in raw_villages):
            src.error(("villages",), f"villages must be 'all' or a list of village numbers from {sorted(villages)}")
        else:
            chosen = tuple(raw_villages)
    questions = data.get("guiding_questions", [])
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        src.error(("guiding_questions",), "guiding_questions must be a list of texts")
        questions = []
    if len(src.errors.items) > before:
        return None
    return Consultation(
        opens=times["opens"], closes=times["closes"], villages=chosen, guiding_questions=tuple(questions), **texts
    )


def read_privacy(file: Path, errors: ContentErrors) -> PrivacyNotice | None:
    if not file.is_file():
        errors.add(f"{file}:1", "required file is missing")
        return None
    src = read_yaml(file, errors)
    if src is None:
        return None
    data = src.data if isinstance(src.data, dict) else {}
    before = len(errors.items)
    for key in ("version", "notice", "full"):
        if not isinstance(data.get(key), str) or not str(data[key]).strip():
            src.error((key,), f"'{key}' must be a non-empty text (quote a version that looks like a date)")
    months = data.get("retention_months")
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 120:
        src.error(("retention_months",), "retention_months must be a number of months from 1 to 120")
    allowed = set(MUNICIPALITY_PLACEHOLDERS) | {"retention_months"}
    for key in ("notice", "full"):
        text = data.get(key)
        if isinstance(text, str):
            for _, name, _, _ in string.Formatter().parse(text):
                if name is not None and name not in allowed:
                    src.error((key,), f"unknown placeholder {{{name}}}")
    if len(errors.items) > before or not isinstance(months, int):
        return None
    return PrivacyNotice(
        version=str(data["version"]), notice=data["notice"], full=data["full"], retention_months=months
    )


# bot.db.statuses.ReportState: every status a report can have; content words each (reports.yaml statuses).
REPORT_STATUSES = tuple(status.value for status in ReportState)


def read_report_kinds(
    file: Path, divisions: dict[str, Division], errors: ContentErrors
) -> tuple[dict[str, ReportType], dict[str, str]]:
    src = read_yaml(file, errors) if file.is_file() else None
    if src is None:
        if not file.is_file():
            errors.add(f"{file}:1", "required file is missing")
        return {}, {}
    data = src.data if isinstance(src.data, dict) else {}
    types: dict[str, ReportType] = {}
    raw_types = data.get("types")
    if not isinstance(raw_types, dict) or not raw_types:
        src.error(("types",), "'types' must map report type ids to {label, division}")
        raw_types = {}
    seen_words: dict[str, str] = {}
    for tid, item in raw_types.items():
        label = item.get("label") if isinstance(item, dict) else None
        division = divisions.get(str(item.get("division"))) if isinstance(item, dict) else None
        if not isinstance(label, str) or not label.strip() or len(label) > 20:
            src.error(("types", tid), "a report type needs a label of at most 20 characters (it is a button)")
            continue
        if division is None:
            src.error(("types", tid, "division"), "division must be a division id from municipality.yaml")
            continue
        examples = item.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
            src.error(("types", tid, "examples"), "examples must be a list of texts (problems as residents tell them)")
            continue
        words = item.get("words", [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() and " " not in w for w in words):
            src.error(
                ("types", tid, "words"), "words must be a list of words without spaces (what the problem is about)"
            )
            continue
        taken = [w for w in words if w in seen_words and seen_words[w] != tid]
        if taken:
            src.error(
                ("types", tid, "words"),
                f"'{taken[0]}' is already a word of type '{seen_words[taken[0]]}': a word names one type",
            )
            continue
        seen_words.update((w, str(tid)) for w in words)
        types[str(tid)] = ReportType(
            id=str(tid), label=label, division=division, examples=tuple(examples), words=tuple(words)
        )
    statuses = data.get("statuses")
    if not isinstance(statuses, dict):
        src.error(("statuses",), "'statuses' must map status ids to the words residents read")
        statuses = {}
    for status in REPORT_STATUSES:
        if not isinstance(statuses.get(status), str):
            src.error(("statuses",), f"status '{status}' needs its words")
    return types, {str(k): str(v) for k, v in statuses.items()}
