"""The overview: what came in this week, where opinions come from, which reports wait, how often the bot
could answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keys
from bot.db.models import Opinion, Report, ServiceQuery
from bot.db.statuses import OpinionStatus, ReportState
from bot.handlers.services.timeline import BANGKOK
from bot.staff.charts import bar_chart, column_chart
from bot.staff.shell import now as clock
from bot.staff.shell import render

WEEKS = 12
OPEN_REPORT_STATUSES = (ReportState.RECEIVED, ReportState.IN_PROGRESS, ReportState.REOPENED)
# Ages at which an open report is shown as waiting long (days).
AGE_BUCKETS = ((0, 3, "ไม่เกิน 3 วัน"), (3, 7, "3-7 วัน"), (7, 30, "7-30 วัน"), (30, 100_000, "เกิน 30 วัน"))


async def _count(db: AsyncSession, statement: Any) -> int:
    return int(await db.scalar(statement) or 0)


def _week_starts(now: dt.datetime) -> list[dt.datetime]:
    """Monday 00:00 Bangkok time of each of the last WEEKS weeks, oldest first."""
    today = now.astimezone(BANGKOK).date()
    monday = today - dt.timedelta(days=today.weekday())
    return [
        dt.datetime.combine(monday - dt.timedelta(weeks=n), dt.time(0), tzinfo=BANGKOK)
        for n in range(WEEKS - 1, -1, -1)
    ]


async def figures(db: AsyncSession, content: Any, now: dt.datetime) -> dict[str, Any]:
    week_ago = now - dt.timedelta(days=7)
    live = Opinion.status != OpinionStatus.WITHDRAWN
    opinions_week = await _count(db, select(func.count()).where(live, Opinion.created_at >= week_ago))
    reports_week = await _count(db, select(func.count()).select_from(Report).where(Report.created_at >= week_ago))
    questions = await db.execute(
        select(func.count(), func.sum(case((ServiceQuery.answered, 1), else_=0))).where(
            ServiceQuery.created_at >= week_ago, ServiceQuery.intent.in_(("service", "clarify", "out_of_scope"))
        )
    )
    asked, answered = questions.one()
    by_category = dict(
        (await db.execute(select(Opinion.category, func.count()).where(live).group_by(Opinion.category))).all()
    )
    by_village = dict(
        (await db.execute(select(Opinion.village, func.count()).where(live).group_by(Opinion.village))).all()
    )
    by_consultation = dict(
        (
            await db.execute(
                select(Opinion.consultation_id, func.count()).where(live).group_by(Opinion.consultation_id)
            )
        ).all()
    )
    starts = _week_starts(now)
    weekly = []
    for start, end in zip(starts, [*starts[1:], None], strict=True):
        condition = [live, Opinion.created_at >= start.astimezone(dt.UTC)]
        if end is not None:
            condition.append(Opinion.created_at < end.astimezone(dt.UTC))
        weekly.append((start.strftime("%d/%m"), await _count(db, select(func.count()).where(*condition))))
    open_reports = (
        await db.execute(
            select(Report.reference, Report.type, Report.village, Report.status, Report.created_at)
            .where(Report.status.in_(OPEN_REPORT_STATUSES))
            .order_by(Report.created_at)
        )
    ).all()
    ages = [(now - r.created_at).days for r in open_reports]
    villages = {v.no: v.name for v in content.municipality.villages}
    return {
        "opinions_week": opinions_week,
        "reports_week": reports_week,
        "questions_week": int(asked or 0),
        "answered_share": (int(answered or 0) / asked) if asked else None,
        "category_chart": bar_chart(
            "ความคิดเห็นตามหมวด", [(c.short, by_category.get(c.id, 0)) for c in content.categories.values()]
        ),
        "village_chart": bar_chart(
            "ความคิดเห็นตามหมู่บ้าน",
            [
                (f"หมู่ {v} {villages.get(v, '')}" if v else "ไม่ระบุหมู่", n)
                for v, n in sorted(by_village.items(), key=lambda i: i[0] or 0)
            ],
        ),
        "weekly_chart": column_chart("ความคิดเห็นรายสัปดาห์ (เริ่มวันจันทร์)", weekly),
        "consultations": [(c, by_consultation.get(c.id, 0), c.is_open(now)) for c in content.consultations.values()],
        "open_reports": open_reports[:10],
        "open_total": len(open_reports),
        "report_types": {t.id: t.label for t in content.report_types.values()},
        "age_chart": bar_chart(
            "เรื่องร้องเรียนที่ยังไม่เสร็จ ตามอายุ",
            [(label, sum(low <= a < high for a in ages)) for low, high, label in AGE_BUCKETS],
        ),
    }


async def page(request: web.Request) -> web.Response:
    """The overview page."""
    now = clock(request)
    async with request.app[keys.SESSIONS]() as db:
        data = await figures(db, request.app[keys.CONTENT], now)
    return render(request, "overview.html", now=now, **data)
