"""Every postback the bot understands, one class per action (aiogram's CallbackData is the model).

A chip or button that is tapped sends its `data` back: `action=<name>` and that action's fields, written as a
URL's query ("action=svc&id=land_tax&a=documents"). Each class below is one action:
- `pack()` builds the data a button carries: `ServiceChoice("land_tax", "documents").pack()`;
- `parse(data)` reads received data back into the class, or None when the data is another action's or is
  malformed (a stale, damaged or forged tap is never an exception); `parse_postback(data)` tries them all.

Packed strings are byte for byte what the bot built before these classes: buttons already sitting in
residents' chats keep working. So a field's key and its place in the string never change. A field is
`name: type` (sent as `name=`) or `name: Annotated[type, "key"]` (sent as `key=`), optionally with the only
values it may take: `Annotated[str, "a", RSVP_ANSWERS]`. Types are str, int (digits only) and StrEnums;
`| None` makes a field optional, left out when None. Values are written as they are, not percent-encoded (a
reference's Thai letter stays a letter), and read with parse_qsl.

Content names actions too (content/responses.yaml's quick_replies, `postback: action=menu.report`, which the
rich menu's tiles reuse); the content check refuses one that parse_postback does not read.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self
from urllib.parse import parse_qsl

from bot.db.codes import RsvpAnswer

MAX_FIELDS = 20  # more than any action has: longer data is not ours

VOTES = ("up", "down")  # stored as service_query.feedback
RSVP_ANSWERS = tuple(RsvpAnswer)  # stored as rsvp.answer


@dataclass(frozen=True)
class Postback:
    """The base of every action below: `class ServiceChoice(Postback, action="svc")`."""

    action: ClassVar[str] = ""
    _by_action: ClassVar[dict[str, type[Postback]]] = {}

    def __init_subclass__(cls, action: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.action = action
        if action:
            if action in Postback._by_action:
                raise TypeError(f"two postback classes for action '{action}'")
            Postback._by_action[action] = cls

    def pack(self) -> str:
        """The data a button carries: 'action=<name>' then each field that is not None, in declared order."""
        parts = [f"action={self.action}"]
        for spec in _specs(type(self)):
            value = getattr(self, spec.name)
            if value is not None:
                parts.append(f"{spec.key}={value}")
        return "&".join(parts)

    @classmethod
    def claims(cls, data: str) -> bool:
        """The data names this action, whether or not it is well formed."""
        return bool(cls.action) and fields_of(data).get("action") == cls.action

    @classmethod
    def parse(cls, data: str) -> Self | None:
        """The tap `data` is, if it is this action's and well formed; else None."""
        return cls.from_fields(fields_of(data))

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Self | None:
        """The same from data already split into fields (a typed answer read against a question's chips)."""
        if not cls.action or fields.get("action") != cls.action:
            return None
        values: dict[str, Any] = {}
        for spec in _specs(cls):
            raw = fields.get(spec.key)
            if raw is None:
                if not spec.optional:
                    return None
                continue
            value = _read(spec.kind, raw) if spec.allowed is None or raw in spec.allowed else None
            if value is None:
                return None
            values[spec.name] = value
        return cls(**values)


def fields_of(data: str) -> dict[str, str]:
    """Postback data split into its fields; {} for data that is not a short query string."""
    try:
        return dict(parse_qsl(data, keep_blank_values=True, max_num_fields=MAX_FIELDS))
    except ValueError:  # more fields than MAX_FIELDS
        return {}


def parse_postback(data: str) -> Postback | None:
    """The tap `data` is, whichever action it names; None for an action no class here knows, or malformed data."""
    kind = Postback._by_action.get(fields_of(data).get("action", ""))
    return None if kind is None else kind.parse(data)


def known_actions() -> list[str]:
    return sorted(Postback._by_action)


# == the actions ===============================================================================================

# -- the main menu: rich menu tiles and the chips of content/responses.yaml (quick_replies) --------------------


