"""Staff see a service answer as a resident would: LINE messages (text, Flex bubble, quick replies)
rendered as plain HTML. Every string is escaped; nothing of the message runs, and only http(s) links become
links (a javascript: or data: one is shown as a plain label)."""

from __future__ import annotations

from html import escape
from typing import Any

from markupsafe import Markup

from bot.chat.messages import is_web_link


def _node(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "box":
        layout = escape(str(node.get("layout", "vertical")))
        inner = "".join(_node(child) for child in node.get("contents", []))
        return f'<div class="fx-box fx-{layout}">{inner}</div>'
    if kind == "text":
        bold = " fx-bold" if node.get("weight") == "bold" else ""
        text = node.get("text") or "".join(span.get("text", "") for span in node.get("contents", []))
        return f'<div class="fx-text{bold}">{escape(text)}</div>'
    if kind == "button":
        action = node.get("action", {})
        label = escape(str(action.get("label", "")))
        uri = str(action.get("uri", ""))
        if action.get("type") == "uri" and is_web_link(uri):
            return f'<a class="fx-button" href="{escape(uri)}" rel="noopener noreferrer">{label}</a>'
        return f'<span class="fx-button">{label}</span>'
    if kind == "separator":
        return '<div class="fx-sep"></div>'
    return ""


def _bubble(bubble: dict[str, Any]) -> str:
    parts = []
    for section in ("header", "body", "footer"):
        if section in bubble:
            parts.append(f'<div class="fx-{section}">{_node(bubble[section])}</div>')
    return f'<div class="bubble">{"".join(parts)}</div>'


def render_messages(messages: list[dict[str, Any]]) -> Markup:
    html = []
    for message in messages:
        if message.get("type") == "text":
            html.append(f'<p class="chat-text">{escape(message.get("text", ""))}</p>')
        elif message.get("type") == "flex":
            contents = message.get("contents", {})
            bubbles = contents.get("contents", []) if contents.get("type") == "carousel" else [contents]
            html.append("".join(_bubble(b) for b in bubbles))
            html.append(f'<p class="muted">ข้อความแทน (แจ้งเตือน): {escape(message.get("altText", ""))}</p>')
        chips = message.get("quickReply", {}).get("items", [])
        if chips:
            labels = " ".join(f'<span class="badge">{escape(c["action"].get("label", ""))}</span>' for c in chips)
            html.append(f"<p>{labels}</p>")
    return Markup("".join(html))  # noqa: S704 (every value escaped above)
