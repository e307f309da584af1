"""Photos residents attach: fetched after the opinion commits, stored without EXIF/GPS, capped, erased with
the resident's data; a bad photo never touches the text already saved."""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from bot import keys
from bot.db.models import Opinion, Photo, utcnow
from bot.delivery.photos import MAX_ATTEMPTS, MAX_PIXELS, RETRY_AFTER, PhotoFetcher, PhotoRejected, sanitize
from bot.dev import events
from tests.chatting import say_all
from tests.conftest import Bot, BotFactory, new_user_id
from tests.staffing import add_staff, sign_in

CLOCK = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)


def jpeg_with_gps(width: int = 640, height: int = 480, **more_metadata: Any) -> bytes:
    image = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (13.0, 45.0, 12.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (100.0, 30.0, 1.0),
    }
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), **more_metadata)
    return out.getvalue()


def test_sanitize_turns_the_photo_the_way_the_phone_said_is_up() -> None:
    image = Image.new("RGB", (640, 480), (200, 120, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned a quarter: show it rotated 90 degrees
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    clean, width, height = sanitize(out.getvalue())
    assert (width, height) == (480, 640)
    with Image.open(io.BytesIO(clean)) as after:
        assert after.size == (480, 640)
        assert not after.getexif()  # and the note itself is gone


def test_sanitize_drops_gps_and_camera_data() -> None:
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really carries a position
    clean, width, height = sanitize(original)
    with Image.open(io.BytesIO(clean)) as after:
        assert not after.getexif() and "exif" not in after.info
        assert (after.width, after.height) == (width, height) == (640, 480)


def test_sanitize_refuses_what_is_not_an_image_or_too_large() -> None:
    with pytest.raises(PhotoRejected):
        sanitize(b"%PDF-1.7 not an image")
    side = int(MAX_PIXELS**0.5) + 10
    huge = io.BytesIO()
    Image.new("L", (side, side)).save(huge, format="PNG")
    with pytest.raises(PhotoRejected):
        sanitize(huge.getvalue())


async def _opinion_with_photo(make_bot: BotFactory, content: bytes | None) -> tuple[Bot, str]:
    """An opinion filed with one photo; None: LINE no longer has the photo's content (404)."""
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    user = new_user_id()
    if content is not None:
        bot.fake.content["photo-1"] = (content, "image/jpeg")
    await say_all(bot, user, "menu: เสนอความคิดเห็น", "tap: รับทราบ", "tap: หมู่ 1", "ถนนพังตรงนี้")
    await bot.post(events.image_event(user, "photo-1", bot.fake.issue_reply_token(user)))
    await bot.idle()
    await say_all(bot, user, "เสร็จ", "tap: กายภาพ ถนน น้ำ ไฟ", "tap: ยืนยันส่ง")
    await bot.app[keys.PHOTOS].run_once()
    return bot, user


async def test_photo_is_stored_without_exif_after_the_opinion_commits(make_bot: BotFactory, tmp_path: Path) -> None:
    bot, user = await _opinion_with_photo(make_bot, jpeg_with_gps())
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        photo = await session.scalar(select(Photo))
    assert opinion is not None and photo is not None
    assert photo.opinion_id == opinion.id and photo.status == "stored" and photo.path
    stored = tmp_path / "media" / photo.path
    with Image.open(stored) as image:
        assert not image.getexif()
    assert b"PhoneMaker" not in stored.read_bytes()
    # Deleting my data erases the file.
    await say_all(bot, user, "menu: ข้อมูลของฉัน", "tap: ลบข้อมูลทั้งหมด", "tap: ยืนยันลบทั้งหมด")
    await bot.app[keys.PHOTOS].run_once()
    assert not stored.exists()
    async with bot.sessions() as session:
        photo = await session.scalar(select(Photo))
    assert photo is not None and photo.status == "deleted" and photo.path is None


async def test_a_bad_photo_fails_without_touching_the_opinion(make_bot: BotFactory) -> None:
    bot, _ = await _opinion_with_photo(make_bot, b"not an image at all")
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        photo = await session.scalar(select(Photo))
    assert opinion is not None and opinion.text == "ถนนพังตรงนี้"
    assert photo is not None and photo.status == "failed" and photo.path is None


async def _staff_sees(bot: Bot, reference: str) -> str:
    await add_staff(bot, "malee", "viewer")
    await sign_in(bot.client, "malee")
    return await (await bot.client.get(f"/staff/opinions/{reference}")).text()


async def test_a_read_only_media_directory_keeps_the_opinion_and_says_why(make_bot: BotFactory, tmp_path: Path) -> None:
    """The media path is unwritable (here a file stands where the directory should be: a real OS error, even
    for root): the opinion's text is committed, the photo is retried, then marked failed with the reason,
    and staff and /metrics see it."""
    (tmp_path / "media").write_bytes(b"")
    bot, _ = await _opinion_with_photo(make_bot, jpeg_with_gps())
    later = utcnow()
    for wait in RETRY_AFTER:
        assert await bot.app[keys.PHOTOS].run_once(now=later) == 0  # not due yet
        later += wait
        assert await bot.app[keys.PHOTOS].run_once(now=later) == 1
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        photo = await session.scalar(select(Photo))
    assert opinion is not None and opinion.text == "ถนนพังตรงนี้" and opinion.status == "received"
    assert photo is not None and photo.status == "failed" and photo.attempts == MAX_ATTEMPTS
    assert photo.error and "Error" in photo.error
    page = await _staff_sees(bot, opinion.reference)
    assert "ถนนพังตรงนี้" in page and "ภาพประกอบ 1 รูปบันทึกไม่สำเร็จ" in page and photo.error in page
    metrics = await (await bot.client.get("/metrics")).text()
    assert "bot_photos_failed 1" in metrics.splitlines()


async def test_a_full_disk_keeps_the_opinion_and_the_photo_is_tried_again(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No space left on the device for the first try: the photo waits; once there is space it is stored."""
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    calls = []

    def write(self: PhotoFetcher, data: bytes) -> str:
        calls.append(len(data))
        if len(calls) == 1:
            raise full
        return original(self, data)

    original = PhotoFetcher._write
    monkeypatch.setattr(PhotoFetcher, "_write", write)
    bot, _ = await _opinion_with_photo(make_bot, jpeg_with_gps())
    async with bot.sessions() as session:
        photo = await session.scalar(select(Photo))
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None and opinion.text == "ถนนพังตรงนี้"
    assert photo is not None and photo.status == "pending" and "No space left on device" in (photo.error or "")
    assert photo.next_attempt_at is not None and photo.next_attempt_at > utcnow() + RETRY_AFTER[0] / 2
    page = await _staff_sees(bot, opinion.reference)
    assert "ภาพประกอบกำลังบันทึก" in page
    await bot.app[keys.PHOTOS].run_once()  # not due yet: the disk may still be full
    assert len(calls) == 1
    await bot.app[keys.PHOTOS].run_once(now=photo.next_attempt_at)
    async with bot.sessions() as session:
        photo = await session.scalar(select(Photo))
    assert photo is not None and photo.status == "stored" and len(calls) == 2


async def test_erasing_a_photo_that_waits_for_a_retry_does_not_wait(make_bot: BotFactory, tmp_path: Path) -> None:
    """The resident deletes their data while their photo waits to be tried again: the photo goes at once."""
    (tmp_path / "media").write_bytes(b"")  # the first write fails, so the photo waits for RETRY_AFTER[0]
    bot, user = await _opinion_with_photo(make_bot, jpeg_with_gps())
    await say_all(bot, user, "menu: ข้อมูลของฉัน", "tap: ลบข้อมูลทั้งหมด", "tap: ยืนยันลบทั้งหมด")
    # Deleted by this pass, or by the app's own photo loop (every 2 s) if it came first: either way at once,
    # not after the minute the retry waits.
    await bot.app[keys.PHOTOS].run_once()
    async with bot.sessions() as session:
        photo = await session.scalar(select(Photo))
    assert photo is not None and photo.status == "deleted"


async def test_a_photo_line_no_longer_has_fails_at_once(make_bot: BotFactory) -> None:
    """404 from LINE will not change in an hour: the photo is failed now, not shown as saving for hours."""
    bot, _ = await _opinion_with_photo(make_bot, None)
    async with bot.sessions() as session:
        photo = await session.scalar(select(Photo))
    assert photo is not None and photo.status == "failed" and photo.attempts == 1


async def test_an_erasure_during_a_fetch_wins(make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The resident deletes their data while their photo is being fetched: the fetch must not bring it back
    as stored; the next pass removes the file it wrote."""
    written: list[str] = []
    original_record, original_write = PhotoFetcher._record, PhotoFetcher._write

    def write(self: PhotoFetcher, data: bytes) -> str:
        written.append(original_write(self, data))
        return written[-1]

    async def record(self: PhotoFetcher, photo_id: int, outcome: str, *args: Any, **values: Any) -> None:
        if outcome == "stored":  # the erasure commits while the fetch is under way
            async with self._sessions() as session, session.begin():
                photo = await session.get(Photo, photo_id)
                assert photo is not None
                photo.status = "erase"
        await original_record(self, photo_id, outcome, *args, **values)

    monkeypatch.setattr(PhotoFetcher, "_write", write)
    monkeypatch.setattr(PhotoFetcher, "_record", record)
    bot, _ = await _opinion_with_photo(make_bot, jpeg_with_gps())
    assert len(written) == 1
    await bot.app[keys.PHOTOS].run_once()
    async with bot.sessions() as session:
        photo = await session.scalar(select(Photo))
    assert photo is not None and photo.status == "deleted" and photo.path is None
    assert not (bot.app[keys.PHOTOS]._dir / written[0]).exists()
