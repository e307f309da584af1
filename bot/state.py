"""Conversation state: which flow and step a chat is in, stored by name so it survives restarts and deploys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ConversationState


@dataclass
class FlowState:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


def state_from_row(row: ConversationState) -> FlowState:
    return FlowState(flow=row.flow, step=row.step, data=json.loads(row.data))


async def clear_state(session: AsyncSession, lane_key: str) -> bool:
    """Forget the chat's open flow; True if there was one."""
    result = await session.execute(delete(ConversationState).where(ConversationState.lane_key == lane_key))
    return bool(result.rowcount)  # type: ignore[attr-defined]
