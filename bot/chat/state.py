"""Conversation state: which flow and step a chat is in, stored by name so it survives restarts and deploys."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ConversationState, utcnow

# A flow left alone this long is over: the next message says so and starts afresh.
IDLE_LIMIT = dt.timedelta(minutes=30)


@dataclass
class FlowState:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: dt.datetime | None = None

    def expired(self, now: dt.datetime) -> bool:
        return self.updated_at is not None and now - self.updated_at > IDLE_LIMIT


def state_from_row(row: ConversationState) -> FlowState:
    return FlowState(flow=row.flow, step=row.step, data=json.loads(row.data), updated_at=row.updated_at)


async def save_state(session: AsyncSession, lane_key: str, state: FlowState, now: dt.datetime | None = None) -> None:
    """Remember where the chat is, as of `now` (the chat's clock, Turn.now); every step is saved in the same
    transaction as the event it answers, so a restart mid-flow loses nothing the resident already gave."""
    row = await session.get(ConversationState, lane_key)
    data = json.dumps(state.data, ensure_ascii=False)
    now = now or utcnow()
    if row is None:
        session.add(ConversationState(lane_key=lane_key, flow=state.flow, step=state.step, data=data, updated_at=now))
    else:
        row.flow, row.step, row.data, row.updated_at = state.flow, state.step, data, now


async def clear_state(session: AsyncSession, lane_key: str) -> bool:
    """Forget the chat's open flow; True if there was one."""
    result = await session.execute(delete(ConversationState).where(ConversationState.lane_key == lane_key))
    return bool(result.rowcount)  # type: ignore[attr-defined]
