"""Charts drawn on the server as SVG: no script, nothing fetched from elsewhere, readable on a phone."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

_BAR_HEIGHT = 22
_LABEL_WIDTH = 150
_WIDTH = 460


def bar_chart(title: str, bars: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars with their labels and counts; the title doubles as the accessible name."""
    if not bars:
        return Markup(f'<p class="empty">{escape(title)}: ยังไม่มีข้อมูล</p>')  # noqa: S704 (every value escaped above)
    top = max(count for _, count in bars) or 1
    span = _WIDTH - _LABEL_WIDTH - 50
    height = _BAR_HEIGHT * len(bars) + 8
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {_WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, count) in enumerate(bars):
        y = 4 + i * _BAR_HEIGHT
        width = max(2, round(span * count / top)) if count else 0
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" class="label">{escape(short)}</text>'
            f'<rect x="{_LABEL_WIDTH}" y="{y + 3}" width="{width}" height="{_BAR_HEIGHT - 8}" class="bar"/>'
            f'<text x="{_LABEL_WIDTH + width + 6}" y="{y + 15}" class="count">{count:,}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value escaped above)


def column_chart(title: str, columns: Sequence[tuple[str, int]]) -> Markup:
    """Vertical columns over time (weeks), labels below."""
    if not columns:
        return Markup(f'<p class="empty">{escape(title)}: ยังไม่มีข้อมูล</p>')  # noqa: S704 (every value escaped above)
    top = max(count for _, count in columns) or 1
    step = max(18, min(60, (_WIDTH - 20) // len(columns)))
    width, plot = step * len(columns) + 20, 140
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {plot + 40}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, count) in enumerate(columns):
        x = 10 + i * step
        bar = round((plot - 16) * count / top)
        parts.append(
            f'<rect x="{x + 2}" y="{plot - bar}" width="{step - 4}" height="{bar}" class="bar"/>'
            f'<text x="{x + step / 2}" y="{plot - bar - 3}" text-anchor="middle" class="count">{count:,}</text>'
            f'<text x="{x + step / 2}" y="{plot + 14}" text-anchor="middle" class="label">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value escaped above)
