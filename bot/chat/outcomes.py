"""What a handled event's outcome says: the short diagnostic word stored with it (inbound_event.outcome), read in
the logs, by staff looking into a chat, and by tests.

An outcome is a kind and, after it, details joined with ':' ("report-saved:ร-2569-00001", "rsvp:7:going:saved").
Handlers record one on their Turn (bot/chat/dispatch.py) through record, never by assigning a string:

    record(turn, Outcome.REPORT_SAVED, reference)
    record(turn, Outcome.WELCOMED)

The kinds are this module's Outcome; a typed question answered by the services router records its reading's
intent (bot.nlp.intents.Intent: "greeting", "service:land_tax"); a flow records '<its kind>-<what happened>'
(FlowLabel, made by Flow.outcome in bot/chat/flows.py: "report-consent", "opinion-aside:village"). A later record
replaces an earlier one: the last is stored.

Stored outcomes are read by people and old rows stay as they are: never change a member's value. A new kind is a
new member. Turn.outcome is a Recorded, so mypy refuses a string assigned to it, and tests/test_outcomes.py fails
on any assignment to an .outcome under bot/ but render's (this module's record, the inbox's).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NewType, Protocol

from bot.nlp.intents import Intent

# An outcome as stored: only render() makes one, so a bare string cannot be assigned to Turn.outcome (mypy).
Recorded = NewType("Recorded", str)
# A flow's kind of outcome, '<flow kind>-<what happened>' ("report-aside"): made by Flow.outcome alone.
FlowLabel = NewType("FlowLabel", str)


class Outcome(StrEnum):
    """The kinds of outcome; each value is what is stored before the first ':' (never change one)."""

    # -- the dispatcher and the inbox (bot/chat/dispatch.py, bot/delivery/inbox.py) --
    IGNORED = "ignored"  # the default; from the fallback (leave, beacon, unknown events), details: the event type
    HANDLER_ERROR = "handler-error"  # the event failed every attempt (the handler raised): stored as failed
    OFFERED_AMBIGUOUS = "offered-ambiguous"  # the typed word is on several offered buttons: "which one?"

    # -- commands, the menu, follow and unfollow, media, the fallback (bot/chat/) --
    CANCELLED = "cancelled"  # ยกเลิก in a flow: the flow is dropped
    NOTHING_TO_CANCEL = "nothing-to-cancel"  # ยกเลิก with no flow open
    MENU = "menu"  # เมนู: the main menu
    HELP = "help"  # ช่วยเหลือ: what the bot can do
    CONTACT = "contact"  # the office's contact card (typed, or the menu's tile)
    WELCOMED = "welcomed"  # followed (added as a friend): the welcome
    UNFOLLOWED = "unfollowed"  # blocked or removed: the resident is marked as not following
    GROUP_INTRO = "group-intro"  # added to a group or room: the introduction
    STICKER = "sticker"  # a sticker sent: a sticker's answer
    IMAGE = "image"  # a photo outside a report: how to attach one to a report
    LOCATION = "location"  # a location outside a report: how to attach one to a report
    UNSUPPORTED = "unsupported"  # video, audio, a file or an unknown message type; details: the message type
    POSTBACK_UNKNOWN = "postback-unknown"  # a tap no router knows (an old card's): "expired"
    UNSEND_INVALID = "unsend-invalid"  # an unsend event that names no message
    UNSENT = "unsent"  # the resident unsent a message, its text blanked; details: how many stored rows

    # -- services (bot/handlers/services/chat.py; a typed question records its reading's Intent) --
    POSTBACK_UNKNOWN_SERVICE = "postback-unknown-service"  # a service chip of a service no longer in content
    SERVICES_MENU = "services-menu"  # the services menu: how to ask, featured services as chips
    FEEDBACK = "feedback"  # 👍/👎 stored on the question; details: the vote
    FEEDBACK_INVALID = "feedback-invalid"  # 👍/👎 of someone else's question, or of one not stored

    # -- hearings (bot/handlers/hearings/chat.py) --
    HEARINGS = "hearings"  # the upcoming hearings shown; details: how many, or "none"
    RSVP = "rsvp"  # an answer to a hearing; details: hearing id, answer, result ("unknown": hearing not found)

    # -- opinions and reports (bot/handlers/opinions/chat.py, bot/handlers/reports/chat.py) --
    OPINION_STARTED = "opinion-started"  # the opinion flow opened (its first question asked)
    OPINION_SAVED = "opinion-saved"  # an opinion filed; details: its reference
    OFFER_GONE = "offer-gone"  # แจ้งเรื่องนี้ / เสนอเป็นความคิดเห็น of a message no longer held, or not this chat's
    REPORT_LOCATION_INVALID = "report-location-invalid"  # a shared location that is no point on Earth: asked again
    REPORT_SAVED = "report-saved"  # a report filed; details: its reference
    REPORT_RATING_INVALID = "report-rating-invalid"  # a rating tap of a report not done, or not the resident's
    REPORT_REOPENED = "report-reopened"  # a done report rated low and reopened; details: its reference
    REPORT_RATED = "report-rated"  # a done report rated; details: the stars

    # -- the resident's cases (bot/handlers/residents/cases.py) --
    CASES_TAP_INVALID = "cases-tap-invalid"  # a case tap that names no case
    CASE_NOT_FOUND = "case-not-found"  # no such case of the resident's (someone else's gets the same)
    CASE_SHOWN = "case-shown"  # one case and its timeline shown
    CASES_NONE = "cases-none"  # the resident has no cases
    CASES_LISTED = "cases-listed"  # the resident's cases listed; details: how many

    # -- ข้อมูลของฉัน (bot/handlers/residents/mydata.py) --
    MYDATA_SHOWN = "mydata-shown"  # what is held about the resident shown
    MYDATA_WITHDRAW_AFTER_FLOW = "mydata-withdraw-after-flow"  # withdrawing typed in a flow: left for after it
    MYDATA_DELETE_AFTER_FLOW = "mydata-delete-after-flow"  # deleting everything typed in a flow: left for after
    MYDATA_NO_RESIDENT = "mydata-no-resident"  # a tap of ข้อมูลของฉัน with no resident to act on
    MYDATA_NOTIFY_OFF = "mydata-notify_off"  # announcements switched off
    MYDATA_NOTIFY_ON = "mydata-notify_on"  # announcements switched on
    MYDATA_DELETE_ASKED = "mydata-delete-asked"  # deleting everything asked to be confirmed
    MYDATA_DELETED = "mydata-deleted"  # everything held about the resident erased
    MYDATA_UNKNOWN = "mydata-unknown"  # a ข้อมูลของฉัน tap not understood
    MYDATA_WITHDRAW_CHOOSE = "mydata-withdraw-choose"  # which of several opinions to withdraw
    MYDATA_WITHDRAW_ASKED = "mydata-withdraw-asked"  # "withdraw ‘…’?" asked; details: the opinion's reference
    MYDATA_WITHDRAWN = "mydata-withdrawn"  # an opinion withdrawn; details: its reference
    MYDATA_WITHDRAW_UNKNOWN = "mydata-withdraw-unknown"  # withdrawing an opinion that is not the resident's
    MYDATA_WITHDRAW_ALREADY = "mydata-withdraw-already"  # the opinion was withdrawn before; details: reference
    MYDATA_WITHDRAW_KEPT = "mydata-withdraw-kept"  # ไม่ถอน: the opinion kept


def render(kind: Outcome | Intent | FlowLabel, *details: object) -> Recorded:
    """The stored outcome: the kind and its details joined with ':', each detail formatted as an f-string
    formats it (a None is "None", as an f-string has it)."""
    return Recorded(":".join([kind, *(f"{detail}" for detail in details)]))


# A turn's outcome until a handler records one.
UNHANDLED = render(Outcome.IGNORED)


class Recording(Protocol):
    """What an outcome is recorded on: a Turn (or a test's stand-in for one)."""

    outcome: Recorded


def record(turn: Recording, kind: Outcome | Intent | FlowLabel, *details: object) -> None:
    """What became of the event: record(turn, Outcome.REPORT_SAVED, reference) stores "report-saved:ร-2569-00001",
    record(turn, Outcome.WELCOMED) "welcomed"."""
    turn.outcome = render(kind, *details)
