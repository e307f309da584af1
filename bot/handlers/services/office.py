"""Questions about the municipality's office itself: its phone, its hours, whether it is open on a day (today,
tomorrow, a weekday, a date) and where it is, answered from municipality.yaml and the working calendar.

Which topic a message asks about is decided by the cue words of content/office.yaml; every sentence comes
from the office_* phrases of responses.yaml. Dates are shown with weekday and Buddhist-era year."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import holidays

from bot.chat.messages import MessageBuilder, WireMessage
from bot.content import Content
from bot.content.office import OfficeCues, compact
from bot.handlers.services.timeline import WorkingCalendar, thai_date

BUDDHIST_ERA_OFFSET = 543
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SLASH_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?!\d)")
_DAY_OF_MONTH = re.compile(r"วันที่(\d{1,2})(?!\d)")


class OfficeTopic(StrEnum):
    OPEN_DAY = "open_day"
    WHERE = "where"
    HOURS = "hours"
    PHONE = "phone"


# The order answers are given in; with no cue at all the resident gets where, phone and hours.
ANSWER_ORDER = (OfficeTopic.OPEN_DAY, OfficeTopic.WHERE, OfficeTopic.HOURS, OfficeTopic.PHONE)
WHOLE_CARD = (OfficeTopic.WHERE, OfficeTopic.PHONE, OfficeTopic.HOURS)


@dataclass(frozen=True)
class OfficeQuestion:
    """What a message asks about the office; `day` is the day an OPEN_DAY question is about."""

    topics: tuple[OfficeTopic, ...]
    day: dt.date | None = None


def read_office_question(cues: OfficeCues, text: str, today: dt.date) -> OfficeQuestion:
    """The topics asked (in answer order) and the day asked about, from the cue words in content."""
    words = office_words(text)
    asked = {OfficeTopic(name) for name, cue in cues.topics.items() if any(w in words for w in cue)}
    day = asked_day(cues, words, today)
    if day is not None or OfficeTopic.OPEN_DAY in asked:
        asked.add(OfficeTopic.OPEN_DAY)
        asked.discard(OfficeTopic.HOURS)  # the open-day answer already gives the hours
        day = day or today
    topics = tuple(t for t in ANSWER_ORDER if t in asked) or WHOLE_CARD
    return OfficeQuestion(topics=topics, day=day)


def office_words(text: str) -> str:
    """The message as the cue words are matched: no spaces, case-folded, Thai digits as Arabic ones."""
    return compact(text).translate(_THAI_DIGITS)


def asked_day(cues: OfficeCues, words: str, today: dt.date) -> dt.date | None:
    """The day a compact message names: a date first, then today/tomorrow, then a weekday (the next one,
    today included). None when it names no day."""
    for find in (_written_date, _slash_date, _day_of_month):
        day = find(cues, words, today)
        if day is not None:
            return day
    relative = [(len(w), offset) for w, offset in cues.relative_days.items() if w in words]
    if relative:
        return today + dt.timedelta(days=max(relative)[1])
    weekday = _first_weekday(cues, words)
    if weekday is not None:
        return today + dt.timedelta(days=(weekday - today.weekday()) % 7)
    return None


def _first_weekday(cues: OfficeCues, words: str) -> int | None:
    found = [(words.find(w), i) for i, names in enumerate(cues.weekdays) for w in names if w in words]
    return min(found)[1] if found else None


def _written_date(cues: OfficeCues, words: str, today: dt.date) -> dt.date | None:
    """'5ธันวาคม', '5ธ.ค.69', '5ธันวาคม2569' (the message without its spaces)."""
    names = sorted(((w, i + 1) for i, ws in enumerate(cues.months) for w in ws), key=lambda p: -len(p[0]))
    for name, month in names:
        match = re.search(rf"(?<!\d)(\d{{1,2}}){re.escape(name)}(\d{{4}}|\d{{2}}(?!\d))?", words)
        if match:
            return _date(today, int(match[1]), month, match[2])
    return None


def _slash_date(cues: OfficeCues, words: str, today: dt.date) -> dt.date | None:
    match = _SLASH_DATE.search(words)
    return _date(today, int(match[1]), int(match[2]), match[3]) if match else None


def _day_of_month(cues: OfficeCues, words: str, today: dt.date) -> dt.date | None:
    """'วันที่ 5' with no month: the 5th of this month, or of the next when it has passed."""
    match = _DAY_OF_MONTH.search(words)
    if not match:
        return None
    this_month = _date(today, int(match[1]), today.month, str(today.year))
    if this_month is not None and this_month >= today:
        return this_month
    month, year = (1, today.year + 1) if today.month == 12 else (today.month + 1, today.year)
    return _date(today, int(match[1]), month, str(year))


def _date(today: dt.date, day: int, month: int, year: str | None) -> dt.date | None:
    """A date from its parts; a year may be Buddhist (2569, 69) or Gregorian (2026); with no year, the next
    such date from today. None when no such day exists (31 กุมภาพันธ์)."""
    try:
        if year is None:
            this_year = dt.date(today.year, month, day)
            return this_year if this_year >= today else dt.date(today.year + 1, month, day)
        full = int(year) + 2500 if len(year) == 2 else int(year)
        return dt.date(full - BUDDHIST_ERA_OFFSET if full > 2400 else full, month, day)
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _thai_public_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("TH", years=year, language="th")


def public_holiday_name(day: dt.date) -> str | None:
    """The public holiday on a weekday, by the name residents use: where one day has several names the
    package lists the formal one first and the common one last (5 ธันวาคม: ... วันชาติ; วันพ่อแห่งชาติ)."""
    if day.weekday() >= 5:
        return None
    names = _thai_public_holidays(day.year).get_list(day)
    return names[-1] if names else None


class OfficeAnswers:
    """Sentences about the office, from the office_* phrases with the municipality's details."""

    def __init__(self, content: Content, calendar: WorkingCalendar, today: dt.date) -> None:
        self._content = content
        self._calendar = calendar
        self._today = today
        self._globals = content.municipality.placeholders()

    def phrase(self, phrase_id: str, **params: str) -> str:
        return self._content.phrases[phrase_id].format_map({**self._globals, **params})

    def lines(self, question: OfficeQuestion) -> list[str]:
        lines: list[str] = []
        for topic in question.topics:
            if topic is OfficeTopic.OPEN_DAY and question.day is not None:
                lines += self.open_on(question.day)
            elif topic is not OfficeTopic.OPEN_DAY:
                lines.append(self.phrase(f"office_{topic}"))
        return lines

    def open_on(self, day: dt.date) -> list[str]:
        """Whether the office is open that day; when closed, why and the next working day."""
        date = self._day_label(day)
        if self._calendar.is_working_day(day):
            opened = [self.phrase("office_day_open", date=date)]
            # The national list knows holidays announced when the package was built, not later ones.
            return opened if day == self._today else [*opened, self.phrase("office_holiday_note")]
        local_name = self._content.office.holiday_names.get(day)
        public_name = public_holiday_name(day)
        if day in self._calendar.extra_holidays:
            closed = (
                self.phrase("office_day_local", date=date, title=local_name)
                if local_name
                else self.phrase("office_day_closed", date=date)
            )
        elif public_name:
            closed = self.phrase("office_day_holiday", date=date, title=public_name)
        elif day.weekday() >= 5:
            closed = self.phrase("office_day_weekend", date=date)
        else:
            closed = self.phrase("office_day_closed", date=date)
        reopens = thai_date(self._calendar.add_days(day, 1, "working"))
        return [closed, self.phrase("office_next_open", working_date=reopens)]

    def _day_label(self, day: dt.date) -> str:
        if day == self._today:
            return self.phrase("office_day_today", date=thai_date(day))
        if day == self._today + dt.timedelta(days=1):
            return self.phrase("office_day_tomorrow", date=thai_date(day))
        return thai_date(day)


def office_reply(
    content: Content, builder: MessageBuilder, text: str, today: dt.date, calendar: WorkingCalendar
) -> WireMessage:
    """The answer to a question about the office (the reader's intent `office`)."""
    question = read_office_question(content.office, text, today)
    answer = "\n".join(OfficeAnswers(content, calendar, today).lines(question))
    return builder.text("office_answer", answer=answer)
