"""A place is a map link, not bare coordinates, and withdrawn opinions are counted apart (issue 16 item 12)."""

from __future__ import annotations

import html
import re

from bot.delivery.geo import map_label, map_url
from tests.conftest import Bot
from tests.staffing import add_opinions, add_staff, sign_in


def test_a_map_link_marks_the_point_on_openstreetmap() -> None:
    assert map_url(14.5, 100.123456789) == (
        "https://www.openstreetmap.org/?mlat=14.500000&mlon=100.123457#map=17/14.500000/100.123457"
    )
    assert map_label(14.5, 100.123456789) == "14.50000, 100.12346"


async def test_the_opinion_page_links_its_point_and_fetches_no_map(bot: Bot) -> None:
    await add_opinions(bot, [("ไฟดับ", "physical", 2)], latitude=14.5, longitude=100.25)
    await add_staff(bot, "somsri", "viewer")
    await sign_in(bot.client, "somsri")
    listing = await (await bot.client.get("/staff/opinions")).text()
    address = re.search(r'href="(/staff/opinions/[^"?]+)"', listing)  # the list's own link to the opinion
    assert address is not None
    page = await (await bot.client.get(address.group(1))).text()
    link = re.search(r'<a class="map-link" href="([^"]+)"[^>]*>([^<]+)</a>', page)
    assert link is not None
    assert html.unescape(link.group(1)) == map_url(14.5, 100.25) and link.group(2) == "14.50000, 100.25000"
    assert 'rel="noopener noreferrer"' in page
    # A link only: nothing on the page loads from a map server.
    assert not re.search(r'<(img|iframe|script)[^>]+src="https?://', page)


async def test_withdrawn_opinions_are_counted_apart_and_listed_when_asked(bot: Bot) -> None:
    await add_opinions(bot, [("ขอไฟ", "physical", 2), ("ขอถนน", "physical", 3)])
    await add_opinions(bot, [("", "physical", 2)], status="withdrawn")
    await add_staff(bot, "somsri", "viewer")
    await sign_in(bot.client, "somsri")
    page = await (await bot.client.get("/staff/opinions")).text()
    assert 'id="total">พบ 2 รายการ' in page
    assert "ถอนแล้ว 1 รายการ (ไม่นับรวม)" in page
    only = await (await bot.client.get("/staff/opinions?status=withdrawn")).text()
    assert 'id="total">พบ 1 รายการ' in only and "ถอนแล้ว" in only
