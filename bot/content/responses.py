"""Validation of responses.yaml: every sentence the bot says, and the quick-reply chips under them."""

from __future__ import annotations

import string

from bot.content.model import MUNICIPALITY_PLACEHOLDERS, QuickReplyOption, ResponseTemplate
from bot.content.source import Located

# LINE's own limits for what these entries become (see bot/line.py for the full list).
QUICK_REPLY_LABEL_MAX = 20
QUICK_REPLY_ITEMS_MAX = 13
POSTBACK_DATA_MAX = 300
TEXT_MAX_UTF16 = 5000


def utf16_len(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts as 2)."""
    return len(text.encode("utf-16-le")) // 2


# What phrases may fill in besides the municipality's details (see the comment in responses.yaml).
PHRASE_PARAMS = frozenset(
    {
        "number",
        "village",
        "days",
        "days_text",
        "date",
        "today",
        "working_date",
        "service",
        "office",
        "location",
        "count",
        "basis",
        "if_late",
        "version",
        "reference",
        "status",
        "division",
        "title",
        "time",
        "place",
        "invited",
        "answer",
        "when",
        "kind",
        "summary",
        "note",
    }
)
REQUIRED_PHRASES = (
    "report_assigned_note",
    "hearing_when",
    "hearing_place",
    "hearing_agenda",
    "hearing_invited",
    "hearing_seats_full",
    "hearing_your_answer",
    "hearing_map",
    "hearing_online",
    "hearing_alt",
    "chip_rsvp_going",
    "chip_rsvp_not_going",
    "chip_rsvp_maybe",
    "card_steps",
    "card_time",
    "card_documents",
    "card_fees",
    "card_who",
    "card_benefit",
    "card_deadlines",
    "card_penalties",
    "card_contact",
    "card_more",
    "days_calendar",
    "days_working",
    "days_unspecified",
    "no_time_limit",
    "time_basis",
    "uncertain",
    "fee_local",
    "fee_unknown",
    "certainty_note",
    "contact_line",
    "feedback_question",
    "feedback_up",
    "feedback_down",
    "chip_documents",
    "chip_fees",
    "chip_time",
    "chip_timeline",
    "chip_contact",
    "chip_report",
    "answer_documents",
    "answer_fees",
    "answer_time",
    "answer_contact",
    "answer_steps",
    "timeline_result",
    "timeline_holidays",
    "timeline_both",
    "timeline_none",
    "timeline_late",
    "timeline_late_default",
    "chip_accept",
    "chip_decline",
    "chip_read_privacy",
    "chip_keep_general",
    "chip_unspecified_village",
    "chip_same_village",
    "chip_done",
    "chip_other_category",
    "chip_confirm",
    "chip_edit",
    "village_name",
    "village_chip",
    "village_unspecified",
    "general_suggestion",
    "chip_withdraw",
    "chip_delete_all",
    "chip_confirm_delete",
    "chip_keep",
    "chip_notify_off",
    "chip_notify_on",
    "notify_on",
    "notify_off",
    "consent_given",
    "consent_none",
    "opinion_line",
    "no_opinions",
    "status_received",
    "status_withdrawn",
    "chip_send_location",
    "chip_skip",
    "chip_reopen",
    "place_unspecified",
    "place_location",
    "case_line_report",
    "case_line_opinion",
    "case_more",
    "case_history_line",
    "case_status_note",
    "case_text_withdrawn",
    "case_chip_report",
    "case_chip_opinion",
    "case_chip_display",
)


def read_responses(
    src: Located,
) -> tuple[dict[str, QuickReplyOption], dict[str, ResponseTemplate], dict[str, str]]:
    data = src.data
    if not isinstance(data, dict):
        src.error((), "expected 'quick_replies', 'messages' and 'phrases' sections")
        return {}, {}, {}
    quick = _quick_replies(src, data.get("quick_replies"))
    responses = _messages(src, data.get("messages"), quick, set(MUNICIPALITY_PLACEHOLDERS))
    phrases = _phrases(src, data.get("phrases"))
    return quick, responses, phrases


def _phrases(src: Located, raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        src.error(("phrases",), "'phrases' must be a mapping of id -> text")
        return {}
    phrases: dict[str, str] = {}
    for pid, text in raw.items():
        if not isinstance(text, str) or not text.strip():
            src.error(("phrases", pid), "a phrase must be a non-empty text")
            continue
        _check_placeholders(src, ("phrases", pid), text, set(MUNICIPALITY_PLACEHOLDERS) | PHRASE_PARAMS, text_key=False)
        if str(pid).startswith(("chip_", "feedback_", "village_chip")) and len(text) > QUICK_REPLY_LABEL_MAX:
            src.error(
                ("phrases", pid), f"a button label is {len(text)} characters; LINE allows {QUICK_REPLY_LABEL_MAX}"
            )
        phrases[str(pid)] = text
    for pid in REQUIRED_PHRASES:
        if pid not in phrases and pid not in raw:
            src.error(("phrases",), f"phrase '{pid}' is required")
    return phrases


def _quick_replies(src: Located, raw: object) -> dict[str, QuickReplyOption]:
    if not isinstance(raw, dict):
        src.error(("quick_replies",), "'quick_replies' must be a mapping of id -> chip")
        return {}
    result: dict[str, QuickReplyOption] = {}
    for qid, item in raw.items():
        path = ("quick_replies", qid)
        if not isinstance(item, dict):
            src.error(path, "a chip needs 'label' and either 'text' or 'postback'")
            continue
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            src.error(path, "a chip needs a 'label'")
            continue
        if len(label) > QUICK_REPLY_LABEL_MAX:
            src.error((*path, "label"), f"label is {len(label)} characters; LINE allows {QUICK_REPLY_LABEL_MAX}")
        text, postback = item.get("text"), item.get("postback")
        if (text is None) == (postback is None):
            src.error(path, "a chip needs exactly one of 'text' (sent as the resident) or 'postback' (an action)")
            continue
        if postback is not None and (not isinstance(postback, str) or len(postback) > POSTBACK_DATA_MAX):
            src.error((*path, "postback"), f"postback must be text of at most {POSTBACK_DATA_MAX} characters")
        display = item.get("display")
        result[str(qid)] = QuickReplyOption(id=str(qid), label=label, text=text, postback=postback, display=display)
    return result


def _messages(
    src: Located, raw: object, quick: dict[str, QuickReplyOption], globals_: set[str]
) -> dict[str, ResponseTemplate]:
    if not isinstance(raw, dict):
        src.error(("messages",), "'messages' must be a mapping of id -> message")
        return {}
    result: dict[str, ResponseTemplate] = {}
    for mid, item in raw.items():
        path = ("messages", mid)
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            src.error(path, "a message needs a non-empty 'text'")
            continue
        text = item["text"]
        params = item.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            src.error((*path, "params"), "'params' must be a list of names")
            params = []
        _check_placeholders(src, path, text, globals_ | set(params))
        if utf16_len(text) > TEXT_MAX_UTF16:
            src.error((*path, "text"), f"text is longer than LINE's {TEXT_MAX_UTF16} UTF-16 units")
        chips = item.get("quick_replies", [])
        if not isinstance(chips, list):
            src.error((*path, "quick_replies"), "'quick_replies' must be a list of chip ids")
            chips = []
        if len(chips) > QUICK_REPLY_ITEMS_MAX:
            src.error((*path, "quick_replies"), f"LINE shows at most {QUICK_REPLY_ITEMS_MAX} chips")
        for i, chip in enumerate(chips):
            if chip not in quick:
                src.error((*path, "quick_replies", i), f"unknown chip '{chip}' (define it under quick_replies)")
        result[str(mid)] = ResponseTemplate(
            id=str(mid), text=text, params=tuple(params), quick_replies=tuple(str(c) for c in chips)
        )
    return result


def _check_placeholders(
    src: Located, path: tuple[str | int, ...], text: str, allowed: set[str], text_key: bool = True
) -> None:
    where = (*path, "text") if text_key else path
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        src.error(where, f"broken {{placeholder}}: {exc}")
        return
    for name in fields:
        if name not in allowed:
            src.error_in_text(where, text.find("{" + name), f"unknown placeholder {{{name}}}; declare it in 'params'")
