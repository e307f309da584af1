"""Typed equivalents of taps: how a typed word is compared with a chip or button, and which of the choices the
bot's replies offered it names. LINE for PC and Mac shows no quick replies, so a resident there can only type
what the chips say; everything that reads a typed answer against chips or buttons compares here.

Two uses share one comparison (typed_key and the words of a choice):
- a flow's step reads a typed answer against the question it asks (typed_answer, participation.tap);
- outside a flow, the dispatcher reads typed text against the choices the chat's last replies offered
  (offered_in / matching_choices, remembered in table offered_choice), so "ถอนความคิดเห็น" typed under
  ข้อมูลของฉัน withdraws as the tap does instead of starting a new opinion.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.chat.numbered import listed_name
from bot.chat.postbacks import OpinionFromMessage, ReportFromMessage, ServiceChoice, fields_of
from bot.content import Content
from bot.references import parse_reference, split_reference

# What a typed link or location chip label stands for (LINE for PC can open neither from a typed word).
TYPED_LINK = "typed_link"
TYPED_LOCATION = "typed_location"
MIN_PREFIX_CHARS = 4  # a typed start of a name picks it only when this long ("ด้านสังคม", not "ด้")
TYPED_PREFIX = "typed_"

WireMessage = dict[str, Any]


def command_key(text: str) -> str:
    """How typed commands are compared: no spaces, no case, no trailing punctuation."""
    return "".join(text.split()).casefold().rstrip("!?.。")


def typed_key(content: Content, text: str) -> str:
    """How typed answers are compared: NFC, any digits as 0-9 (Thai "๓" is 3), no spaces or case, and
    without the polite endings of typed_particles ("ยินยอมค่ะ" is "ยินยอม")."""
    return without_particles(plain(text), words(content, "typed_particles"))


def plain(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return command_key("".join(str(unicodedata.digit(ch)) if ch.isdecimal() else ch for ch in text))


def without_particles(key: str, particles: list[str]) -> str:
    ordered = sorted(particles, key=len, reverse=True)
    stripped = True
    while stripped:
        stripped = False
        for particle in ordered:
            if key.endswith(particle) and len(key) > len(particle):
                key, stripped = key[: -len(particle)], True
    return key


def words(content: Content, phrase_id: str) -> list[str]:
    """A comma-separated list phrase of responses.yaml, each entry compared as typed."""
    return [w for w in (plain(part) for part in content.phrases.get(phrase_id, "").split(",")) if w]


def typed_words(content: Content) -> dict[str, set[str]]:
    """Chip or button label -> its typed synonyms: the entries of typed_<phrase id> for the phrase that is the
    label ("typed_chip_rsvp_going" for "ไป", "typed_feedback_down" for "👎 ไม่ตรง")."""
    particles = words(content, "typed_particles")
    found: dict[str, set[str]] = {}
    for phrase_id in content.phrases:
        label = content.phrases.get(phrase_id.removeprefix(TYPED_PREFIX))
        if phrase_id.startswith(TYPED_PREFIX) and label is not None:
            found.setdefault(label, set()).update(without_particles(w, particles) for w in words(content, phrase_id))
    return found


def label_words(content: Content, label: str, display: str, by_label: dict[str, set[str]]) -> set[str]:
    """Every typed form of one chip: its label, the text a tap shows, the label without its emoji ("ไม่ตรง"
    of "👎 ไม่ตรง") and its typed_ synonyms."""
    found = {typed_key(content, label), typed_key(content, display), typed_key(content, _without_symbols(label))}
    found |= by_label.get(label, set()) | by_label.get(display, set())
    found.discard("")
    return found


def _without_symbols(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Cf"))


def typed_answer(content: Content, question: WireMessage, text: str) -> dict[str, str]:
    """The postback data of the chip under `question` that `text` names (its label, the text a tap shows, or
    one of its typed_<chip> words in responses.yaml); a link or location chip gives TYPED_LINK/TYPED_LOCATION."""
    key = typed_key(content, text)
    if not key:
        return {}
    listed = listed_name(str(question.get("text", "")), key)  # "2": the second line of the list the text shows
    if listed is not None:
        key = typed_key(content, listed)
    by_label = typed_words(content)
    for item in question.get("quickReply", {}).get("items", []):
        action = item.get("action", {})
        label = str(action.get("label", ""))
        if key not in label_words(content, label, str(action.get("displayText", label)), by_label):
            continue
        if action.get("type") == "postback":
            return postback_data(str(action["data"]))
        if action.get("type") == "uri":
            return {"do": TYPED_LINK, "uri": str(action["uri"])}
        if action.get("type") == "location":
            return {"do": TYPED_LOCATION}
    return {}


def postback_data(data: str) -> dict[str, str]:
    return fields_of(data)


def typed_choice(
    content: Content, text: str, names: dict[str, list[str]], also: dict[str, list[str]] | None = None
) -> str | None:
    """The option whose name was typed: a whole name (or a whole entry of `also`, e.g. examples), else one
    word of a name ("ขยะ" of "ขยะ/ความสะอาด") or the start of a name ("ด้านสังคม" of "ด้านสังคมและสิ่งแวดล้อม")
    that no other option shares. For choices typed by name, including options no chip shows (all categories)."""
    key = typed_key(content, text)
    everything = {opt: [*labels, *(also or {}).get(opt, [])] for opt, labels in names.items()}
    whole = {opt for opt, labels in everything.items() if key in {typed_key(content, n) for n in labels}}
    if len(whole) == 1:
        return whole.pop()
    parts = {
        opt
        for opt, labels in names.items()
        if key in {typed_key(content, w) for n in labels for w in re.split(r"[\s/]+", n) if len(w) > 1}
        or (len(key) >= MIN_PREFIX_CHARS and any(typed_key(content, n).startswith(key) for n in labels))
    }
    return parts.pop() if len(parts) == 1 else None


# -- choices the chat was offered ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One postback chip or button a reply offered: what it says, what its tap sends, what the tap shows."""

    label: str
    data: str
    display: str = ""

    @property
    def action(self) -> str:
        return postback_data(self.data).get("action", "")


