"""Downloads: opinions, reports and questions as CSV or XLSX with the list's current filters, and the
"for the plan" workbook. Each is written to a temporary file (memory stays flat), sent as an attachment
that is never cached, and recorded in the audit log with its filters and row count."""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path

from aiohttp import web

from bot import keys
from bot.db.codes import ExportKind
from bot.handlers.opinions.plan import plan_rows
from bot.handlers.services.timeline import BANGKOK
from bot.ops import audit
from bot.staff.exports import FORMATS, export_to_file, write_xlsx_sheets
from bot.staff.pages.filtering import filters_from
from bot.staff.shell import now, render, requires, signed_in

# Where a refused export sends staff back to: the page of its rows.
_BACK: dict[str, str] = {ExportKind.QUERIES: "/staff/questions", ExportKind.PLAN: "/staff/opinions"}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _scratch(request: web.Request, suffix: str) -> Path:
    folder = request.app[keys.SETTINGS].data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{secrets.token_hex(8)}.{suffix}"


async def _send(request: web.Request, path: Path, filename: str, fmt: str) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": MEDIA_TYPES[fmt],
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "Content-Length": str(path.stat().st_size),  # noqa: ASYNC240 (one stat of a local file)
        }
    )
    await response.prepare(request)
    with path.open("rb") as handle:
        while chunk := handle.read(256 * 1024):
            await response.write(chunk)
    await response.write_eof()
    return response


@requires("export")
async def download(request: web.Request) -> web.StreamResponse:
    """GET /staff/export/{kind}.{format}?filters"""
    kind, fmt = request.match_info["kind"], request.match_info["format"]
    if fmt not in FORMATS or kind not in tuple(ExportKind) or (kind == ExportKind.PLAN and fmt != "xlsx"):
        raise web.HTTPNotFound(text="ไม่มีไฟล์แบบนี้", content_type="text/plain")
    filters, problems = filters_from(request)
    if problems:  # a file must hold what the filters say: refused, not narrowed differently
        back = _BACK.get(kind, f"/staff/{kind}")
        return render(request, "export_refused.html", status=400, problems=problems, back=back)
    content = request.app[keys.CONTENT]
    path = _scratch(request, fmt)
    try:
        async with request.app[keys.SESSIONS]() as db:
            if kind == ExportKind.PLAN:
                count = await write_xlsx_sheets([("สรุปเพื่อจัดทำแผน", plan_rows(db, content, filters))], path)
            else:
                try:
                    count = await export_to_file(db, content, kind, filters, fmt, path)
                except ValueError as exc:  # more rows than a spreadsheet holds
                    raise web.HTTPBadRequest(text=str(exc), content_type="text/plain") from None
        at = now(request)
        async with request.app[keys.SESSIONS]() as db, db.begin():
            by, described = signed_in(request).username, filters.describe()
            audit.record(db, by, "export", kind, at=at, format=fmt, rows=count, filters=described)
        stamp = at.astimezone(BANGKOK).strftime("%Y%m%d-%H%M")
        return await _send(request, path, f"{kind}-{stamp}.{fmt}", fmt)
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
