"""What `python -m bot ask --json` prints for one message: everything the reader decided, and the reply.

One JSON object per message, so a batch of messages (one per line) can be scored line by line against
expected labels (bench/qa_eval.py's sets, or anyone's): the output's n-th line is the input's n-th line,
an empty line included (it gets the answer an empty message gets)."""

from __future__ import annotations

from typing import Any

from bot.chat.messages import WireMessage
from bot.handlers.services.qa import QuestionAnswering, reply_text
from bot.nlp.understand import Reading

# The readings that start (or offer) a flow in the chat instead of answering at once (bot/handlers/services/chat.py).
FLOW_INTENTS = ("report", "opinion")
SCORE_DIGITS = 4


def flow_of(reading: Reading) -> str | None:
    """The flow the chat would start or offer for this reading: "report", "opinion", or None."""
    return reading.intent if reading.intent in FLOW_INTENTS else None


def answer_record(qa: QuestionAnswering, message: str) -> dict[str, Any]:
    """The reading of one message and the reply a resident would read, as JSON-ready values."""
    reading = qa.read(message)
    messages = qa.reply_for(reading)
    return {
        "text": message,
        "intent": str(reading.intent),
        "service_id": reading.service_id,
        "score": round(reading.score, SCORE_DIGITS),
        "candidates": [{"id": m.label, "score": round(m.score, SCORE_DIGITS)} for m in reading.candidates],
        "flow": flow_of(reading),
        "report_type": reading.report_type,
        "faq_id": reading.faq_id,
        "referral_id": reading.referral_id,
        "reference": reading.reference,
        "aspect": reading.aspect,
        "follow_up": reading.follow_up,
        "embedded": reading.embedded,
        "reply": reply_text(messages),
        "chips": chips_of(messages),
    }


def chips_of(messages: list[WireMessage]) -> list[str]:
    """The quick-reply chips under the reply, by label: what "which one?" offers is seen, not only said."""
    return [
        str(item.get("action", {}).get("label", ""))
        for message in messages
        for item in message.get("quickReply", {}).get("items", [])
    ]
