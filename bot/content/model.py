"""Frozen, typed objects for everything loaded from content/."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.content.office import OfficeCues
from bot.content.reading import ReadingLexicon
from bot.content.staff_labels import StaffLabels

if TYPE_CHECKING:
    from bot.content.faq import FaqEntry
    from bot.content.referrals import Referral
    from bot.content.richmenu import RichMenu
    from bot.content.services import ServiceEntry


@dataclass(frozen=True)
class Division:
    id: str
    name: str
    location: str


@dataclass(frozen=True)
class Village:
    no: int
    name: str


# Placeholders every response may use; their values come from municipality.yaml.
MUNICIPALITY_PLACEHOLDERS = ("name", "short_name", "address", "phone", "office_hours")


@dataclass(frozen=True)
class Municipality:
    name: str
    short_name: str
    address: str
    phone: str
    office_hours: str
    website: str
    sample: bool
    divisions: tuple[Division, ...]
    villages: tuple[Village, ...]

    def placeholders(self) -> dict[str, str]:
        """Values every response may use as {name}, {phone}, ..."""
        return {key: getattr(self, key) for key in MUNICIPALITY_PLACEHOLDERS}


@dataclass(frozen=True)
class QuickReplyOption:
    """A chip under a message: it either sends text as the resident, or a postback with an action."""

    id: str
    label: str
    text: str | None = None
    postback: str | None = None
    display: str | None = None


@dataclass(frozen=True)
class ResponseTemplate:
    id: str
    text: str
    params: tuple[str, ...]
    quick_replies: tuple[str, ...]


@dataclass(frozen=True)
class PlanCategory:
    """One of the six dimensions of a livable city that opinions for the local plan are filed under."""

    id: str
    label: str
    short: str
    description: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Consultation:
    """A public consultation residents can give opinions to while it is open (times in Asia/Bangkok)."""

    id: str
    title: str
    description: str
    opens: dt.datetime
    closes: dt.datetime
    villages: tuple[int, ...] | None  # None: every village
    guiding_questions: tuple[str, ...]

    def is_open(self, now: dt.datetime) -> bool:
        return self.opens <= now < self.closes


@dataclass(frozen=True)
class PrivacyNotice:
    """The PDPA notice shown before anything is collected; residents consent to a version."""

    version: str
    notice: str
    full: str
    retention_months: int


@dataclass(frozen=True)
class ReportType:
    id: str
    label: str
    division: Division
    # Problems of this type as residents tell them: the reader learns the type from these.
    examples: tuple[str, ...] = ()
    # Words that name this type's subject ("ทางเท้า", "ท่อระบายน้ำ"): in a problem told at length they pick the
    # type without the embedding (bot.nlp.topics).
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Content:
    municipality: Municipality
    quick_replies: dict[str, QuickReplyOption]
    responses: dict[str, ResponseTemplate]
    # Global commands residents may type at any step: command id -> the words for it.
    commands: dict[str, tuple[str, ...]]
    services: dict[str, ServiceEntry]
    # Example messages per intent (greeting, opinion, out_of_scope, ...) and words per follow-up aspect.
    intents: dict[str, tuple[str, ...]]
    aspects: dict[str, tuple[str, ...]]
    # Plan categories for opinions, in the order of content/categories.yaml.
    categories: dict[str, PlanCategory]
    consultations: dict[str, Consultation]
    report_types: dict[str, ReportType]
    # Report status id -> what residents read ("received" -> "รับเรื่องแล้ว").
    report_statuses: dict[str, str]
    privacy: PrivacyNotice
    # Services offered as chips when a resident taps "ถามเรื่องบริการ".
    featured_services: tuple[str, ...]
    # Short texts that answers are assembled from (card headings, chip labels, timeline sentences).
    phrases: dict[str, str]
    # content/calendar.yaml: days off beyond the national holidays, and holidays the office works.
    extra_holidays: tuple[dt.date, ...]
    working_days: tuple[dt.date, ...]
    # content/richmenu.yaml: the tiles under the chat (pushed to LINE by `python -m bot richmenu push`).
    rich_menu: RichMenu
    # content/reading.yaml: regional words and the cue words of problems, wishes and questions.
    reading: ReadingLexicon = field(default_factory=ReadingLexicon)
    # content/faq/<service_id>.yaml: specific questions about a service, keyed "<service_id>.<slug>".
    faq: dict[str, FaqEntry] = field(default_factory=dict)
    # content/referrals.yaml: who handles what the municipality does not (passport, car tax, ...), by id.
    referrals: dict[str, Referral] = field(default_factory=dict)
    # content/office.yaml: the cue words of questions about the office itself (phone, hours, open on a day).
    office: OfficeCues = field(default_factory=OfficeCues)
    # content/staff.yaml: the workspace's Thai words for roles, audit actions, sendings' states and other codes.
    staff_labels: StaffLabels = field(default_factory=StaffLabels)
