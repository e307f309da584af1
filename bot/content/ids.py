"""Every id of content/responses.yaml the code says, with the parameters the code fills in: the contract
between bot/ and the municipality's words.

`python -m bot content check` (and so the server's start) fails when a declared message or phrase is missing,
when a message's `params` differ from the ones declared here, or when a declared phrase uses a {placeholder}
the code does not give. tests/test_response_ids.py reads bot/ and fails on any id the code uses that is not
declared here, naming the file and line.

Adding a response: write it in responses.yaml, then add one line below, under its feature, with the keyword
arguments the code passes (`turn.say("report_saved", office=..., reference=...)` is
`report_saved=("office", "reference")`). An id the code builds from a value (f"rsvp_saved_{answer}") is
declared for every value with `each`. The municipality's own details ({name}, {phone}, ...) are never listed:
every text may use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from bot.db.codes import RsvpAnswer
from bot.db.statuses import OpinionStatus

Params = tuple[str, ...]

# The values the code builds ids from; tests/test_response_ids.py checks each against the code's own list.
FLOW_KINDS = ("opinion", "report")  # the kinds of the participation flows (Flow.kind): their ids start with it
RSVP_ANSWERS = tuple(answer.value for answer in RsvpAnswer)
RSVP_REFUSALS = ("full", "closed", "not_open")  # what record_rsvp answers besides "saved"
# bot.db.statuses.OpinionStatus: residents read each status ("status_{}"); an outcome staff set is pushed to them.
OPINION_STATUSES = tuple(status.value for status in OpinionStatus)
OPINION_OUTCOMES = OPINION_STATUSES[1:-1]  # but received and withdrawn: bot.handlers.opinions.rules.OUTCOMES
FEEDBACK_VOTES = ("up", "down")
DAY_KINDS = ("calendar", "working", "unspecified")  # bot.content.services.DAY_KINDS
NOTED_CERTAINTIES = ("secondary", "local", "recalled")  # bot.content.services.CERTAINTIES but "seen"
ASPECT_CHIPS = ("documents", "fees", "time", "timeline", "contact")  # bot.handlers.services.cards.ASPECT_CHIPS
ANSWER_SECTIONS = (
    "documents",
    "fees",
    "time",
    "contact",
    "steps",
    "penalties",
    "benefit",
    "who",
    "where",
    "deadlines",
)  # bot.handlers.services.cards.ASPECT_SECTIONS
OFFICE_TOPICS = ("where", "hours", "phone")  # bot.handlers.services.office.OfficeTopic but OPEN_DAY (its own phrases)
CASE_KINDS = ("report", "opinion")


# Every id pattern declared with `each` ("rsvp_saved_{}") and its values, so the test can match the code's
# f-strings (f"rsvp_saved_{answer}") to exactly the ids they make.
FAMILIES: dict[str, tuple[str, ...]] = {}


def each(pattern: str, values: Iterable[str], *params: str) -> dict[str, Params]:
    """One id per value of an id the code builds: each("rsvp_saved_{}", RSVP_ANSWERS, "title", "date")."""
    FAMILIES[pattern] = tuple(values)
    return {pattern.format(value): params for value in FAMILIES[pattern]}


def _frozen(entries: dict[str, Params]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({key: frozenset(params) for key, params in entries.items()})


# -- messages: `messages:` of responses.yaml, said with turn.say / MessageBuilder.text -------------------------

MESSAGES: Mapping[str, frozenset[str]] = _frozen(
    {
        # following, the menu and the global commands (chat/follow.py, commands.py, qa.py)
        "welcome": (),
        "group_intro": (),
        "menu": (),
        "help": (),
        "contact": (),
        "cancelled": (),
        "nothing_to_cancel": (),
        "greeting": (),
        "thanks": (),
        # the chat framework: expired flows and taps, choices offered, failures (dispatch.py, inbox.py)
        "flow_expired": (),
        "flow_reask": (),
        "postback_expired": (),
        "offered_ambiguous": (),
        "processing_failed": (),
        # what residents send besides text (chat/media.py, participation.py)
        "sticker_received": (),
        "image_received": (),
        "location_received": (),
        "media_unsupported": (),
        "link_typed": ("url",),
        "privacy_full_link": ("url",),
        "location_typed": (),
        "location_invalid": (),
        "photo_limit": ("count",),
        "photo_saved": ("count",),
        # questions about services, the office and other agencies (qa.py, office.py, referrals.py)
        "services_intro": (),
        "clarify": ("choices",),
        "out_of_scope": (),
        **each("{}_offer", FLOW_KINDS),  # out of scope, with a problem or a wish in it (Reading.offer)
        "referral": ("answer",),
        "office_answer": ("answer",),
        **each("feedback_{}", FEEDBACK_VOTES),
        # both flows: consent, village, description (chat/participation.py)
        **each("{}_consent_lead", FLOW_KINDS),
        "privacy_declined": (),
        "report_privacy_declined": (),
        **each("{}_ask_village", FLOW_KINDS),
        **each("{}_ask_village_known", FLOW_KINDS, "village"),
        "village_unknown": ("villages",),
        **each("{}_ask_text_kept", FLOW_KINDS, "text"),
        **each("{}_text_kept", FLOW_KINDS),
        **each("{}_text_too_long", FLOW_KINDS, "limit"),
        **each("{}_location_saved", FLOW_KINDS),
        **each("{}_text_empty", FLOW_KINDS),
        **each("{}_edit_cleared", FLOW_KINDS),
        "text_repeated": (),
        "text_repeated_more": (),
        "text_added": (),
        "text_added_summary": (),
        "text_full": (),
        # opinions (handlers/opinions/chat.py, opinions.py)
        "opinion_none_open": (),
        "opinion_choose_consultation": ("choices",),
        "opinion_ask_category": ("choices", "suggested"),
        "opinion_all_categories": ("choices",),
        "opinion_ask_text": ("hint",),
        "opinion_text_more": ("count",),
        "opinion_media_not_taken": (),
        "opinion_summary": ("category", "consultation", "text", "village"),
        "opinion_saved": ("reference",),
        "opinion_next_hearing": ("place", "title", "when"),
        **each("opinion_outcome_{}", OPINION_OUTCOMES, "detail", "reference", "summary"),
        # problem reports (handlers/reports/chat.py, reports.py)
        "report_ask_type": ("choices",),
        "report_ask_text": (),
        "report_ask_where": (),
        "report_summary": ("text", "type", "village", "where"),
        "report_saved": ("office", "reference"),
        "report_status_changed": ("note", "reference", "status"),
        "report_ask_rating": (),
        "report_rated": (),
        "report_reopened": ("reference",),
        # the resident's cases (handlers/residents/cases.py)
        "cases_none": (),
        "cases_list": ("cases",),
        "case_not_found": ("reference",),
        "case_report": ("date", "history", "kind", "office", "reference", "status", "summary"),
        "case_opinion": ("date", "history", "kind", "reference", "status", "summary"),
        # hearings (handlers/hearings/chat.py, handlers/hearings/cards.py)
        "hearing_none": (),
        "hearing_upcoming": ("count",),
        "hearing_reminder": ("place", "title", "when"),
        "hearing_follow_up": ("note", "title"),
        **each("rsvp_saved_{}", RSVP_ANSWERS, "date", "title"),
        **each("rsvp_{}", RSVP_REFUSALS, "title"),
        "news_on_done": (),
        "news_off_done": (),
        # ข้อมูลของฉัน (handlers/residents/mydata.py)
        "mydata_summary": ("consent", "notify", "opinions", "reports", "typed", "village"),
        "mydata_after_flow": ("request",),
        "mydata_delete_confirm": (),
        "mydata_deleted": (),
        "mydata_withdraw_choose": ("choices",),
        "mydata_withdraw_confirm": ("reference", "summary"),
        "mydata_withdrawn": ("reference",),
        "mydata_already_withdrawn": ("reference",),
        "mydata_withdraw_kept": (),
    }
)

# -- phrases: `phrases:` of responses.yaml, pieces of cards, chip labels and lists the code reads -----------

PHRASES: Mapping[str, frozenset[str]] = _frozen(
    {
        # the service card and its answers (cards.py)
        "card_steps": (),
        "card_time": (),
        "card_documents": (),
        "card_fees": (),
        "card_who": (),
        "card_benefit": (),
        "card_deadlines": (),
        "card_penalties": (),
        "card_contact": (),
        "card_more": ("count",),
        **each("days_{}", DAY_KINDS, "days"),
        "no_time_limit": ("office",),
        "time_basis": ("basis",),
        "uncertain": ("office",),
        "fee_local": (),
        "fee_unknown": (),
        "certainty_note": (),
        "contact_line": ("location", "office"),
        "penalties_none": ("office",),
        "benefit_none": ("office",),
        "who_none": ("office",),
        "deadlines_none": ("office",),
        "window_local": ("office",),
        "window_open": ("date", "title"),
        "window_opens": ("date", "title"),
        "window_ended": ("date", "office", "title"),
        "deadline_today": ("date", "title"),
        "deadline_due": ("date", "days", "title"),
        "deadline_passed": ("date", "office", "title"),
        "pay_day_today": ("date", "title"),
        "pay_day_next": ("date", "title"),
        **each("answer_{}", ANSWER_SECTIONS, "service"),
        "timeline_result": ("date", "days_text", "today"),
        "timeline_holidays": ("count",),
        "timeline_both": ("date", "working_date"),
        "timeline_none": ("office",),
        "timeline_late": ("if_late",),
        "timeline_late_default": ("office",),
        **each("faq_note_{}", NOTED_CERTAINTIES, "office"),
        **each("chip_{}", ASPECT_CHIPS),
        "chip_report": (),
        "chip_report_this": (),
        "chip_opinion_this": (),
        "feedback_question": (),
        **each("feedback_{}", FEEDBACK_VOTES),
        # the office's days and hours (office.py)
        **each("office_{}", OFFICE_TOPICS),
        "office_day_today": ("date",),
        "office_day_tomorrow": ("date",),
        "office_day_open": ("date",),
        "office_day_weekend": ("date",),
        "office_day_holiday": ("date", "title"),
        "office_day_local": ("date", "title"),
        "office_day_closed": ("date",),
        "office_next_open": ("working_date",),
        "office_holiday_note": (),
        # both flows (chat/participation.py): chips, villages, typed words
        "chip_accept": (),
        "chip_decline": (),
        "chip_read_privacy": (),
        "chip_same_village": (),
        "chip_unspecified_village": (),
        "chip_done": (),
        "chip_confirm": (),
        "chip_edit": (),
        "village_chip": ("number",),
        "village_name": ("number", "village"),
        "village_unspecified": (),
        "typed_particles": (),
        "typed_village_prefix": (),
        **each("typed_start_{}", FLOW_KINDS),
        # opinions
        "chip_keep_general": (),
        "chip_other_category": (),
        "general_suggestion": (),
        **each("status_{}", OPINION_STATUSES),
        # problem reports
        "chip_send_location": (),
        "chip_skip": (),
        "chip_reopen": (),
        "place_location": (),
        "place_unspecified": (),
        "report_assigned_note": ("division",),
        # the resident's cases
        "case_line_report": ("date", "kind", "office", "reference", "status", "summary"),
        "case_line_opinion": ("date", "kind", "reference", "status", "summary"),
        "case_more": ("count",),
        "case_history_line": ("date", "status"),
        "case_status_note": ("note", "status"),
        "case_text_withdrawn": (),
        **each("case_chip_{}", CASE_KINDS, "reference"),
        "case_chip_display": ("reference",),
        # hearing cards (handlers/hearings/cards.py)
        "hearing_when": ("date", "time"),
        "hearing_place": ("place",),
        "hearing_agenda": (),
        "hearing_invited": ("invited",),
        "hearing_seats_full": (),
        "hearing_your_answer": ("answer",),
        "hearing_map": (),
        "hearing_online": (),
        "hearing_alt": ("place", "title", "when"),
        **each("chip_rsvp_{}", RSVP_ANSWERS),
        # ข้อมูลของฉัน and the privacy notice (handlers/residents/mydata.py, app.py)
        "chip_withdraw": (),
        "chip_withdraw_yes": (),
        "chip_withdraw_no": (),
        "chip_delete_all": (),
        "chip_confirm_delete": (),
        "chip_keep": (),
        "chip_notify_on": (),
        "chip_notify_off": (),
        "notify_on": (),
        "notify_off": (),
        "consent_given": ("date", "version"),
        "consent_none": (),
        "opinion_line": ("date", "reference", "status"),
        "opinion_line_named": ("date", "reference", "status", "summary"),
        "withdraw_choice": ("reference", "summary"),
        "mydata_typed_hint": ("words",),
        "typed_word": ("word",),
        "no_opinions": (),
        "privacy_version": ("version",),
    }
)

# -- chips: `quick_replies:` of responses.yaml the code puts under its own replies -------------------------

CHIPS: frozenset[str] = frozenset(
    {
        "back_to_menu",  # under an FAQ answer (cards.FAQ_MENU_CHIP)
        "report",  # under a referral that can also be reported here (referrals.REPORT_CHIP)
    }
)

# Phrases read when present, never required: typed synonyms of a chip's label, "typed_<phrase id>"
# (typed.typed_words), e.g. typed_chip_rsvp_going.
OPTIONAL_PHRASE_PREFIX = "typed_"
