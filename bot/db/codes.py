"""The coded values the bot stores besides statuses (bot/db/statuses.py): what a hearing's sending is, how it
goes out, a resident's RSVP answer, and what a staff export holds. Columns and audit details keep the words
below; content gives each a Thai word (content/staff.yaml, checked by bot/content/staff_labels.py).

Like statuses.py, this module imports nothing of bot/: checking content names these codes without loading the
hearings, the exports or the database models (which read content themselves)."""

from __future__ import annotations

from enum import StrEnum


class SendingKind(StrEnum):
    """bot.db.models.BroadcastJob.kind: what a hearing's sending tells residents."""

    ANNOUNCE = "announce"
    REMINDER = "reminder"
    FOLLOW_UP = "follow_up"


class SendingMode(StrEnum):
    """bot.db.models.BroadcastJob.mode: to the residents chosen (LINE's multicast) or to every friend."""

    MULTICAST = "multicast"
    BROADCAST = "broadcast"


class RsvpAnswer(StrEnum):
    """bot.db.models.Rsvp.answer: a resident's answer to a hearing's invitation."""

    GOING = "going"
    NOT_GOING = "not_going"
    MAYBE = "maybe"


class ExportKind(StrEnum):
    """What a staff export holds (audit detail 'kind'); PLAN groups opinions by category and village."""

    OPINIONS = "opinions"
    REPORTS = "reports"
    QUERIES = "queries"
    PLAN = "plan"
