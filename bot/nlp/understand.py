"""What a resident's message is about: a command, a case number, a service or one of its FAQ entries, a
problem to report, a wish for the plan, the office itself, another agency's work, or none of these.

How a message is read (each step in a function below):
1. normalized (bot.nlp.normalize), then cut into words with the one tokenizer (bot.nlp.tokenize), and regional
   words and common misspellings read as the words the examples use (content/reading.yaml);
2. a long message is narrowed to the part that carries the question or the problem (focus());
3. the character matcher (bot.nlp.retrieve) scores every label: services, FAQ entries, report types, intents,
   referrals. It is cheap (well under a millisecond) and right on short questions that share words with
   the examples;
4. only when it is unsure, the semantic matcher (bot.nlp.semantic, multilingual-e5) scores the labels too, and
   both scores are blended: meaning carries what residents write in their own words;
5. cue words (problem, wish, question) decide between answering, starting the report flow with its type,
   and starting the opinion flow; a short aspect-only message after an answer is a follow-up on that service.
Thresholds were chosen on the dev half of tests/data/realistic.tsv and on tests/data/qa_dev.tsv with
bench/qa_eval.py; the test half of realistic.tsv is never tuned on. Figures: docs/decisions/reader-thresholds.md
and docs/decisions/embedding-cascade.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.chat.postbacks import fields_of
from bot.content import Content
from bot.nlp import semantic
from bot.nlp.intents import Intent
from bot.nlp.normalize import normalize
from bot.nlp.retrieve import LabelIndex, Match
from bot.nlp.tokenize import Tokenizer
from bot.nlp.topics import ReportTopics, TopicVote
from bot.references import find_reference

# Thresholds on the character matcher's blended cosine (0-1), chosen on the dev sets with bench/qa_eval.py
# (--sweep prints accuracy for other values).
ACCEPT = 0.34
CLARIFY = 0.24
INTENT_ACCEPT = 0.40
# When the runner-up service scores within MARGIN of the best, the message fits both ("เบี้ย", "ภาษี"):
# ask which one rather than pick.
MARGIN = 0.05
# The character matcher is sure enough to skip the embedding: a clear winner on a short message
# (docs/decisions/embedding-cascade.md).
CHAR_SURE = 0.55
CHAR_SURE_MARGIN = 0.15
# Blended score = SEMANTIC_WEIGHT * rescaled e5 cosine + (1 - SEMANTIC_WEIGHT) * character score. e5's cosines
# sit in a narrow band (unrelated Thai texts about 0.75, paraphrases 0.88+): SEMANTIC_FLOOR..SEMANTIC_CEILING
# is stretched to 0..1 so the two scores are comparable.
SEMANTIC_WEIGHT = 0.5
SEMANTIC_FLOOR = 0.82
SEMANTIC_CEILING = 0.93
# A service the characters barely support is not answered on meaning alone (see read()).
CHAR_FLOOR = 0.25
# An FAQ entry answers when it scores this much above its service's own examples.
FAQ_MARGIN = 0.05
# Messages whose topical part is this short are read by characters only (see read()).
SHORT_TOPIC_CHARS = 6
# A follow-up is a short message that names an aspect and little else.
FOLLOW_UP_MAX_LEFTOVER = 8
# Longer messages are read in windows of about this many characters (see focus()).
FOCUS_CHARS = 150
MAX_WINDOWS = 16

SERVICE = "service:"
INTENT = "intent:"
FAQ = "faq:"
REPORT = "report:"
REFERRAL = "referral:"
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
    "ถ้า",
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


# What each menu chip's tap does, for its label typed: LINE for PC and Mac shows no quick replies, so a resident
# there types "ติดตามเรื่อง" or "แจ้งปัญหา/ร้องเรียน" and must get what the tap gives.
_CHIP_INTENTS = {
    "menu.services": Intent.SERVICES_MENU,
    "menu.opinion": Intent.OPINION,
    "menu.report": Intent.REPORT,
    "menu.hearings": Intent.HEARING,
    "menu.mydata": Intent.MYDATA,
    "menu.contact": Intent.CONTACT,
    "cases": Intent.MY_CASES,
}


@dataclass(frozen=True)
class Reading:
    """The outcome of reading one message.

    intent SERVICE: service_id is set; faq_id names the FAQ entry answered (content/faq/), aspect the part of
    the service asked about (fees, penalties, ...). REPORT: report_type is a type of content/reports.yaml
    when the problem is clear, else None (the flow asks). REFERRAL: referral_id. MY_CASES: reference when a
    reference number was typed. The message itself (text) is what the flows keep as the first part.

    CLARIFY and OUT_OF_SCOPE may carry an offer: REPORT when the message tells of a problem (report_type when
    one fits) or is close to a report type by meaning alone, OPINION when it wishes for something: the flow the
    reply offers to start with the message kept, for a resident who described a problem in words no service or
    report type matched surely."""

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
    # The message is a chip's label typed ("แจ้งปัญหา/ร้องเรียน"): the flow starts as from the tap, and the label
    # is not kept as the first part of an opinion or a report.
    chip: bool = False
    # True when the semantic model was consulted for this message (15-80 ms: docs/decisions/embedding-cascade.md).
    embedded: bool = False
    offer: Intent | None = None

    @property
    def answered(self) -> bool:
        return self.intent == "service" and self.service_id is not None


def _offer(reading: Reading, cues: Cues, report_type: str | None) -> Reading:
    """A problem told ("ทางเท้าพัง เดินลำบาก") offers the report flow with the type that fits; a wish with no
    problem in it ("อยากให้มีลานกีฬา") the opinion flow; anything else nothing."""
    if cues.problem:
        return replace(reading, offer=Intent.REPORT, report_type=report_type)
    if cues.wish:
        return replace(reading, offer=Intent.OPINION)
    return reading


# Labels whose best match is answered by their intent alone (the others need cue words or come from a flow).
_ANSWERED_INTENTS = frozenset({"greeting", "thanks", "help", "hearing", "mydata", "office", "my_cases"})
# Short fixed phrases: recognised by their words, never by meaning alone.
_WORDED_INTENTS = frozenset({"greeting", "thanks", "help", "mydata"})
_CLAUSE = re.compile(r"[\n.!?…,;:()\[\]\"'“”]+|\s{2,}|\s(?=\S{12,})")


@dataclass(frozen=True)
class Cues:
    """Which cue words of content/reading.yaml a message has."""

    problem: bool
    wish: bool
    question: bool


class Understanding:
    """Built once from content (example vectors come from a cache after the first start); read() is pure."""

    def __init__(
        self, content: Content, extra_examples: dict[str, list[str]] | None = None, use_embeddings: bool = True
    ) -> None:
        self._content = content
        lexicon = content.reading
        self._regional = lexicon.regional
        self._cue_words = {
            "problem": frozenset(lexicon.problem_cues),
            "wish": frozenset(lexicon.wish_cues),
            "question": frozenset(lexicon.question_cues),
        }
        # Domain words, regional words and cue words are words of the dictionary, so they are never split.
        cue_words = [w for words in self._cue_words.values() for w in words]
        self._tokenizer = Tokenizer(
            [
                *(w for service in content.services.values() for w in (service.name, *service.aliases)),
                *self._regional,
                *cue_words,
                *(w for report_type in content.report_types.values() for w in report_type.words),
            ]
        )
        # Each cue kind split once: one-word cues (compared with the message's words) and the compacted
        # multi-word ones (looked for in the text); windows of long posts are chosen by characters.
        self._cues = {
            kind: (
                frozenset(w for w in words if len(self._tokenizer.words(w)) == 1),
                tuple(_compact(w) for w in words if len(self._tokenizer.words(w)) != 1),
            )
            for kind, words in self._cue_words.items()
        }
        self._topics = ReportTopics(
            {t.id: tuple(normalize(w) for w in t.words) for t in content.report_types.values()},
            lambda word: len(self._tokenizer.words(word)),
            self._tokenizer.custom_words,
        )
        self._window_cues = tuple(_compact(w) for kind in ("question", "problem") for w in self._cue_words[kind])
        # A name of a service that takes reports may hold a cue inside it ("ท่อประปาแตก", "ไฟถนนดับ"): it is one
        # word to the tokenizer, and a problem all the same. (Not a permit's name: "กิจการที่เป็นอันตราย...".)
        reported = {
            word
            for service in content.services.values()
            if service.offers_report
            for word in (service.name, *service.aliases)
        }
        # So may a report type's subject word ("ถนนแตก", "ขยะล้น", "กลิ่นรบกวน"): the dictionary keeps it whole.
        reported |= {word for report_type in content.report_types.values() for word in report_type.words}
        self._word_cues = {
            word: frozenset(kind for kind, (one_word, _) in self._cues.items() if any(c in word for c in one_word))
            for word in self._tokenizer.custom_words & reported
        }
        self._commands = {name: {_compact(normalize(w)) for w in words} for name, words in content.commands.items()}
        self._chip_words = self._typed_chips(content)
        # How each service is named (its name, label and aliases, compacted): what "names another service" means.
        self._names = {
            sid: tuple(_compact(normalize(n)) for n in (service.name, service.label, *service.aliases))
            for sid, service in content.services.items()
        }
        # In content order: the more specific aspects come first (penalties before fees).
        self._aspects = {name: tuple(normalize(w) for w in words) for name, words in content.aspects.items()}
        # Longest first, so "ภายในกี่วัน" goes before "กี่วัน" leaves "ภายใน" behind; words of one length in
        # alphabetical order, not the set's (which changes with every process's hash seed, and with it what
        # overlapping words leave behind: the same message was read two ways by two processes).
        self._generic = sorted(
            {_compact(w) for words in self._aspects.values() for w in words} | set(_FILLERS),
            key=lambda word: (-len(word), word),
        )
        extra = extra_examples or {}
        examples = self._examples(content, extra)
        self._faq_service = {entry_id: entry.service_id for entry_id, entry in content.faq.items()}
        self._index = LabelIndex([(label, self.topical(self.canonical(t))) for label, t in examples])
        self._semantic = (
            semantic.SemanticIndex([(label, self.canonical(t)) for label, t in examples])
            if use_embeddings and semantic.available()
            else None
        )

    @staticmethod
    def _typed_chips(content: Content) -> dict[str, tuple[Intent, str | None]]:
        """The compacted label of every chip that starts something (menu chips, service chips) and what the
        tap does: a service chip ("ภาษีที่ดินฯ", "แจ้งซ่อมไฟ/ถนน/ท่อ") answers with its card."""
        chips: dict[str, tuple[Intent, str | None]] = {}
        for service in content.services.values():
            for label in (service.label, service.name):
                chips[_compact(normalize(label))] = (Intent.SERVICE, service.id)
        for option in content.quick_replies.values():
            intent = _CHIP_INTENTS.get(fields_of(option.postback or "").get("action", ""))
            if intent is not None:
                for typed in (option.label, option.display or option.label):
                    chips[_compact(normalize(typed))] = (intent, None)
        return chips

    @staticmethod
    def _examples(content: Content, extra: dict[str, list[str]]) -> list[tuple[str, str]]:
        """Every (label, example text) the matchers learn from."""
        examples: list[tuple[str, str]] = []
        for service in content.services.values():
            texts = [service.name, service.label, *service.aliases, *service.examples, *extra.get(service.id, [])]
            examples += [(SERVICE + service.id, t) for t in texts]
        for entry_id, entry in content.faq.items():
            examples += [(FAQ + entry_id, t) for t in (entry.question, *entry.examples, *extra.get(entry_id, []))]
        for report_type in content.report_types.values():
            examples += [(REPORT + report_type.id, t) for t in report_type.examples]
        for referral_id, referral in content.referrals.items():
            examples += [(REFERRAL + referral_id, t) for t in (referral.name, *referral.examples)]
        for intent, phrases in content.intents.items():
            examples += [(INTENT + intent, t) for t in phrases]
        return examples

    # -- the words of a message ---------------------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """The message's words, regional words read as standard ones."""
        return [self._regional.get(w, w) for w in self._tokenizer.words(text)]

    def canonical(self, text: str) -> str:
        """Normalized text with regional words and misspellings replaced, spaces kept between clauses."""
        text = normalize(text)
        if not self._regional:
            return text
        return " ".join("".join(self.words(part)) for part in text.split())

    def cues(self, text: str) -> Cues:
        words = set(self._tokenizer.words(text))
        compact = _compact(text)
        inside = {kind for word in words for kind in self._word_cues.get(word, ())}

        def has(kind: str) -> bool:
            # Multi-word cues ("ไม่มาเก็บ") are looked for in the text, one-word cues among the words.
            one_word, several = self._cues[kind]
            return kind in inside or not words.isdisjoint(one_word) or any(cue in compact for cue in several)

        return Cues(problem=has("problem"), wish=has("wish"), question=has("question") or "?" in text)

    def _has_cue(self, text: str) -> bool:
        """Whether text holds a question or problem cue (by characters: cheap, for choosing windows)."""
        compact = _compact(text)
        return any(cue in compact for cue in self._window_cues)

    def focus(self, text: str) -> str:
        """The part of a long message that carries what it is about: the window of clauses the character
        matcher scores highest (the rest is context: who, where, since when, how annoyed)."""
        if len(text) <= FOCUS_CHARS:
            return text
        clauses = [c.strip() for c in _CLAUSE.split(text) if c and c.strip()]
        windows: list[str] = []
        for start in range(len(clauses)):
            window = ""
            for clause in clauses[start:]:
                if window and len(window) + len(clause) > FOCUS_CHARS:
                    break
                window = f"{window} {clause}".strip()
            windows.append(window[: FOCUS_CHARS * 2])
        if len(windows) > MAX_WINDOWS:
            # The opening, the end (where a long post usually asks), and the windows that ask or complain.
            cued = [w for w in windows[1:-1] if self._has_cue(w)]
            step = max(1.0, len(cued) / (MAX_WINDOWS - 2))
            windows = [windows[0], *(cued[int(i * step)] for i in range(min(len(cued), MAX_WINDOWS - 2))), windows[-1]]

        def best(window: str) -> float:
            matches = self._index.scores(self.topical(window))
            return next((m.score for m in matches if not m.label.startswith(INTENT)), 0.0)

        return max(windows, key=best)

    # -- reading ------------------------------------------------------------------------------------------

    def read(self, message: str, context_service: str | None = None) -> Reading:
        text = normalize(message)
        compact = _compact(text)
        for name in ("cancel", "menu", "help", "contact"):
            if compact in self._commands.get(name, set()):
                return Reading(text=text, intent=name)
        if not compact:
            return Reading(text=text, intent=Intent.OUT_OF_SCOPE)
        if compact in self._chip_words:
            intent, service_id = self._chip_words[compact]
            return Reading(text=text, intent=intent, service_id=service_id, score=1.0, chip=True)
        reference = find_reference(text)
        if reference is not None:
            return Reading(text=text, intent=Intent.MY_CASES, reference=reference, score=1.0)
        canonical = self.canonical(text)
        cues = self.cues(canonical)
        aspect = self.aspect(canonical)
        focus = self.focus(canonical)
        scores = {m.label: m.score for m in self._index.scores(self.topical(focus))}
        services = self._services(scores)
        # Another service is "named" by its own names and examples, not by an FAQ entry's generic question
        # ("ได้เมื่อไหร่" is in the allowances' FAQ, and after the building permit card it is about the permit).
        named = self._services({k: v for k, v in scores.items() if not k.startswith(FAQ)})
        if context_service and aspect and self._is_follow_up(canonical, named, context_service):
            return Reading(
                text=text,
                intent=Intent.SERVICE,
                service_id=context_service,
                score=1.0,
                candidates=services,
                aspect=aspect,
                follow_up=True,
            )
        chars = scores
        by_characters = {m.label: m.score for m in self._services(scores, limit=None)}
        embedded = False
        # One or two words ("เบี้ย") carry too little meaning for the model, and emoji, digits and punctuation
        # alone none: the characters' reading stands.
        short = len(self.topical(focus).replace(" ", "")) <= SHORT_TOPIC_CHARS or not semantic.has_words(canonical)
        # A problem told whose subject words and examples agree on its type is read without the embedding,
        # which costs most of a message's CPU (bot.nlp.topics).
        topic = self._told_by_words(scores, cues, canonical, focus)
        if (
            self._semantic is not None
            and not short
            and topic is None
            and not self._char_sure(scores, cues, len(canonical))
        ):
            scores = self._blend(
                # The model reads the message's opening (semantic.MAX_QUERY_CHARS): where residents name the topic.
                scores, self._semantic.scores(semantic.embed([canonical])[0])
            )
            services = self._services(scores)
            embedded = True
            # Meaning alone finds a service close to almost anything ("บัตรทอง" near "บัตรประชาชน"): a service
            # the message shares next to no characters with is offered as a choice, not answered.
            services = tuple(m for m in services if by_characters.get(m.label, 0.0) >= CHAR_FLOOR) or tuple(
                Match(m.label, min(m.score, ACCEPT - 0.01)) for m in services
            )
        return self._decide(text, scores, services, cues, aspect, embedded, chars, topic)

    def _decide(
        self,
        text: str,
        scores: dict[str, float],
        services: tuple[Match, ...],
        cues: Cues,
        aspect: str | None,
        embedded: bool,
        chars: dict[str, float],
        topic: TopicVote | None,
    ) -> Reading:
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        best_label, best_score = ranked[0] if ranked else ("", 0.0)
        report_type, report_score = self._best(scores, REPORT)
        if topic is not None:
            # Its words and its examples say the same type: a problem of that type, sure enough to report.
            report_type, report_score = topic.report_type, max(report_score, ACCEPT)
        base = Reading(text=text, intent=Intent.OUT_OF_SCOPE, candidates=services, aspect=aspect, embedded=embedded)
        # A problem told, not asked about: the report flow, with its type when one fits. A complaint that also
        # asks ("ซ่อมได้ไหม", "ทราบไหมว่าชำรุดหนัก") is still a problem when a report type fits it best.
        told = not cues.question or best_label.startswith(REPORT)
        if cues.problem and told and (best_label.startswith((REPORT, SERVICE)) or report_score >= CLARIFY):
            service = self._content.services.get(services[0].label) if services else None
            if best_label.startswith(REPORT) or service is None or service.offers_report or report_score >= ACCEPT:
                return replace(
                    base,
                    intent=Intent.REPORT,
                    report_type=report_type if report_score >= CLARIFY else None,
                    score=report_score,
                )
        # A wish with no problem told ("ควรจะปลูกต้นไม้คืน") is a proposal, even when it names a report's topic.
        if cues.wish and not cues.question and not cues.problem:
            return replace(base, intent=Intent.OPINION, score=best_score)
        reported = best_label.startswith(REPORT) and best_score >= ACCEPT and not cues.question
        if reported and chars.get(best_label, 0.0) >= CHAR_FLOOR:
            return replace(base, intent=Intent.REPORT, report_type=report_type, score=best_score)
        # No problem word, and close to a problem by meaning alone ("ร้องเพลงให้ฟังหน่อย" shares only "ร้อง" with
        # "ร้องเรียน"): whether it is a problem at all is unsure, so the reply below offers the report flow (with
        # the type meaning found, which the resident sees before sending) instead of starting it.
        by_meaning = reported
        if best_label.startswith(INTENT) and best_score >= INTENT_ACCEPT:
            intent = best_label.removeprefix(INTENT)
            if intent in _WORDED_INTENTS and chars.get(best_label, 0.0) < INTENT_ACCEPT:
                # "เล่นเกมอะไรดี" means something like "ทำอะไรได้บ้าง" to the model, but it is not a request for help.
                return replace(base, intent=Intent.OUT_OF_SCOPE, score=best_score)
            if intent in _ANSWERED_INTENTS or intent in ("opinion", "report"):
                return replace(base, intent=intent, score=best_score)
            return replace(base, intent=Intent.OUT_OF_SCOPE, score=best_score)
        if best_label.startswith(REFERRAL) and best_score >= ACCEPT:
            if chars.get(best_label, 0.0) < CHAR_FLOOR:
                # Another agency's work by meaning alone ("คุณชื่ออะไร" is near "เปลี่ยนชื่อตัว"): declined without
                # sending the resident to an agency the words do not name.
                return replace(base, score=best_score)
            return replace(
                base, intent=Intent.REFERRAL, referral_id=best_label.removeprefix(REFERRAL), score=best_score
            )
        close_call = len(services) > 1 and services[0].score - services[1].score < MARGIN
        if services and services[0].score >= ACCEPT and not close_call and not best_label.startswith(INTENT):
            faq_id, faq_score = self._best(scores, FAQ)
            faq_id = (
                faq_id if faq_id and self._faq_service[faq_id] == services[0].label and faq_score >= ACCEPT else None
            )
            if faq_id and faq_score < scores.get(SERVICE + services[0].label, 0.0) + FAQ_MARGIN:
                # "ภาษีป้าย" names the service, and "ภาษีป้ายค่าธรรมเนียมเท่าไหร่" asks what its card answers: an FAQ
                # entry answers only when it fits clearly better than the service itself.
                faq_id = None
            return replace(
                base, intent=Intent.SERVICE, service_id=services[0].label, score=services[0].score, faq_id=faq_id
            )
        # Unsure from here on: the reply asks or declines, and offers the flow the message's cue words point to.
        offered = _offer(base, cues, report_type if report_score >= CLARIFY else None)
        if by_meaning and offered.offer is None:
            offered = replace(base, offer=Intent.REPORT, report_type=report_type)
        if services and services[0].score >= CLARIFY and not best_label.startswith(INTENT):
            return replace(offered, intent=Intent.CLARIFY, score=services[0].score)
        if cues.problem and not cues.question:
            return replace(base, intent=Intent.REPORT, report_type=None, score=report_score)
        return replace(offered, intent=Intent.OUT_OF_SCOPE, score=services[0].score if services else 0.0)

    def _told_by_words(self, scores: dict[str, float], cues: Cues, canonical: str, focus: str) -> TopicVote | None:
        """The subject words' vote when they settle a problem told: they name one report type clearly (in the
        focus, or anywhere when the focus names none) and the character matcher's best report type is the same.
        Not a question, and not when the characters point at an intent ("ติดตามเรื่องที่ร้องเรียน" follows a case up),
        an FAQ entry, a referral or a service that takes no reports.
        The words alone, without that agreement, read the test half worse than the embedding does
        (docs/decisions/embedding-cascade.md)."""
        best = max(scores, key=scores.__getitem__, default="")
        if not cues.problem or cues.question or best.startswith(INTENT):
            return None
        # A service that takes no reports, named best ("ใบอนุญาตกิจการที่เป็นอันตราย...หมดอายุ"), is asked about.
        service = self._content.services.get(best.removeprefix(SERVICE)) if best.startswith(SERVICE) else None
        if best.startswith((FAQ, REFERRAL)) or (service is not None and not service.offers_report):
            return None
        vote = next(
            (
                v
                # A short message is its own focus: read once.
                for part in dict.fromkeys((focus, canonical))
                if (v := self._topics.vote(self.words(part), _compact(part))).report_type
            ),
            None,
        )
        if vote is None or not vote.clear or self._best(scores, REPORT)[0] != vote.report_type:
            return None
        return vote

    def _services(self, scores: dict[str, float], limit: int | None = 3) -> tuple[Match, ...]:
        """The best services (the top three by default); an FAQ entry counts for its service."""
        best: dict[str, float] = {}
        for label, score in scores.items():
            if label.startswith(SERVICE):
                sid = label.removeprefix(SERVICE)
            elif label.startswith(FAQ):
                sid = self._faq_service[label.removeprefix(FAQ)]
            else:
                continue
            best[sid] = max(best.get(sid, 0.0), score)
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:limit]
        return tuple(Match(sid, score) for sid, score in ranked)

    @staticmethod
    def _best(scores: dict[str, float], prefix: str) -> tuple[str | None, float]:
        found = [(label, score) for label, score in scores.items() if label.startswith(prefix)]
        if not found:
            return None, 0.0
        label, score = max(found, key=lambda kv: kv[1])
        return label.removeprefix(prefix), score

    @staticmethod
    def _char_sure(scores: dict[str, float], cues: Cues, length: int) -> bool:
        """A short message the character matcher places clearly: the embedding would not change the answer."""
        ranked = sorted(scores.values(), reverse=True)
        if not ranked or cues.problem or cues.wish or length > FOCUS_CHARS:
            return False
        runner_up = ranked[1] if len(ranked) > 1 else 0.0
        return ranked[0] >= CHAR_SURE and ranked[0] - runner_up >= CHAR_SURE_MARGIN

    @staticmethod
    def _blend(chars: dict[str, float], meaning: dict[str, float]) -> dict[str, float]:
        span = SEMANTIC_CEILING - SEMANTIC_FLOOR
        return {
            label: SEMANTIC_WEIGHT * min(1.0, max(0.0, (score - SEMANTIC_FLOOR) / span))
            + (1 - SEMANTIC_WEIGHT) * chars.get(label, 0.0)
            for label, score in meaning.items()
        }

    def topical(self, text: str) -> str:
        """The message without the words any question has ("ต้องใช้เอกสารอะไร", "กี่วัน", "ครับ"): what is
        left says which service it is about. A message of generic words only is kept whole."""
        compact = _compact(text)
        for word in self._generic:
            compact = compact.replace(word, " ")
        topical = " ".join(compact.split())
        return topical if len(topical.replace(" ", "")) >= 2 else _compact(text)

    def aspect(self, text: str) -> str | None:
        """Which part of a service the message asks about (penalties, documents, fees, ...), if any: the
        first aspect of content/intents.yaml with a word in the message."""
        for name, words in self._aspects.items():
            if any(word in text for word in words):
                return name
        return None

    def _is_follow_up(self, text: str, services: tuple[Match, ...], context: str) -> bool:
        """Short and about an aspect, and not clearly naming another service."""
        # What is left once every aspect's words and the fillers are gone ("ถ้ายื่นช้าต้องเสียเพิ่มเท่าไหร่" is all
        # question words: penalties and fees), longest first.
        leftover = _compact(text)
        for word in self._generic:
            leftover = leftover.replace(word, "")
        if len(leftover) > FOLLOW_UP_MAX_LEFTOVER:
            return False
        # Another service counts only when the message names it, by a name or by what is left once the question
        # words are gone ("ภาษีป้ายเท่าไหร่", "ป้ายโดนปรับไหม"): after the land tax card, "ยื่นช้าโดนปรับไหม" is about
        # land tax although the whole sentence is close to one of the signboard tax's examples.
        compact = _compact(text)
        if any(m.label != context and any(name in compact for name in self._names[m.label]) for m in services):
            return False
        rest = self._services({m.label: m.score for m in self._index.scores(leftover)}) if leftover else ()
        return not (rest and rest[0].label != context and rest[0].score >= ACCEPT)


def _compact(text: str) -> str:
    return "".join(text.split()).casefold().rstrip("!?.。")
