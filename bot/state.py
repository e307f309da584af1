"""Conversation state: which flow and step a chat is in, stored by name so it survives restarts and deploys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ConversationState, utcnow


@dataclass
class FlowState:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


def state_from_row(row: ConversationState) -> FlowState:
    return FlowState(flow=row.flow, step=row.step, data=json.loads(row.data))


async def load_state(session: AsyncSession, lane_key: str) -> FlowState | None:
    row = await session.get(ConversationState, lane_key)
    return None if row is None else state_from_row(row)


async def save_state(session: AsyncSession, lane_key: str, state: FlowState) -> None:
    row = await session.get(ConversationState, lane_key)
    data = json.dumps(state.data, ensure_ascii=False)
    if row is None:
        session.add(
            ConversationState(lane_key=lane_key, flow=state.flow, step=state.step, data=data, updated_at=utcnow())
        )
    else:
        row.flow, row.step, row.data, row.updated_at = state.flow, state.step, data, utcnow()


async def clear_state(session: AsyncSession, lane_key: str) -> bool:
    """Forget the chat's open flow; True if there was one."""
    result = await session.execute(delete(ConversationState).where(ConversationState.lane_key == lane_key))
    return bool(result.rowcount)  # type: ignore[attr-defined]
