"""What counts as an id in a webhook event: a short string of visible characters. LINE's ids always are;
anything else (NUL or other control characters, which PostgreSQL cannot even store) is treated as absent,
the same way by the webhook (lanes) and by dispatch (residents)."""

from __future__ import annotations

from typing import Any

MAX_ID_LENGTH = 64


def valid_id(value: Any, limit: int = MAX_ID_LENGTH) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        return None
    return value if value.isprintable() else None
