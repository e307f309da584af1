"""Every page of the staff workspace, as the server registers it, and rows for each with the texts that break
layouts (long Thai without spaces, long URLs) and every kind of code a page turns into words (audit actions
and details, statuses, history, sendings). Shared by the browser test (widths) and tests/test_staff_words.py
(words and dates)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import (
    AuditEntry,
    BroadcastJob,
    Hearing,
    Opinion,
    OpinionChange,
    Photo,
    Report,
    ReportStatus,
    Resident,
    ServiceQuery,
)

LONG_THAI = "อยากให้เทศบาลซ่อมถนนคอนกรีตเสริมเหล็กสายหลักหน้าโรงเรียนบ้านดอนยางที่เป็นหลุมเป็นบ่อมานานหลายปีแล้ว" * 3
LONG_URL = "https://www.example.go.th/" + "เอกสาร/ประกาศ-" * 6 + "?id=" + "a1b2c3d4" * 8
STAFF = "kanya"
# GET routes under /staff that are not pages (files, photos, the static folder): not visited.
NOT_PAGES = ("/staff/static", "/staff/export/{kind}.{format}", "/staff/photos/{photo_id}")


def staff_get_routes() -> list[str]:
    """Every GET route of the workspace, from its router: a new page is covered without editing a list."""
    from aiohttp import web

    from bot.urls import add_staff_routes

    app = web.Application()
    add_staff_routes(app)
    routes = set()
    for resource in app.router.resources():
        info = resource.get_info()
        path = str(info.get("formatter") or info.get("path") or info.get("prefix") or "")
        if path.startswith("/staff") and path not in NOT_PAGES and any(r.method == "GET" for r in resource):
            routes.add(path)
    return sorted(routes)


def page_paths(samples: dict[str, str]) -> list[str]:
    """The address of every page; a route with a placeholder this module has no sample for fails loudly."""
    routes = staff_get_routes()
    unknown = [r for r in routes if "{" in r and r not in samples]
    assert not unknown, f"give tests/staff_pages.py a sample address for {unknown}"
    return [samples.get(r, r) for r in routes]


def reference(kind: str, number: int) -> str:
    """A reference as the database keeps it (with its kind's letter, once references have one)."""
    try:
        from bot.references import format_reference  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return f"2569-{number:05d}"
    return str(format_reference(kind, 2569, number))


def seed(db: Session) -> dict[str, str]:
    """Rows of every kind the pages list; the sample address of each route with a placeholder."""
    now = dt.datetime.now(dt.UTC)
    known = int(db.scalar(select(func.count()).select_from(Resident)) or 0)
    resident = Resident(line_user_id="U" + f"{known:032d}", pseudonym=f"seeded{known:010d}", followed=True)
    db.add(resident)
    db.flush()
    opinions = [
        Opinion(
            reference=reference("opinion", i),
            resident_id=resident.id,
            consultation_id="local_plan_2571_2575",
            village=3,
            category="physical",
            category_suggested="physical",
            text=f"{LONG_THAI} ดูรายละเอียด {LONG_URL}",
            status="considering",
            outcome_detail=LONG_URL,
            plan_project="โครงการก่อสร้างถนนคอนกรีตเสริมเหล็กสายบ้านดอนยางถึงบ้านหนองบัวยาวสองพันเมตร",
            staff_note=LONG_THAI,
            created_at=now - dt.timedelta(days=i),
        )
        for i in (1, 2, 3)
    ]
    db.add_all(opinions)
    report = Report(
        reference=reference("report", 9),
        resident_id=resident.id,
        type="road",
        division="engineering",
        village=3,
        text=f"{LONG_THAI} {LONG_URL}",
        place="ปากซอยเทศบาลสามสิบเอ็ดตรงข้ามร้านค้าชุมชนบ้านดอนยางใกล้ศาลาประชาคมหมู่ที่สาม",
        latitude=16.43,
        longitude=102.83,
        status="in_progress",
        created_at=now - dt.timedelta(days=9),
    )
    db.add(report)
    db.flush()
    db.add(Photo(message_id=f"seeded-{report.id}", report_id=report.id, status="failed", error="disk full " + LONG_URL))
    db.add(ReportStatus(report_id=report.id, status="in_progress", note=LONG_THAI, changed_by="somsri"))
    for field, old, new in (
        ("status", "received", "considering"),
        ("category", "economy", "physical"),
        ("outcome_detail", None, LONG_URL),
        ("plan_project", None, "โครงการถนน"),
        ("staff_note", None, LONG_THAI),
    ):
        db.add(OpinionChange(opinion_id=opinions[0].id, field=field, old=old, new=new, changed_by="somsri"))
    for _ in range(3):
        db.add(ServiceQuery(text=LONG_THAI + " ต้องทำอย่างไร", intent="out_of_scope", score=0.1, answered=False))
    hearing = Hearing(
        title="ประชุมประชาคมหมู่บ้านเพื่อทบทวนร่างแผนพัฒนาท้องถิ่นเพิ่มเติมครั้งที่หนึ่งประจำปีงบประมาณ",
        starts_at=now + dt.timedelta(days=10),
        place="ศาลาประชาคมหมู่ที่สามบ้านดอนยางตำบลตัวอย่างอำเภอเมืองจังหวัดขอนแก่น",
        villages="1,3",
        agenda=LONG_THAI,
        online_url=LONG_URL,
        created_by="somsri",
    )
    db.add(hearing)
    db.flush()
    job = BroadcastJob(
        hearing_id=hearing.id,
        kind="announce",
        dedupe_key=f"seeded-announce-{hearing.id}",
        mode="multicast",
        run_at=now - dt.timedelta(hours=1),
        status="done",
        created_by="somsri",
        started_at=now - dt.timedelta(hours=1),
        finished_at=now - dt.timedelta(minutes=59),
        recipients=1,
        sent=1,
    )
    db.add(job)
    db.flush()
    for action, target, detail in _audit_rows(hearing.id, job.id):
        db.add(AuditEntry(actor="somsri", action=action, target=target, detail=json.dumps(detail)))
    return {
        "/staff/opinions/{reference}": f"/staff/opinions/{opinions[0].reference}",
        "/staff/reports/{reference}": f"/staff/reports/{report.reference}",
        "/staff/hearings/{hearing_id}": f"/staff/hearings/{hearing.id}",
        "/staff/hearings/{hearing_id}/sendings/{job_id}": f"/staff/hearings/{hearing.id}/sendings/{job.id}",
        "/staff/services/{service_id}": "/staff/services/birth_registration",
    }


def _audit_rows(hearing_id: int, job_id: int) -> list[tuple[str, str | None, dict[str, object]]]:
    """One row of each action, with the details each records (as bot/ records them)."""
    filters = {"village": 3, "since": "2026-11-01", "category": "physical", "words": ["ถนน"], "status": "in_plan"}
    return [
        ("login", None, {}),
        ("login_failed", "-", {"attempts": 4, "refused": True, "collapsed": True}),
        ("logout", None, {}),
        ("export", "opinions", {"format": "xlsx", "rows": 3, "filters": filters}),
        ("export", "plan", {"format": "xlsx", "rows": 1200, "filters": {}}),
        ("opinion_change", reference("opinion", 1), {"change": "outcome"}),
        ("report_status", reference("report", 9), {"status": "in_progress"}),
        ("report_assign", reference("report", 9), {"division": "engineering"}),
        ("question_triage", "birth_registration", {"action": "attach", "questions": 3}),
        ("question_triage", None, {"action": "out_of_scope", "questions": 2}),
        ("account_add", "somsri", {"role": "exporter"}),
        ("account_change", "somsri", {"change": "role"}),
        ("broadcast", f"hearing:{hearing_id}", {"step": "create"}),
        ("broadcast", f"hearing:{hearing_id}", {"step": "announce", "job": job_id, "mode": "broadcast", "friends": 12}),
        ("data_request", None, {"request": "erasure"}),
    ]
