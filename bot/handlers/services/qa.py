"""Question answering as one piece: read a message (bot.nlp), and turn the reading into LINE messages
(bot.handlers.services.cards for services, responses.yaml for the rest). Pure: the chat handler and `python -m bot
ask` share
it, so the command line answers exactly as the bot would."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from bot.chat.messages import MessageBuilder, WireMessage
from bot.chat.numbered import chip_names, numbered
from bot.content import Content
from bot.handlers.services.cards import ServiceAnswers
from bot.handlers.services.office import office_reply
from bot.handlers.services.referrals import referral_reply
from bot.handlers.services.timeline import calendar_from, today_in_bangkok
from bot.nlp.categorize import Categorizer
from bot.nlp.reader import ProcessReader
from bot.nlp.understand import Reading, Understanding

# Aspects answered on their own even without a service answered before ("ภาษีที่ดินจ่ายช้าโดนปรับไหม"): the
# card answers the rest, as a resident asking "ภาษีที่ดิน ค่าธรรมเนียม" wants the whole picture.
DIRECT_ASPECTS = frozenset({"timeline", "penalties", "benefit", "deadlines", "who", "where"})
# Command words understood by the reader, answered with the response of the same name.
COMMAND_RESPONSES = {"menu": "menu", "help": "help", "contact": "contact", "cancel": "nothing_to_cancel"}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class QuestionAnswering:
    content: Content
    # Built on the first read in this process (from_content builds it at once); a server whose messages are
    # read in a child process (reader_process) never builds it here.
    understanding: Understanding | None = None
    clock: Callable[[], dt.datetime] = field(default=_utcnow)
    # The phrasings staff attached to services and FAQ entries (bot/handlers/services/phrasings.py), learned by both
    # readers.
    examples: dict[str, list[str]] = field(default_factory=dict)
    reader_process: ProcessReader | None = None

    def __post_init__(self) -> None:
        self.calendar = calendar_from(self.content.extra_holidays, self.content.working_days)
        self.answers = ServiceAnswers(self.content, self.calendar)
        self.builder = MessageBuilder(self.content)

    @classmethod
    def from_content(cls, content: Content, clock: Callable[[], dt.datetime] = _utcnow) -> QuestionAnswering:
        return cls(content=content, understanding=Understanding(content), clock=clock)

    def today(self) -> dt.date:
        return today_in_bangkok(self.clock())

    def read(self, text: str, context_service: str | None = None) -> Reading:
        """Read here, in the calling thread (the command line, tests, bench/qa_eval.py)."""
        understanding = self.understanding
        if understanding is None:
            understanding = self.understanding = Understanding(self.content, self.examples)
        return understanding.read(text, context_service)

    async def read_for_chat(self, text: str, context_service: str | None = None) -> Reading:
        """Read without holding the event loop: in the reader process when there is one, else in a thread
        (the embedding takes 15-80 ms of CPU)."""
        if self.reader_process is not None:
            return await self.reader_process.read(text, context_service)
        return await asyncio.to_thread(self.read, text, context_service)

    async def learn(self, examples: dict[str, list[str]]) -> None:
        """New staff phrasings: every reader in use is rebuilt with them (a few hundred milliseconds, off the
        event loop), then swapped in at once."""
        self.examples = examples
        if self.reader_process is not None:
            await self.reader_process.learn(examples)
        if self.understanding is not None or self.reader_process is None:
            self.understanding = await asyncio.to_thread(Understanding, self.content, examples)

    def reply_for(self, reading: Reading, feedback_key: int | None = None) -> list[WireMessage]:
        """The messages that answer this reading: the services feature's answers. Intents another feature's
        router claims (a problem, a wish, my cases, my data, hearings) never come here: their routers answer
        them, in the chat and in `python -m bot ask` alike (bot/handlers/services/ask.py)."""
        if reading.intent == "service" and reading.service_id:
            service = self.content.services[reading.service_id]
            entry = self.content.faq.get(reading.faq_id) if reading.faq_id else None
            if entry is not None:
                return [self.answers.faq(service, entry)]
            if reading.aspect and (reading.follow_up or reading.aspect in DIRECT_ASPECTS):
                return [self.answers.aspect(service, reading.aspect, self.today())]
            return [self.answers.card(service, feedback_key, today=self.today())]
        if reading.intent == "referral" and reading.referral_id in self.content.referrals:
            return [referral_reply(self.builder, self.content.referrals[reading.referral_id])]
        if reading.intent == "office":
            return [office_reply(self.content, self.builder, reading.text, self.today(), self.calendar)]
        # A problem or a wish in a message the reader could not place: its flow is offered, the message kept.
        offer = self.answers.offer(reading, feedback_key) if feedback_key is not None else None
        if reading.intent == "clarify":
            chosen = [self.content.services[m.label] for m in reading.candidates]
            chips = self.answers.clarify(chosen) + ([offer] if offer else [])
            # Named and numbered in the text too: LINE for PC shows no chips, and "2" typed picks the second.
            message = self.builder.text("clarify", choices=numbered(chip_names(chips)))
            message["quickReply"] = {"items": chips}
            return [message]
        if reading.intent in COMMAND_RESPONSES:
            return [self.builder.text(COMMAND_RESPONSES[reading.intent])]
        if reading.intent in ("greeting", "thanks"):
            return [self.builder.text(reading.intent)]
        if reading.intent == "help":
            return [self.builder.text("help")]
        if offer is not None:
            message = self.builder.text(f"{reading.offer}_offer")
            message["quickReply"] = {"items": [offer, *message.get("quickReply", {}).get("items", [])]}
            return [message]
        return [self.builder.text("out_of_scope")]

    @cached_property
    def categorizer(self) -> Categorizer:
        """Loaded on first use: the embedding model costs a second and 70 MB, and only opinions need it."""
        return Categorizer(self.content)

    def featured(self) -> list[str]:
        return [sid for sid in self.content.featured_services if sid in self.content.services]


def reply_text(messages: list[WireMessage]) -> str:
    """What a resident would read, as plain text (the alt text of Flex cards)."""
    return "\n\n".join(str(m.get("text") or m.get("altText") or "") for m in messages)
