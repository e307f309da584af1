"""Tapping what the bot offered, by the words the resident sees: a quick-reply chip or a card's button.

A test says `tap: หมู่ 3`; this finds, in the bot's replies to the chat's last turn, the chip or button labelled
(or shown as) `หมู่ 3` and makes the event LINE would send for that tap. When nothing of that name was offered
the test fails and lists what was: a test must not tap what the bot did not offer. Written apart from the bot's
own reading of offered choices (bot/chat/typed.py), so a button that code misses is not missed here too.

As in LINE: quick-reply chips hang under the last message only (and go once the resident sends anything);
a card's buttons stay in the chat, so `earlier=True` reaches buttons of older cards, newest first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bot.content.model import Content
from bot.dev import events

Message = dict[str, Any]
Action = dict[str, Any]

TAP = "tap: "  # a turn that taps an offered chip or button by its label
MENU = "menu: "  # a turn that taps a tile of the rich menu (always under the chat) by its label


def chips(message: Message) -> list[Action]:
    """The actions of a message's quick-reply chips."""
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


def buttons(message: Message) -> list[Action]:
    """The actions inside a message other than its chips: flex buttons and tappable boxes, template actions."""
    return list(_walk({k: v for k, v in message.items() if k != "quickReply"}))


def _walk(value: Any) -> Iterator[Action]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "action" and isinstance(inner, dict):
                yield inner
            elif key == "actions" and isinstance(inner, list):
                yield from (a for a in inner if isinstance(a, dict))
            else:
                yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def names(action: Action) -> list[str]:
    """What the resident sees of an action: its label, and the text its tap shows in the chat."""
    return list(dict.fromkeys(str(n) for n in (action.get("label"), action.get("displayText")) if n))


def offered(replies: Sequence[Message], earlier: Sequence[Message] = ()) -> list[Action]:
    """What can be tapped now: the last reply's chips, the buttons of the replies, then those of earlier
    messages (newest first)."""
    found = chips(replies[-1]) if replies else []
    for message in [*replies, *reversed(earlier)]:
        found += buttons(message)
    return found


def find(label: str, replies: Sequence[Message], earlier: Sequence[Message] = (), where: str = "") -> Action:
    """The offered action named `label`; fails the test, listing the labels offered, when there is none."""
    candidates = offered(replies, earlier)
    matching = [a for a in candidates if a.get("label") == label] or [a for a in candidates if label in names(a)]
    if not matching:
        shown = [" / ".join(names(a)) or f"({a.get('type')})" for a in candidates]
        last = str(replies[-1].get("text") or replies[-1].get("altText") or "")[:60] if replies else ""
        raise AssertionError(
            f"nothing labelled {label!r} offered{where}; offered: {shown}"
            + (f" (last reply: {last!r})" if last else " (no replies)")
        )
    return matching[0]  # the chip before a button, a newer card before an older one


def rich_menu_action(content: Content, label: str) -> Action:
    """The action of the rich menu's tile labelled `label`; fails, listing the tiles, when there is none."""
    tiles = [tile.action() for tile in content.rich_menu.tiles]
    for action in tiles:
        if action["label"] == label:
            return action
    raise AssertionError(f"no rich menu tile {label!r}; tiles: {[a['label'] for a in tiles]}")


def event_for(action: Action, user: str, reply_token: str | None, **kw: Any) -> dict[str, Any]:
    """The webhook event LINE sends when `user` taps `action`."""
    if action.get("type") == "postback":
        return events.postback_event(user, action["data"], reply_token, **kw)
    if action.get("type") == "message":
        return events.text_event(user, action["text"], reply_token, **kw)
    # uri opens a page, location/camera open LINE's own pickers: no event of their own (send the location).
    raise AssertionError(f"a tap on {names(action)} ({action.get('type')}) sends the bot nothing: {action}")
