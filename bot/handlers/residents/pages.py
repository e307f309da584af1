"""/privacy: the full privacy notice residents are linked to from the chat, the one page of this feature."""

from __future__ import annotations

import html

from aiohttp import web

from bot import keys
from bot.handlers.residents.mydata import notice_version


async def privacy_notice(request: web.Request) -> web.Response:
    """The full privacy notice, linked from the chat before anything is collected. It ends with its version as
    ข้อมูลของฉัน names it (a Buddhist-era date), so the resident can tell which one they acknowledged."""
    content = request.app[keys.CONTENT]
    placeholders = content.municipality.placeholders()
    text = content.privacy.full.format_map({**placeholders, "retention_months": content.privacy.retention_months})
    version = content.phrases["privacy_version"].format_map(
        {**placeholders, "version": notice_version(content.privacy.version)}
    )
    page = (
        '<!doctype html><html lang="th"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(content.municipality.name)}</title></head>"
        '<body style="font-family:sans-serif;max-width:42rem;margin:1rem auto;padding:0 1rem;line-height:1.6">'
        f'<p style="white-space:pre-wrap">{html.escape(text)}</p>'
        f'<p id="version"><small>{html.escape(version)}</small></p></body></html>'
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )
