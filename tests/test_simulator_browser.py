"""The README's run command in a real browser: `python -m bot serve` in local mode, chatting at /simulator."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.content import load_content
from tests.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, bot_env, served

pytestmark = pytest.mark.browser


@pytest.fixture
def served_bot(tmp_path: Path) -> Iterator[str]:
    """`python -m bot serve` with no LINE credentials, exactly as a newcomer runs it."""
    with served(bot_env(tmp_path / "var")) as base:
        yield base


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is installed by scripts/test")
def test_chat_in_the_simulator(served_bot: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    municipality = load_content(ROOT / "content").municipality
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{served_bot}/simulator")
            # Opening the page adds the account as a friend: the welcome arrives with its chips.
            expect(page.locator(".bot .bubble").first).to_contain_text(municipality.name, timeout=10_000)
            expect(page.locator("#chips button")).to_have_count(6)
            page.fill("#text", "เมนู")
            page.keyboard.press("Enter")
            expect(page.locator(".me .bubble").last).to_have_text("เมนู")
            expect(page.locator("#chips button", has_text="ติดต่อเทศบาล")).to_be_visible(timeout=10_000)
            page.locator("#chips button", has_text="ติดต่อเทศบาล").click()
            expect(page.locator(".bot .bubble").last).to_contain_text(municipality.phone, timeout=10_000)
            page.screenshot(path=str(Path(os.environ.get("SCREENSHOT_DIR", "/tmp")) / "simulator.png"))
        finally:
            browser.close()