@dataclass(frozen=True)
class MenuServices(Postback, action="menu.services"):
    """How to ask about services, with the most asked-about ones as chips."""


@dataclass(frozen=True)
class MenuOpinion(Postback, action="menu.opinion"):
    """Starts the opinion flow (bot/handlers/opinions/chat.py)."""


@dataclass(frozen=True)
class MenuReport(Postback, action="menu.report"):
    """Starts the problem report flow; also 'แจ้งเรื่องเลย' under a service answer."""


@dataclass(frozen=True)
class MenuHearings(Postback, action="menu.hearings"):
    """Upcoming hearings for the resident's village, with RSVP buttons."""


@dataclass(frozen=True)
class MenuMyData(Postback, action="menu.mydata"):
    """ข้อมูลของฉัน: what is held about the resident, with its requests as chips."""


@dataclass(frozen=True)
class MenuContact(Postback, action="menu.contact"):
    """The office's address, phone and hours."""


# -- services and questions (bot/handlers/services) ------------------------------------------------------------


@dataclass(frozen=True)
class ServiceChoice(Postback, action="svc"):
    """A service chip ("which one?", a related service): its card; with an aspect chip, that aspect only."""

    service: Annotated[str, "id"]
    aspect: Annotated[str | None, "a"] = None  # documents, fees, ... (ASPECT_CHIPS of services/cards.py)


@dataclass(frozen=True)
class AnswerFeedback(Postback, action="feedback"):
    """👍/👎 under an answer: stored on the question the event `event_id` asked."""

    event_id: Annotated[int, "e"]
    vote: Annotated[str, "v", VOTES]


# -- hearings (bot/handlers/hearings) ------------------------------------------------------------------------


@dataclass(frozen=True)
class RsvpChoice(Postback, action="rsvp"):
    """ไป / ไม่สะดวก / ยังไม่แน่ใจ on a hearing's card: records (or changes) the resident's answer."""

    hearing_id: Annotated[int, "h"]
    answer: Annotated[str, "a", RSVP_ANSWERS]


# -- the resident's own cases and data (bot/handlers/residents) ----------------------------------------------


@dataclass(frozen=True)
class ShowCases(Postback, action="cases"):
    """ติดตามเรื่อง: the resident's latest cases; with a reference, that one case and its history."""

    reference: Annotated[str | None, "ref"] = None


class MyDataDo(StrEnum):
    """The taps of ข้อมูลของฉัน (saved nowhere, but sitting in chats: keep the values)."""

    WITHDRAW = "withdraw"  # ถอนความคิดเห็น: which opinion (or the question, when there is one)
    WITHDRAW_ONE = "withdraw_one"  # this opinion: asks "withdraw ‘…’?"
    WITHDRAW_CONFIRMED = "withdraw_confirmed"  # ถอน: erases the opinion's text
    WITHDRAW_KEPT = "withdraw_kept"  # ไม่ถอน
    NOTIFY_OFF = "notify_off"  # no more announcements
    NOTIFY_ON = "notify_on"  # announcements again
    DELETE = "delete"  # ลบข้อมูลทั้งหมด: asks to confirm
    DELETE_CONFIRMED = "delete_confirmed"  # erases everything held about the resident
    KEEP = "keep"  # not deleted after all: the summary again


@dataclass(frozen=True)
class MyDataRequest(Postback, action="md"):
    """One of ข้อมูลของฉัน's taps; the withdrawal ones name the opinion by its reference."""

    do: MyDataDo
    reference: Annotated[str | None, "ref"] = None


# -- the two participation flows (bot/chat/participation.py, bot/handlers/opinions, bot/handlers/reports) --------


