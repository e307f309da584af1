"""What the workspace shows instead of stored codes: Thai words from content (content/staff.yaml, the opinion
statuses of responses.yaml, reports.yaml, divisions, categories, services), and dates in the Buddhist era
("1 ธ.ค. 2569 14:05"). Templates get a `words` object and the `thai_when` filter; nothing here is a word
of its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pythainlp.util import thai_strftime

from bot.content import Content
from bot.handlers.services.timeline import BANGKOK
from bot.ops.audit import DETAIL_KEYS

# How much of a moment each page needs: the day, the minute, or (the audit log) the second.
STYLES = {"date": "%-d %b %Y", "minute": "%-d %b %Y %H:%M", "second": "%-d %b %Y %H:%M:%S"}
HEARING_TARGET = "hearing:"
# Actors that are not staff accounts (bot.handlers.opinions.rules.BY_RESIDENT, bot.staff.cli's "cli" and
# "cli:<user>"). Staff
# usernames hold no colon, so "cli:root" is never an account's name.
RESIDENT_ACTOR = "resident"
COMMAND_ACTOR = "cli"


def thai_when(value: dt.datetime | dt.date | str | None, style: str = "minute") -> str:
    """'1 ธ.ค. 2569 14:05' in Thai time; a date (or an ISO date's text, as the audit log keeps filters) is
    its day. An old strftime pattern given as the style picks the nearest style, so no page shows a
    Gregorian year whatever its template asked for."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(text := value)
        except ValueError:
            return text
    if style not in STYLES:
        style = "second" if "%S" in style else "minute" if "%H" in style else "date"
    if isinstance(value, dt.datetime):
        local = value.astimezone(BANGKOK) if value.tzinfo else value.replace(tzinfo=dt.UTC).astimezone(BANGKOK)
        return thai_strftime(local.replace(tzinfo=None), STYLES[style])
    return thai_strftime(dt.datetime(value.year, value.month, value.day), STYLES["date"])


def _bangkok_day(moment: dt.datetime) -> dt.date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(BANGKOK).date()


def hearing_target(target: str | None) -> int | None:
    """The hearing an audit entry's target names ('hearing:7' -> 7), or None."""
    number = (target or "").removeprefix(HEARING_TARGET)
    if not target or not target.startswith(HEARING_TARGET) or not number.isascii() or not number.isdigit():
        return None
    return int(number)


@dataclass(frozen=True)
class Target:
    text: str
    href: str | None = None


class StaffWords:
    """The Thai word of each code a page shows; a code with no word (content check prevents it) is shown as
    it is rather than hidden."""

    def __init__(self, content: Content) -> None:
        self._content = content
        self._labels = content.staff_labels
        self._opinion_statuses = {
            k.removeprefix("status_"): v for k, v in content.phrases.items() if k.startswith("status_")
        }

    def _word(self, section: str, code: str) -> str:
        return self._labels.words.get(section, {}).get(code, code)

    def actor(self, actor: str | None) -> str:
        """Who did it, as the 'by' columns show it: the resident and commands on the server in words, with
        the server's user name in brackets ('คำสั่งบนเครื่องแม่ข่าย (root)'); a staff account's name as it is."""
        if not actor:
            return "-"
        if actor == RESIDENT_ACTOR:
            return self._word("actors", "resident")
        if actor == COMMAND_ACTOR:
            return self._word("actors", "command")
        if actor.startswith(COMMAND_ACTOR + ":"):
            return f"{self._word('actors', 'command')} ({actor.removeprefix(COMMAND_ACTOR + ':')})"
        return actor

    def intent(self, code: str | None) -> str:
        return self._word("intents", code) if code else "-"

    def age(self, moment: dt.datetime, now: dt.datetime) -> str:
        """How long ago, in calendar days in Thai time: 'วันนี้', 'เมื่อวาน', '3 วันก่อน'."""
        days = (_bangkok_day(now) - _bangkok_day(moment)).days
        if days <= 0:
            return self._word("ages", "today")
        if days == 1:
            return self._word("ages", "yesterday")
        return self._word("ages", "days").replace("{days}", f"{days:,}")

    def role(self, code: str) -> str:
        return self._labels.roles.get(code, code)

    def rights(self, code: str) -> str:
        return self._labels.rights.get(code, "")

    def action(self, code: str) -> str:
        return self._word("audit_actions", code)

    def sending_kind(self, code: str) -> str:
        return self._word("sending_kinds", code)

    def sending_mode(self, code: str) -> str:
        return self._word("sending_modes", code)

    def sending_state(self, code: str) -> str:
        return self._word("sending_states", code)

    def rsvp_answer(self, code: str) -> str:
        return self._word("rsvp_answers", code)

    def hearing_villages(self, numbers: Sequence[int]) -> str:
        """'หมู่ที่ 3,4', or 'ทุกหมู่' for a hearing of every village."""
        if not numbers:
            return self._word("hearing_villages", "all")
        return f"{self._word('filters', 'village')} {','.join(map(str, numbers))}"

    def opinion_status(self, code: str | None) -> str:
        return self._opinion_statuses.get(code or "", code or "")

    def report_status(self, code: str | None) -> str:
        return self._content.report_statuses.get(code or "", code or "")

    def opinion_change(self, field: str, old: str | None, new: str | None) -> tuple[str, str, str]:
        """(what changed, from, to) of one row of an opinion's history."""
        return self._word("opinion_fields", field), self._change_value(field, old), self._change_value(field, new)

    def _change_value(self, field: str, value: str | None) -> str:
        if not value:
            return "-"
        if field == "status":
            return self.opinion_status(value)
        if field == "category" and value in self._content.categories:
            return self._content.categories[value].short
        return value

    def audit_target(self, action: str, target: str | None, hearings: Mapping[int, str] | None = None) -> Target:
        """What was acted on, in words; a hearing by its title (hearings: id -> title), linked to its page, or
        by its number when it is gone."""
        if not target:
            return Target("")
        if action == "export":
            return Target(self._word("export_kinds", target))
        if action == "question_triage" and target in self._content.services:
            return Target(self._content.services[target].name)
        if (hearing_id := hearing_target(target)) is not None:
            title = (hearings or {}).get(hearing_id) or f"{self._word('audit_targets', 'hearing')} {hearing_id}"
            return Target(title, f"/staff/hearings/{hearing_id}")
        return Target(target)

    def audit_details(self, detail: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(name, value) of each detail in words, in a fixed order (DETAIL_KEYS)."""
        order = {key: i for i, key in enumerate(DETAIL_KEYS)}
        keys = sorted(detail, key=lambda k: (order.get(k, len(order)), k))
        return [(self._word("audit_details", key), self._detail_value(key, detail[key])) for key in keys]

    def _detail_value(self, key: str, value: Any) -> str:
        if isinstance(value, bool):
            return self._word("yes_no", "yes" if value else "no")
        if isinstance(value, int):
            return f"{value:,}" if key not in ("job", "again") else str(value)
        if key == "filters" and isinstance(value, Mapping):
            return self.filters(value)
        text = str(value)
        coded = self._labels.audit_values.get(key)
        if coded is not None:
            return coded.get(text, text)
        divisions = {d.id: d.name for d in self._content.municipality.divisions}
        named = {
            "mode": lambda: self.sending_mode(text),
            "status": lambda: self.report_status(text),
            "division": lambda: divisions.get(text, text),
            "role": lambda: self.role(text),
            "faq": lambda: self._content.faq[text].question if text in self._content.faq else text,
        }
        return named[key]() if key in named else text

    def filters(self, chosen: Mapping[str, Any]) -> str:
        """An export's filters as staff set them: 'หมู่ที่ 3, ตั้งแต่ 1 ธ.ค. 2569, คำค้น ถนน'."""
        parts = []
        for name, value in chosen.items():
            parts.append(f"{self._word('filters', name)} {self._filter_value(name, value)}")
        return ", ".join(parts) if parts else "-"

    def _filter_value(self, name: str, value: Any) -> str:
        content = self._content
        if name in ("since", "until"):
            return thai_when(value if isinstance(value, dt.date | str) else str(value), "date")
        if name == "words" and isinstance(value, list | tuple):
            return " ".join(str(w) for w in value)
        text = str(value)
        if name == "category" and text in content.categories:
            return content.categories[text].short
        if name == "consultation" and text in content.consultations:
            return content.consultations[text].title
        if name == "status":
            return self._opinion_statuses.get(text) or content.report_statuses.get(text, text)
        if name == "division":
            return {d.id: d.name for d in content.municipality.divisions}.get(text, text)
        return text