def offered_in(messages: Iterable[WireMessage]) -> list[Choice]:
    """The postback choices of these messages, in the order a resident sees them: quick-reply chips and the
    buttons of flex and template messages. Links, location and camera actions are not choices a word can
    stand for (participation.aside answers those inside the flows). A data offered twice is kept once."""
    found: dict[str, Choice] = {}
    for message in messages:
        for action in _actions(message):
            if action.get("type") != "postback" or not isinstance(action.get("data"), str):
                continue
            label = str(action.get("label") or action.get("displayText") or "")
            if label:
                found.setdefault(action["data"], Choice(label, action["data"], str(action.get("displayText") or "")))
    return list(found.values())


def _actions(value: Any) -> Iterator[dict[str, Any]]:
    """Every action object inside a message (quick reply items, flex buttons and bubble actions, template
    actions and columns), walked rather than listed so a new card layout is covered without a change here."""
    if isinstance(value, dict):
        action = value.get("action")
        if isinstance(action, dict):
            yield action
        for key, inner in value.items():
            if key == "actions" and isinstance(inner, list):
                yield from (a for a in inner if isinstance(a, dict))
            elif key != "action":
                yield from _actions(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _actions(inner)


def encode_choices(choices: list[Choice]) -> str:
    """As stored in offered_choice.choices: [[label, data], ...], with the shown text third when it differs."""
    rows = [[c.label, c.data, c.display] if c.display and c.display != c.label else [c.label, c.data] for c in choices]
    return json.dumps(rows, ensure_ascii=False)


def decode_choices(stored: str) -> list[Choice]:
    """What encode_choices wrote; a row of any other shape (a later version's, a damaged one) is skipped."""
    try:
        rows = json.loads(stored)
    except ValueError:
        return []
    if not isinstance(rows, list):
        return []
    return [
        Choice(str(row[0]), str(row[1]), str(row[2]) if len(row) > 2 else "")
        for row in rows
        if isinstance(row, list) and 2 <= len(row) <= 3 and all(isinstance(x, str) for x in row)
    ]


def matching_choices(content: Content, choices: list[Choice], text: str) -> list[Choice]:
    """The offered choices `text` names, best reading first and only that reading's choices:
    1. its label, the text its tap shows or a typed_ synonym, or the reference it names (a withdrawal's
       "ค-2569-00002" typed as "๒๕๖๙-๐๐๐๐๒"), or the name of the service it shows;
    2. among alternatives of one kind ("which one?" services, opinions to withdraw): its number in the list
       ("2"), a word of its label or the start of it that no other shares.
    Several choices of one reading (two hearings' "ไป") come back together: the caller asks which one."""
    key = typed_key(content, text)
    if not key or not choices:
        return []
    by_label = typed_words(content)
    typed_ref = _only_reference(content, text)
    whole = [c for c in choices if key in _choice_words(content, c, by_label) or _same_reference(typed_ref, c)]
    if whole or not _alternatives(choices):
        return whole
    if key.isdigit() and 1 <= int(key) <= len(choices):
        return [choices[int(key) - 1]]
    names = {str(i): [c.label, c.display or c.label] for i, c in enumerate(choices)}
    picked = typed_choice(content, text, names)
    return [choices[int(picked)]] if picked is not None else []


def _choice_words(content: Content, choice: Choice, by_label: dict[str, set[str]]) -> set[str]:
    found = label_words(content, choice.label, choice.display or choice.label, by_label)
    tap = ServiceChoice.parse(choice.data)
    service = content.services.get(tap.service) if tap is not None and tap.aspect is None else None
    if service is not None:  # a "which one?" chip shows the label; the resident may type the service's name
        found.add(typed_key(content, service.name))
    return found


def _alternatives(choices: list[Choice]) -> bool:
    """Choices of one kind told apart by what they point to (services, opinions, consultations), as opposed to
    a set of different actions (withdraw / notifications off / delete): only these are picked by number."""
    kinds = {
        (postback_data(c.data).get("action"), postback_data(c.data).get("do"))
        for c in choices
        if postback_data(c.data).get("action") not in _OFFERS
    }
    return len(choices) > 1 and len(kinds) == 1


# The flow offered after the services of a "which one?" (แจ้งเรื่องนี้) is numbered with them: "4" picks it.
_OFFERS = frozenset({ReportFromMessage.action, OpinionFromMessage.action})


def _only_reference(content: Content, text: str) -> tuple[str | None, str] | None:
    """(kind or None, bare) when the text is a reference and nothing else."""
    reference, rest = split_reference(text)
    if reference is None or typed_key(content, rest):
        return None
    return reference.kind, reference.bare


def _same_reference(typed: tuple[str | None, str] | None, choice: Choice) -> bool:
    if typed is None:
        return False
    shown = parse_reference(choice.label) or parse_reference(choice.display)
    return shown is not None and shown.bare == typed[1] and typed[0] in (None, shown.kind)
