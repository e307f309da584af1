"""Following and unfollowing the account, and being added to a group."""

from __future__ import annotations

from bot.chat.dispatch import Router, Turn
from bot.chat.outcomes import Outcome, record

router = Router("follow")


@router.on_event("follow")
async def on_follow(turn: Turn) -> None:
    """Records the resident as following and welcomes them with what the bot can do."""
    if turn.resident is not None:
        turn.resident.followed = True
        turn.resident.followed_at = turn.now()
        turn.resident.unfollowed_at = None
    turn.say("welcome")
    record(turn, Outcome.WELCOMED)


@router.on_event("unfollow")
async def on_unfollow(turn: Turn) -> None:
    """Marks the resident inactive: nothing more is pushed to them until they follow again."""
    if turn.resident is not None:
        turn.resident.followed = False
        turn.resident.unfollowed_at = turn.now()
    record(turn, Outcome.UNFOLLOWED)


@router.on_event("join")
async def on_join(turn: Turn) -> None:
    """In a group the bot only explains that it serves residents one to one (their data stays private)."""
    turn.say("group_intro")
    record(turn, Outcome.GROUP_INTRO)
