"""Answers about services, built from content: the Flex card, follow-up answers (documents, fees, time,
contact, steps), the expected-date timeline, and the "which one did you mean?" chips.

Every word shown comes from content/ (services/*.yaml and the phrases of responses.yaml); this module only
arranges them, and writes a plain-text version of each card that reads well on its own (LINE shows it in
notifications and to clients that cannot draw Flex).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.chat.messages import WireMessage, postback_chip, quick_reply_item
from bot.chat.postbacks import AnswerFeedback, MenuReport, OpinionFromMessage, ReportFromMessage, ServiceChoice
from bot.content import Content, FaqEntry, ServiceEntry
from bot.delivery.limits import ALT_TEXT_MAX
from bot.handlers.services.timeline import WorkingCalendar, thai_date
from bot.handlers.services.windows import DueBy, Ended, OpensOn, OpenUntil, PayDay, Window, state_on
from bot.nlp.intents import Intent
from bot.nlp.understand import Reading

MAX_LISTED = 5
ASPECT_CHIPS = ("documents", "fees", "time", "timeline", "contact")
ASPECT_SECTIONS = {
    "documents": "answer_documents",
    "fees": "answer_fees",
    "time": "answer_time",
    "contact": "answer_contact",
    "steps": "answer_steps",
    "penalties": "answer_penalties",
    "benefit": "answer_benefit",
    "who": "answer_who",
    "where": "answer_where",
    "deadlines": "answer_deadlines",
}
# The chip under an FAQ answer that goes back to the menu (it sends "เมนู", the menu command, as typed).
FAQ_MENU_CHIP = "back_to_menu"
# Colours of the card: a muted grey for notes, amber for "not confirmed".
MUTED, WARN = "#888888", "#B26A00"


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, "wrap": True, "size": style.pop("size", "sm"), **style}


def _section(title: str, lines: list[str]) -> list[dict[str, Any]]:
    return [_text(title, weight="bold", size="sm", margin="lg"), *(_text(line, color="#333333") for line in lines)]


class ServiceAnswers:
    """Builds every answer about a service."""

    def __init__(self, content: Content, calendar: WorkingCalendar) -> None:
        self._content = content
        self._calendar = calendar
        self._globals = content.municipality.placeholders()

    def phrase(self, phrase_id: str, **params: object) -> str:
        return self._content.phrases[phrase_id].format_map({**self._globals, **params})

    # -- pieces ----------------------------------------------------------------------------------------

    def _days(self, days: int, kind: str) -> str:
        return self.phrase(f"days_{kind}", days=days)

    def _steps(self, service: ServiceEntry) -> list[str]:
        lines = []
        for i, step in enumerate(service.steps, 1):
            line = f"{i}. {step.text}"
            if step.days is not None:
                line += f" ({self._days(step.days, step.day_kind)})"
                if step.certainty in ("recalled", "secondary"):
                    line += " " + self.phrase("certainty_note")
            lines.append(line)
        return lines

    def _time(self, service: ServiceEntry) -> list[str]:
        limit = service.time_limit
        if limit is None:
            return [self.phrase("no_time_limit", office=service.office.name)]
        lines = [self._days(limit.days, limit.day_kind) + " " + self.phrase("time_basis", basis=limit.basis)]
        if limit.note:
            lines.append(limit.note)
        return lines

    def _documents(self, service: ServiceEntry, limit: int | None = MAX_LISTED) -> list[str]:
        shown = service.documents if limit is None else service.documents[:limit]
        lines = [f"• {d}" for d in shown]
        if limit is not None and len(service.documents) > limit:
            lines.append(self.phrase("card_more", count=len(service.documents) - limit))
        return lines

    def _fees(self, service: ServiceEntry) -> list[str]:
        lines = []
        for fee in service.fees:
            note = {"local": " " + self.phrase("fee_local"), "unknown": " " + self.phrase("fee_unknown")}
            lines.append(f"• {fee.text}{note.get(fee.kind, '')}")
        return lines

    def _contact(self, service: ServiceEntry) -> str:
        office = service.office
        return self.phrase("contact_line", office=office.name, location=office.location)

    def _where(self, service: ServiceEntry) -> list[str]:
        """Where to file or pay: the channel first (it says how), then the office and its address."""
        return [service.channel, self._contact(service)]

    def _penalties(self, service: ServiceEntry, today: dt.date) -> list[str]:
        """The penalties as content states them, with the deadlines they follow from; without any, what is
        known about the dates and whom to ask (never a guess that there is no fine)."""
        dates = [*self._windows(service, today), *(f"• {d}" for d in service.deadlines)]
        if service.penalties:
            return [*(f"• {p}" for p in service.penalties), *dates]
        return [*dates, self.phrase("penalties_none", office=service.office.name)]

    def _benefit(self, service: ServiceEntry, today: dt.date) -> list[str]:
        pay_days = self._windows(service, today, pay_days_only=True)
        if service.benefit:
            return [service.benefit, *pay_days]
        return [service.summary, *pay_days, self.phrase("benefit_none", office=service.office.name)]

    def _who(self, service: ServiceEntry) -> list[str]:
        if service.who:
            return [f"• {w}" for w in service.who]
        return [service.summary, self.phrase("who_none", office=service.office.name)]

    def _deadlines(self, service: ServiceEntry, today: dt.date | None) -> list[str]:
        """The dated windows read against today (when known), then the deadlines written as text."""
        lines = self._windows(service, today) if today is not None else [w.what for w in service.windows]
        return [*lines, *(f"• {d}" for d in service.deadlines)]

    def _windows(self, service: ServiceEntry, today: dt.date, pay_days_only: bool = False) -> list[str]:
        """One line per dated window: open until, opens again on, due by, next pay day."""
        lines = []
        for window in service.windows:
            if pay_days_only and window.monthly_day is None:
                continue
            line = self._window_line(service, window, today)
            if window.note:
                line += " " + window.note
            ended = isinstance(state_on(window, today), Ended)  # its line already says whom to ask
            if window.certainty == "local" and not ended:
                line += " " + self.phrase("window_local", office=service.office.name)
            elif window.certainty != "seen":
                line += " " + self.phrase("certainty_note")
            lines.append(f"• {line}")
        return lines

    def _window_line(self, service: ServiceEntry, window: Window, today: dt.date) -> str:
        state = state_on(window, today, self._calendar.is_working_day)
        office, title = service.office.name, window.what
        if isinstance(state, OpenUntil):
            return self.phrase("window_open", title=title, date=thai_date(state.until))
        if isinstance(state, OpensOn):
            return self.phrase("window_opens", title=title, date=thai_date(state.opens))
        if isinstance(state, DueBy):
            if state.days_left == 0:
                return self.phrase("deadline_today", title=title, date=thai_date(state.due))
            return self.phrase("deadline_due", title=title, date=thai_date(state.due), days=state.days_left)
        if isinstance(state, PayDay):
            phrase = "pay_day_today" if state.day == today else "pay_day_next"
            return self.phrase(phrase, title=title, date=thai_date(state.day))
        assert isinstance(state, Ended)
        phrase = "deadline_passed" if window.is_deadline else "window_ended"
        return self.phrase(phrase, title=title, date=thai_date(state.last), office=office)

    def _uncertain(self, service: ServiceEntry) -> str | None:
        return self.phrase("uncertain", office=service.office.name) if service.uncertain else None

    # -- whole answers ---------------------------------------------------------------------------------

    def card(self, service: ServiceEntry, feedback_key: int | None = None, today: dt.date | None = None) -> WireMessage:
        """The Flex bubble answering a question about a service, with follow-up chips. With `today`, its
        dated windows say whether they are open now (without, they are named only)."""
        body: list[dict[str, Any]] = [
            _text(service.name, weight="bold", size="lg"),
            _text(service.summary, color="#555555", margin="sm"),
        ]
        if service.benefit:
            body += _section(self.phrase("card_benefit"), [service.benefit])
        if service.who:
            body += _section(self.phrase("card_who"), self._who(service))
        body += _section(self.phrase("card_steps"), self._steps(service))
        body += _section(self.phrase("card_time"), self._time(service))
        body += _section(self.phrase("card_documents"), self._documents(service))
        body += _section(self.phrase("card_fees"), self._fees(service))
        if service.deadlines or service.windows:
            body += _section(self.phrase("card_deadlines"), self._deadlines(service, today))
        if service.penalties:
            body += _section(self.phrase("card_penalties"), [f"• {p}" for p in service.penalties])
        body += _section(self.phrase("card_contact"), self._where(service))
        warning = self._uncertain(service)
        if warning:
            body.append(_text(warning, color=WARN, size="xs", margin="lg"))
        bubble: dict[str, Any] = {
            "type": "bubble",
            "size": "giga",
            "body": {"type": "box", "layout": "vertical", "spacing": "xs", "contents": body},
        }
        if feedback_key is not None:
            bubble["footer"] = self._feedback(feedback_key)
        return {
            "type": "flex",
            "altText": self.alt_text(service, today),
            "contents": bubble,
            "quickReply": self._chips(service),
        }

    def alt_text(self, service: ServiceEntry, today: dt.date | None = None) -> str:
        """The card as plain text, cut to LINE's 1,500-character limit."""
        parts = [service.name, service.summary]
        if service.benefit:
            parts.append(f"{self.phrase('card_benefit')}: {service.benefit}")
        if service.who:
            parts += [self.phrase("card_who"), *self._who(service)]
        parts += [self.phrase("card_steps"), *self._steps(service)]
        parts += [self.phrase("card_time"), *self._time(service)]
        parts += [self.phrase("card_documents"), *self._documents(service)]
        parts += [self.phrase("card_fees"), *self._fees(service)]
        if service.deadlines or service.windows:
            parts += [self.phrase("card_deadlines"), *self._deadlines(service, today)]
        if service.penalties:
            parts += [self.phrase("card_penalties"), *(f"• {p}" for p in service.penalties)]
        parts += [self.phrase("card_contact"), *self._where(service)]
        warning = self._uncertain(service)
        if warning:
            parts.append(warning)
        text = "\n".join(parts)
        return text if len(text) <= ALT_TEXT_MAX else text[: ALT_TEXT_MAX - 1] + "…"

    def aspect(self, service: ServiceEntry, aspect: str, today: dt.date) -> WireMessage:
        """A follow-up answer: only the part asked about."""
        if aspect == "timeline":
            return self.timeline(service, today)
        heading = self.phrase(ASPECT_SECTIONS.get(aspect, "answer_steps"), service=service.label)
        if aspect == "documents":
            lines = self._documents(service, limit=None)
        elif aspect == "fees":
            lines = self._fees(service)
        elif aspect == "time":
            lines = [*self._time(service), *self._steps(service)]
        elif aspect == "contact":
            lines = [self._contact(service), service.channel]
        elif aspect == "where":
            lines = self._where(service)
        elif aspect == "penalties":
            lines = self._penalties(service, today)
        elif aspect == "benefit":
            lines = self._benefit(service, today)
        elif aspect == "who":
            lines = self._who(service)
        elif aspect == "deadlines":
            lines = self._deadlines(service, today) or [
                service.channel,
                self.phrase("deadlines_none", office=service.office.name),
            ]
        else:
            lines = self._steps(service)
        warning = self._uncertain(service) if aspect in ("fees", "time") else None
        text = "\n".join([heading, *lines, *([warning] if warning else [])])
        return {"type": "text", "text": text, "quickReply": self._chips(service)}

    def timeline(self, service: ServiceEntry, today: dt.date) -> WireMessage:
        """'If you file today, when?': whether its windows are open today, and the date the time limit
        falls on, counted as the law counts it."""
        limit = service.time_limit
        lines = self._windows(service, today)
        if limit is None:
            lines.append(self.phrase("timeline_none", office=service.office.name))
        else:
            due = self._calendar.add_days(today, limit.days, limit.day_kind)
            lines += [
                self.phrase(
                    "timeline_result",
                    today=thai_date(today),
                    days_text=self._days(limit.days, limit.day_kind),
                    date=thai_date(due),
                )
            ]
            if limit.day_kind == "unspecified":
                working = self._calendar.add_days(today, limit.days, "working")
                lines.append(self.phrase("timeline_both", date=thai_date(due), working_date=thai_date(working)))
            closed = self._calendar.holidays_between(today, due)
            if limit.day_kind != "calendar" and closed:
                lines.append(self.phrase("timeline_holidays", count=len(closed)))
            lines.append(
                self.phrase("timeline_late", if_late=service.if_late)
                if service.if_late
                else self.phrase("timeline_late_default", office=service.office.name)
            )
            if limit.certainty != "seen":
                lines.append(self.phrase("uncertain", office=service.office.name))
        return {"type": "text", "text": "\n".join(lines), "quickReply": self._chips(service)}

    def faq(self, service: ServiceEntry, entry: FaqEntry) -> WireMessage:
        """The answer to one frequently asked question, with a note when the fact is not confirmed by an
        official source, and chips to the whole service card and back to the menu."""
        text = entry.answer
        note = self.faq_note(service, entry)
        if note:
            text += "\n" + note
        card = postback_chip(service.label, ServiceChoice(service.id).pack(), service.label)
        menu = quick_reply_item(self._content.quick_replies[FAQ_MENU_CHIP])
        return {"type": "text", "text": text, "quickReply": {"items": [card, menu]}}

    def faq_note(self, service: ServiceEntry, entry: FaqEntry) -> str | None:
        """What to say about an answer that is local, secondary or recalled: whom to ask, and their phone."""
        if entry.certainty == "seen":
            return None
        return self.phrase(f"faq_note_{entry.certainty}", office=service.office.name)

    def clarify(self, candidates: list[ServiceEntry]) -> list[dict[str, Any]]:
        """Chips for 'which one did you mean?'."""
        return [postback_chip(c.label, ServiceChoice(c.id).pack(), c.label) for c in candidates]

    def offer(self, reading: Reading, event_id: int) -> dict[str, Any] | None:
        """The chip that starts the flow an unanswered message points to (its offer), keeping that message:
        แจ้งเรื่องนี้ with the type the reader found, or เสนอเป็นความคิดเห็น."""
        if reading.offer == Intent.REPORT:
            label, data = self.phrase("chip_report_this"), ReportFromMessage(event_id, reading.report_type).pack()
        elif reading.offer == Intent.OPINION:
            label, data = self.phrase("chip_opinion_this"), OpinionFromMessage(event_id).pack()
        else:
            return None
        return postback_chip(label, data, label)

    def _chips(self, service: ServiceEntry) -> dict[str, Any]:
        items = [
            postback_chip(self.phrase(f"chip_{a}"), ServiceChoice(service.id, a).pack(), self.phrase(f"chip_{a}"))
            for a in ASPECT_CHIPS
        ]
        if service.offers_report:
            items.append(postback_chip(self.phrase("chip_report"), MenuReport().pack(), self.phrase("chip_report")))
        for other in service.related:
            label = self._content.services[other].label
            items.append(postback_chip(label, ServiceChoice(other).pack(), label))
        return {"items": items[:13]}

    def _feedback(self, event_id: int) -> dict[str, Any]:
        """👍/👎 buttons; the event that asked identifies the question (no id needed before commit)."""

        def button(vote: str) -> dict[str, Any]:
            label = self.phrase(f"feedback_{vote}")
            return {
                "type": "button",
                "style": "secondary",
                "height": "sm",
                "action": {
                    "type": "postback",
                    "label": label,
                    "data": AnswerFeedback(event_id, vote).pack(),
                    "displayText": label,
                },
            }

        return {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": [
                _text(self.phrase("feedback_question"), color=MUTED, size="xs", align="center"),
                {"type": "box", "layout": "horizontal", "spacing": "sm", "contents": [button("up"), button("down")]},
            ],
        }
