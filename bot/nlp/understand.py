"""What a resident's message is about: a command, an intent, a service (with a confidence), or none of these.

Order of decisions: global commands (exact words from content/commands.yaml); the best-scoring label among
services and intents (bot.nlp.retrieve); a follow-up about the service just answered ("กี่วัน" after an
answer about a service); otherwise out of scope. Service scores below ACCEPT but above CLARIFY are a grey
zone: the bot asks which of the top candidates was meant instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.content import Content
from bot.nlp.normalize import normalize
from bot.nlp.retrieve import LabelIndex, Match

# Thresholds on the blended cosine score, chosen on tests/data/qa_dev.tsv with bench/qa_eval.py
# (the report there prints accuracy for other values).
ACCEPT = 0.34
CLARIFY = 0.24
INTENT_ACCEPT = 0.40
# When the runner-up service scores within MARGIN of the best, the message fits both ("เบี้ย", "ภาษี"):
# ask which one rather than pick.
MARGIN = 0.05
# A follow-up is a short message that names an aspect and little else.
FOLLOW_UP_MAX_LEFTOVER = 8

SERVICE = "service:"
INTENT = "intent:"
ASPECT_PRIORITY = ("timeline", "documents", "fees", "time", "contact", "steps")
_FILLERS = (
    "ครับ",
    "ค่ะ",
    "คะ",
    "ค่า",
    "จ้า",
    "นะ",
    "ไหม",
    "มั้ย",
    "บ้าง",
    "อะไร",
    "ต้อง",
    "ใช้",
    "หน่อย",
    "ด้วย",
    "เรื่องนี้",
    "อันนี้",
    "แล้ว",
    "ละ",
    "?",
    "ๆ",
)


class Intent(StrEnum):
    """What a message asks the bot to do. Values are stored in service_queries.intent: keep them stable."""

    SERVICE = "service"  # answer about a service (its card, an aspect, or one of its FAQ entries)
    CLARIFY = "clarify"  # "which one?": the candidates as chips
    OUT_OF_SCOPE = "out_of_scope"
    REFERRAL = "referral"  # not the municipality's work, but we know who does it (content/referrals.yaml)
    OFFICE = "office"  # the municipality itself: phone, hours, open today (content/municipality.yaml)
    MY_CASES = "my_cases"  # the resident's own reports and opinions, or one by its reference
    REPORT = "report"  # a problem: start the report flow (report_type when it is clear)
    OPINION = "opinion"  # a wish or suggestion: start the opinion flow with the text kept
    HEARING = "hearing"
    MYDATA = "mydata"
    GREETING = "greeting"
    THANKS = "thanks"
    HELP = "help"
    MENU = "menu"
    CANCEL = "cancel"
    CONTACT = "contact"


@dataclass(frozen=True)
class Reading:
    """The outcome of reading one message.

    intent SERVICE: service_id is set; faq_id names the FAQ entry answered (content/faq/), aspect the part of
    the service asked about (fees, penalties, ...). REPORT: report_type is a type of content/reports.yaml
    when the problem is clear, else None (the flow asks). REFERRAL: referral_id. MY_CASES: reference when a
    reference number was typed. The message itself (text) is what the flows keep as the first part."""

    text: str
    intent: str
    service_id: str | None = None
    score: float = 0.0
    candidates: tuple[Match, ...] = ()
    aspect: str | None = None
    follow_up: bool = False
    faq_id: str | None = None
    report_type: str | None = None
    referral_id: str | None = None
    reference: str | None = None
    # True when the semantic model was consulted for this message (it costs 15-80 ms; see bench/qa_eval.py).
    embedded: bool = False

    @property
    def answered(self) -> bool:
        return self.intent == "service" and self.service_id is not None


class Understanding:
    """Built once from content; read() is pure and fast (well under a millisecond per message)."""

    def __init__(self, content: Content, extra_examples: dict[str, list[str]] | None = None) -> None:
        self._commands = {name: {_compact(normalize(w)) for w in words} for name, words in content.commands.items()}
        self._aspects = {name: tuple(normalize(w) for w in words) for name, words in content.aspects.items()}
        # Longest first, so "ภายในกี่วัน" goes before "กี่วัน" leaves "ภายใน" behind.
        self._generic = sorted(
            {_compact(w) for words in self._aspects.values() for w in words} | set(_FILLERS), key=len, reverse=True
        )
        examples: list[tuple[str, str]] = []
        for service in content.services.values():
            texts = [
                service.name,
                service.label,
                *service.aliases,
                *service.examples,
                *(extra_examples or {}).get(service.id, []),
            ]
            examples += [(SERVICE + service.id, self.topical(normalize(t))) for t in texts]
        for intent, phrases in content.intents.items():
            examples += [(INTENT + intent, self.topical(normalize(t))) for t in phrases]
        self._index = LabelIndex(examples)

    def read(self, message: str, context_service: str | None = None) -> Reading:
        text = normalize(message)
        compact = _compact(text)
        for name in ("cancel", "menu", "help", "contact"):
            if compact in self._commands.get(name, set()):
                return Reading(text=text, intent=name)
        aspect = self.aspect(text)
        matches = self._index.scores(self.topical(text)) if text else []
        services = tuple(m for m in matches if m.label.startswith(SERVICE))[:3]
        services = tuple(Match(m.label.removeprefix(SERVICE), m.score) for m in services)
        best = matches[0] if matches else None
        if context_service and aspect and self._is_follow_up(text, aspect, services, context_service):
            return Reading(
                text=text,
                intent="service",
                service_id=context_service,
                score=1.0,
                candidates=services,
                aspect=aspect,
                follow_up=True,
            )
        if best is not None and best.label.startswith(INTENT) and best.score >= INTENT_ACCEPT:
            return Reading(
                text=text, intent=best.label.removeprefix(INTENT), score=best.score, candidates=services, aspect=aspect
            )
        close_call = len(services) > 1 and services[0].score - services[1].score < MARGIN
        if (
            services
            and services[0].score >= ACCEPT
            and not close_call
            and (best is None or best.label.startswith(SERVICE))
        ):
            return Reading(
                text=text,
                intent="service",
                service_id=services[0].label,
                score=services[0].score,
                candidates=services,
                aspect=aspect,
            )
        if services and services[0].score >= CLARIFY and (best is None or best.label.startswith(SERVICE)):
            return Reading(text=text, intent="clarify", score=services[0].score, candidates=services, aspect=aspect)
        return Reading(
            text=text,
            intent="out_of_scope",
            score=services[0].score if services else 0.0,
            candidates=services,
            aspect=aspect,
        )

    def topical(self, text: str) -> str:
        """The message without the words any question has ("ต้องใช้เอกสารอะไร", "กี่วัน", "ครับ"): what is
        left says which service it is about. A message of generic words only is kept whole."""
        compact = _compact(text)
        for word in self._generic:
            compact = compact.replace(word, " ")
        topical = " ".join(compact.split())
        return topical if len(topical.replace(" ", "")) >= 2 else _compact(text)

    def aspect(self, text: str) -> str | None:
        """Which part of a service the message asks about (documents, fees, time, ...), if any."""
        for name in ASPECT_PRIORITY:
            if any(word in text for word in self._aspects.get(name, ())):
                return name
        return None

    def _is_follow_up(self, text: str, aspect: str, services: tuple[Match, ...], context: str) -> bool:
        """Short and about an aspect, and not clearly naming another service."""
        leftover = _compact(text)
        for word in (*self._aspects.get(aspect, ()), *_FILLERS):
            leftover = leftover.replace(_compact(word), "")
        names_another = bool(services) and services[0].score >= ACCEPT and services[0].label != context
        return len(leftover) <= FOLLOW_UP_MAX_LEFTOVER and not names_another


def _compact(text: str) -> str:
    return "".join(text.split()).casefold().rstrip("!?.。")
