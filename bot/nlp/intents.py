"""What a message asks the bot to do: the reader's verdict (bot/nlp/understand.py) that each feature's router
claims. The values are stored (service_query.intent) and worded for staff (content/staff.yaml's intents).

This module imports nothing of bot/: checking content names the intents without loading the reader, which
reads content itself."""

from __future__ import annotations

from enum import StrEnum


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
    SERVICES_MENU = "services_menu"  # "ถามเรื่องบริการ" typed: the featured services as chips
