"""The staff workspace in Debian's chromium, on the server a newcomer runs (`python -m bot serve`, local
mode): a resident gives an opinion through the simulator; staff sign in, filter, open it, set its outcome
(the resident is told on the fake LINE) and download an export; a viewer cannot export; an idle session
ends."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serving import CHROMIUM, CHROMIUM_ARGS, bot_env, get_json, post_json, run_cli, served
from tests.staff_pages import STAFF, page_paths, seed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is installed by scripts/test"),
]
RESIDENT = "U" + "b" * 32
PASSWORD = "correct horse battery"
IDLE_SECONDS = 6
OPINION = (
    {"kind": "text", "text": "อยากให้เทศบาลทำถนนลาดยางในซอยบ้านดอนยาง"},
    {"kind": "postback", "data": "action=op&do=accept"},
    {"kind": "postback", "data": "action=op&do=village&n=3"},
    {"kind": "text", "text": "ตอนนี้เป็นหลุมลึก ฝนตกน้ำขัง"},
    {"kind": "text", "text": "เสร็จ"},
    {"kind": "postback", "data": "action=op&do=category&id=physical"},
    {"kind": "postback", "data": "action=op&do=confirm"},
)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[str]:
    env = bot_env(tmp_path / "var", STAFF_IDLE_SECONDS=str(IDLE_SECONDS))
    for username, role in (("somsri", "exporter"), ("viewer1", "viewer")):
        # Before the server's first start: --create makes the database the server then opens.
        added = run_cli(env, "staff", "add", username, "--role", role, "--create", stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    with served(env) as base:
        yield base


def _resident_says(base: str) -> None:
    seen = 0
    post_json(f"{base}/simulator/api/send", {"userId": RESIDENT, "kind": "follow"})
    for turn in OPINION:
        seen = max([seen, *(d["seq"] for d in get_json(f"{base}/simulator/api/messages?userId={RESIDENT}&wait=10"))])
        assert post_json(f"{base}/simulator/api/send", {"userId": RESIDENT, **turn})["status"] == 200
        answer = get_json(f"{base}/simulator/api/messages?userId={RESIDENT}&after={seen}&wait=10")
        assert answer, f"no answer to {turn}"
        seen = max(d["seq"] for d in answer)
    assert "2569-00001" in str(answer)


def _pushed_text(base: str) -> str:
    return str(get_json(f"{base}/simulator/api/messages?userId={RESIDENT}"))


def test_staff_triage_an_opinion_and_export_it(workspace: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    _resident_says(workspace)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(accept_downloads=True).new_page()
            page.goto(f"{workspace}/staff")
            expect(page).to_have_url(f"{workspace}/staff/login?next=/staff")
            page.fill("input[name=username]", "somsri")
            page.fill("input[name=password]", "wrong password here")
            page.click("text=เข้าสู่ระบบ >> nth=-1")
            expect(page.locator(".error")).to_be_visible()
            page.fill("input[name=username]", "somsri")
            page.fill("input[name=password]", PASSWORD)
            page.click("button:has-text('เข้าสู่ระบบ')")
            expect(page.locator("#opinions-week")).to_have_text("1")

            page.click("nav >> text=ความคิดเห็น")
            page.select_option("select[name=village]", "3")
            # Days in the Buddhist era, typed as staff write them (chromium's date input would be Gregorian).
            since = page.locator("input[name=since]")
            expect(since).to_have_attribute("placeholder", "เช่น 01/11/2569")
            since.fill("1/1/2569")
            page.fill("input[name=until]", "31/12/2026")  # a Gregorian year by mistake: read, shown in พ.ศ.
            page.click("button:has-text('กรอง')")
            expect(page.locator("#total")).to_have_text("พบ 1 รายการ")
            expect(since).to_have_value("01/01/2569")
            expect(page.locator("input[name=until]")).to_have_value("31/12/2569")
            expect(page.locator(".field-error")).to_have_count(0)
            page.click("text=2569-00001")
            expect(page.locator("h1")).to_contain_text("2569-00001")

            form = page.locator("#outcome-form")
            form.locator("select[name=outcome]").select_option("in_plan")
            form.locator("input[name=detail]").fill("โครงการก่อสร้างถนนลาดยาง หมู่ 3")
            form.locator("button").click()
            expect(page.locator(".flash")).to_be_visible()
            expect(page.locator("#status")).to_have_text("บรรจุในแผนแล้ว")
            deadline = time.monotonic() + 15
            while "โครงการก่อสร้างถนนลาดยาง" not in _pushed_text(workspace):
                assert time.monotonic() < deadline, "the resident was not told"
                time.sleep(0.3)

            page.goto(f"{workspace}/staff/opinions")
            with page.expect_download() as download:
                page.click("text=ดาวน์โหลด CSV")
            saved = tmp_path / "opinions.csv"
            download.value.save_as(saved)
            raw = saved.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") and "ตอนนี้เป็นหลุมลึก".encode() in raw
            assert RESIDENT.encode() not in raw
            page.screenshot(path=str(tmp_path / "staff.png"), full_page=True)

            # Idle: past the timeout the next page is the sign-in form.
            time.sleep(IDLE_SECONDS + 1)
            page.goto(f"{workspace}/staff/reports")
            expect(page).to_have_url(f"{workspace}/staff/login?next=/staff/reports")
        finally:
            browser.close()


def test_a_viewer_reads_but_cannot_export(workspace: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{workspace}/staff/login")
            page.fill("input[name=username]", "viewer1")
            page.fill("input[name=password]", PASSWORD)
            page.click("button:has-text('เข้าสู่ระบบ')")
            page.goto(f"{workspace}/staff/opinions")
            expect(page.locator("#total")).to_be_visible()
            expect(page.locator("text=ดาวน์โหลด CSV")).to_have_count(0)
            assert page.request.get(f"{workspace}/staff/export/opinions.csv").status == 403
            assert page.request.get(f"{workspace}/staff/accounts").status == 403
            expect(page.locator("nav >> text=บัญชีผู้ใช้")).to_have_count(0)
        finally:
            browser.close()


NARROW, WIDE = 390, 1280


@pytest.fixture
def seeded_workspace(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A server with an admin and rows of every kind (long texts, long URLs); every page's address."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    env = bot_env(tmp_path / "var")
    added = run_cli(env, "staff", "add", STAFF, "--role", "admin", "--create", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'bot.sqlite3'}")
    with Session(engine) as db, db.begin():
        samples = seed(db)
    engine.dispose()
    with served(env) as base:
        yield base, page_paths(samples)


def _page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _with_date_errors(paths: list[str]) -> list[str]:
    """The pages whose forms take Buddhist-era days and times, with each field's Thai error showing
    (issue 16 item 9): they must fit too."""
    hearing = next(p for p in paths if re.fullmatch(r"/staff/hearings/\d+", p))
    bad = "since=31%2F02%2F2569&until=1%2F1%2F2442"
    return [
        f"/staff/opinions?{bad}",
        f"/staff/reports?{bad}",
        f"/staff/insight?{bad}",
        "/staff/hearings?error=starts",
        f"{hearing}?error=at",
        f"{hearing}?error=starts",
    ]


def test_every_staff_page_fits_a_phone_and_a_desktop(seeded_workspace: tuple[str, list[str]]) -> None:
    """Issue 16 item 8: at 390 px and 1280 px no page scrolls sideways; on a phone the menu is a button."""
    from playwright.sync_api import expect, sync_playwright

    base, paths = seeded_workspace
    assert "/staff/audit" in paths and "/staff/questions" in paths and len(paths) >= 12
    too_wide: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in (NARROW, WIDE):
                page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
                page.goto(f"{base}/staff/login")
                if _page_width(page) > width:
                    too_wide.append(f"/staff/login at {width}: {_page_width(page)} px")
                page.fill("input[name=username]", STAFF)
                page.fill("input[name=password]", PASSWORD)
                page.click("button:has-text('เข้าสู่ระบบ')")
                expect(page).to_have_url(f"{base}/staff")
                for path in [*paths, *_with_date_errors(paths)]:
                    response = page.goto(f"{base}{path}")
                    assert response is not None and response.status == 200, path
                    if _page_width(page) > width:
                        too_wide.append(f"{path} at {width}: {_page_width(page)} px")
                link = page.locator("details.menu a", has_text="ความคิดเห็น")
                if width == NARROW:
                    expect(page.locator("nav.wide")).to_be_hidden()
                    expect(link).to_be_hidden()
                    page.locator("details.menu summary").click()
                    expect(link).to_be_visible()
                    link.click()
                    expect(page).to_have_url(f"{base}/staff/opinions")
                else:
                    expect(page.locator("details.menu")).to_be_hidden()
                    expect(page.locator("nav.wide a", has_text="ความคิดเห็น")).to_be_visible()
        finally:
            browser.close()
    assert not too_wide, too_wide


def test_a_hearing_is_added_with_a_buddhist_era_day_in_chromium(seeded_workspace: tuple[str, list[str]]) -> None:
    """Issue 16 item 9: the hearing form's day is typed in พ.ศ. and its time as 24-hour text, whatever the
    browser's locale; the page and the edit form show them back in พ.ศ."""
    from playwright.sync_api import expect, sync_playwright

    base, _paths = seeded_workspace
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": NARROW, "height": 800}).new_page()
            page.goto(f"{base}/staff/login")
            page.fill("input[name=username]", STAFF)
            page.fill("input[name=password]", PASSWORD)
            page.click("button:has-text('เข้าสู่ระบบ')")
            page.goto(f"{base}/staff/hearings")
            form = page.locator("#new-hearing")
            form.locator("input[name=title]").fill("ประชาคมหมู่ 5 ทดสอบวันที่")
            form.locator("input[name=starts]").fill("20/12/2574")
            form.locator("input[name=starts_time]").fill("9.30")
            form.locator("input[name=place]").fill("ศาลาหมู่ 5")
            form.locator("button:has-text('เพิ่ม')").click()
            expect(page.locator("h1")).to_have_text("ประชาคมหมู่ 5 ทดสอบวันที่")
            expect(page.locator("main")).to_contain_text("20 ธันวาคม 2574")
            expect(page.locator("input[name=starts]")).to_have_value("20/12/2574")
            expect(page.locator("input[name=starts_time]")).to_have_value("09:30")
            assert _page_width(page) <= NARROW
        finally:
            browser.close()
