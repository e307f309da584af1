"""Validation of responses.yaml: every sentence the bot says, and the quick-reply chips under them."""

from __future__ import annotations

import string

from bot.chat.postbacks import known_actions, parse_postback
from bot.content import ids
from bot.content.model import MUNICIPALITY_PLACEHOLDERS, QuickReplyOption, ResponseTemplate
from bot.content.source import Located
from bot.delivery.limits import (
    POSTBACK_DATA_MAX,
    QUICK_REPLY_ITEMS_MAX,
    QUICK_REPLY_LABEL_MAX,
    TEXT_MAX_UTF16,
    utf16_len,
)

# What a phrase the code does not declare (bot/content/ids.py) may fill in besides the municipality's details;
# a declared phrase may use only the parameters declared for it.
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
    _check_declared(src, data)
    return quick, responses, phrases


def _check_declared(src: Located, data: dict[object, object]) -> None:
    """What the code says (bot/content/ids.py) is here, with the parameters the code gives: else the bot would
    fail in a resident's chat. A missing entry has no line of its own, so it is reported against the file."""
    for section, kind, declared in (
        ("messages", "message", ids.MESSAGES.keys()),
        ("phrases", "phrase", ids.PHRASES.keys()),
        ("quick_replies", "chip", ids.CHIPS),
    ):
        raw = data.get(section)
        if not isinstance(raw, dict):
            continue  # already reported as a broken section
        for missing in sorted(set(declared) - set(raw)):
            src.errors.add(str(src.file), f"missing {kind} '{missing}'")
    messages = data.get("messages")
    if isinstance(messages, dict):
        for mid, needed in ids.MESSAGES.items():
            item = messages.get(mid)
            params = item.get("params", []) if isinstance(item, dict) else None
            if isinstance(params, list):
                _check_message_params(src, mid, set(map(str, params)), needed)


def _check_message_params(src: Located, mid: str, params: set[str], needed: frozenset[str]) -> None:
    path = ("messages", mid, "params") if ("messages", mid, "params") in src.lines else ("messages", mid)
    for name in sorted(needed - params):
        src.error(path, f"message '{mid}' lacks the param '{name}' the code gives; add it to its params")
    for name in sorted(params - needed):
        src.error(path, f"message '{mid}' has the param '{name}', which the code does not give; remove it")


def _phrases(src: Located, raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        src.error(("phrases",), "'phrases' must be a mapping of id -> text")
        return {}
    phrases: dict[str, str] = {}
    for pid, text in raw.items():
        if not isinstance(text, str) or not text.strip():
            src.error(("phrases", pid), "a phrase must be a non-empty text")
            continue
        given = ids.PHRASES.get(str(pid), PHRASE_PARAMS)
        hint = f"phrase '{pid}' can use {_names(given)}" if str(pid) in ids.PHRASES else None
        _check_placeholders(src, ("phrases", pid), text, set(MUNICIPALITY_PLACEHOLDERS) | given, False, hint)
        if str(pid).startswith(("chip_", "feedback_", "village_chip")) and len(text) > QUICK_REPLY_LABEL_MAX:
            src.error(
                ("phrases", pid), f"a button label is {len(text)} characters; LINE allows {QUICK_REPLY_LABEL_MAX}"
            )
        phrases[str(pid)] = text
    return phrases


def _names(params: frozenset[str]) -> str:
    shown = sorted({*params, *MUNICIPALITY_PLACEHOLDERS})
    return ", ".join("{" + name + "}" for name in shown)


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
        elif postback is not None and parse_postback(postback) is None:
            # A tap the bot would only answer "that button has expired": the action is misspelt or unknown.
            src.error(
                (*path, "postback"),
                f"postback '{postback}' is not one the bot reads (bot/chat/postbacks.py: {', '.join(known_actions())})",
            )
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
    src: Located,
    path: tuple[str | int, ...],
    text: str,
    allowed: set[str],
    text_key: bool = True,
    hint: str | None = None,
) -> None:
    where = (*path, "text") if text_key else path
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        src.error(where, f"broken {{placeholder}}: {exc}")
        return
    for name in fields:
        if name not in allowed:
            why = hint or "declare it in 'params'"
            src.error_in_text(where, text.find("{" + name), f"unknown placeholder {{{name}}}; {why}")