class FlowDo(StrEnum):
    """The taps inside the opinion and report flows; each flow reads those of its own step."""

    ACCEPT = "accept"  # both, consent: agreed to the privacy notice
    DECLINE = "decline"  # both, consent: not now (the flow ends, nothing kept)
    VILLAGE = "village"  # both: the village (FlowAnswer.village; 0 = not said)
    DONE = "done"  # both, description: nothing more to add
    CONFIRM = "confirm"  # both, summary: send it
    EDIT = "edit"  # both, summary: write the description again
    CONSULTATION = "consultation"  # opinion: the open consultation (FlowAnswer.choice)
    GENERAL = "general"  # opinion: none is open, keep it as a general suggestion
    CATEGORY = "category"  # opinion: the plan's category (FlowAnswer.choice)
    ALL_CATEGORIES = "all_categories"  # opinion: show every category, not only the two suggested
    TYPE = "type"  # report: the report type (FlowAnswer.choice)
    SKIP = "skip"  # report: no place to add


@dataclass(frozen=True)
class FlowAnswer(Postback):
    """A tap inside a participation flow; the flow is the action (OpinionAnswer, ReportAnswer)."""

    do: FlowDo
    choice: Annotated[str | None, "id"] = None  # the consultation, category or report type chosen
    village: Annotated[int | None, "n"] = None


@dataclass(frozen=True)
class OpinionAnswer(FlowAnswer, action="op"):
    """An answer to the opinion flow's question (FlowDo)."""


@dataclass(frozen=True)
class ReportAnswer(FlowAnswer, action="rp"):
    """An answer to the report flow's question (FlowDo)."""


@dataclass(frozen=True)
class OpinionFromMessage(Postback, action="op.msg"):
    """Under a reply that could not answer a wish ("อยากให้มีลานกีฬา"): the opinion flow, with the message of
    event `event_id` (this chat's own) kept as the opinion, so it is not typed again."""

    event_id: Annotated[int, "e"]


@dataclass(frozen=True)
class ReportFromMessage(Postback, action="rp.msg"):
    """Under a reply that could not answer a problem told ("ทางเท้าพังเดินลำบาก"): the report flow, with the message
    of event `event_id` (this chat's own) kept as the description and the type the reader found in it."""

    event_id: Annotated[int, "e"]
    report_type: Annotated[str | None, "t"] = None


class RatingDo(StrEnum):
    REOPEN = "reopen"  # ยังไม่เรียบร้อย: the report is reopened


@dataclass(frozen=True)
class ReportRating(Postback, action="rpr"):
    """Under 'your report is done': a 1-5 rating, or ยังไม่เรียบร้อย (do=reopen) to reopen it."""

    reference: Annotated[str, "ref"]  # as sent; taps from before references had their letter carry the bare number
    stars: Annotated[int | None, "v"] = None  # 1-5 (RATINGS of reports/rules.py)
    do: RatingDo | None = None


# == reading and writing fields ==================================================================================


@dataclass(frozen=True)
class _Spec:
    name: str  # the field's name in the class
    key: str  # its name in the data
    kind: Any  # str, int or a StrEnum
    optional: bool
    allowed: tuple[str, ...] | None  # the only values a str field may have


_SPECS: dict[type[Postback], tuple[_Spec, ...]] = {}


def _specs(cls: type[Postback]) -> tuple[_Spec, ...]:
    """The fields of an action class, in declared order (read once per class)."""
    if cls in _SPECS:
        return _SPECS[cls]
    hints = typing.get_type_hints(cls, include_extras=True)
    specs = []
    for field in dataclasses.fields(cls):
        hint, key, allowed = hints[field.name], field.name, None
        if typing.get_origin(hint) is Annotated:
            hint, key, *more = typing.get_args(hint)
            allowed = tuple(more[0]) if more else None
        union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        kinds = typing.get_args(hint) if union else (hint,)
        optional = type(None) in kinds
        (kind,) = [k for k in kinds if k is not type(None)]
        specs.append(_Spec(field.name, key, kind, optional, allowed))
    _SPECS[cls] = tuple(specs)
    return _SPECS[cls]


def _read(kind: Any, raw: str) -> Any:
    """A field's value from its text, or None when the text is not one (not digits, not one of the values)."""
    if kind is str:
        return raw
    if kind is int:
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        try:
            return kind(raw)
        except ValueError:
            return None
    raise TypeError(f"a postback field cannot be {kind!r}")
