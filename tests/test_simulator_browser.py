"""The README's run command in a real browser: `python -m bot serve` in local mode, chatting at /simulator."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.content import load_content

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium reaches for Google's hosts at start, and this machine has no such network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served_bot(tmp_path: Path) -> Iterator[str]:
    """`python -m bot serve` with no LINE credentials, exactly as a newcomer runs it."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_URL"))}
    env.update({"DATA_DIR": str(tmp_path / "var"), "PORT": str(port)})
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert f"{base}/simulator" in banner, banner
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


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
