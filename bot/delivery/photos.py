"""Photos residents send: fetched from LINE's content API (through bot/delivery/line.py) after the opinion or report
that carries them is committed, checked, and stored re-encoded so that no metadata survives: no EXIF (GPS
position, camera, time), XMP, ICC profile, JPEG comment or other APPn segment, no PNG text chunk. A failed
download never touches the text already saved; it is retried, then marked failed."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import io
import logging
import secrets
from pathlib import Path
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ColumnElement, Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Photo, utcnow
from bot.db.statuses import PhotoStatus
from bot.delivery.background import Stopping
from bot.delivery.line import LineGateway, LineLimitError, LineSendError

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 25_000_000  # larger images are refused before decoding (decompression bombs)
MAX_SIDE = 2048  # stored photos are scaled down to this, which is plenty to see a pothole
# A photo that could not be fetched or written (LINE unreachable, the disk full) is tried again later, each
# wait longer than the last, so an operator has hours to free the disk before it is marked failed. LINE keeps
# a message's content only for a while, so the waits stop after a few hours.
RETRY_AFTER = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=3),
)
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
# How long one pass holds a photo it is fetching (LINE's timeout and retries take far less).
FETCH_LEASE = dt.timedelta(minutes=5)
PHOTOS_PER_SUBMISSION = 3


class PhotoRejected(ValueError):
    """Not an image we accept (not an image at all, or too many pixels)."""


def sanitize(data: bytes) -> tuple[bytes, int, int]:
    """Decode with a pixel cap, drop every piece of metadata, scale down, re-encode as JPEG."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise PhotoRejected(f"{width}x{height} pixels is over the cap")
            probe.load()
            # Phones store a photo as the sensor saw it and say in EXIF which way is up; that note goes below,
            # so the pixels are turned first (a sideways pothole is hard to read on the staff page).
            image = (ImageOps.exif_transpose(probe) or probe).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PhotoRejected(type(exc).__name__) from None
    # convert() copies the source's info: the JPEG writer would write its "comment" back as a COM segment.
    # Only the pixels go on. The ICC profile goes too: a pothole needs no colour management, and a profile is
    # one more blob of the sender's (device names, free text) for viewers to parse.
    image.info.clear()
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    # Pillow writes only what it is given here: the JFIF APP0 header (version and pixel density) and the image.
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), image.width, image.height


class PhotoFetcher:
    """Fetches pending photos in the background; one pass at a time per process."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], line: LineGateway, media_dir: Path) -> None:
        self._sessions = sessions
        self._line = line
        self._dir = media_dir

    async def run_once(self, limit: int = 20, now: dt.datetime | None = None) -> int:
        """Fetch (or erase) up to `limit` photos due by `now`; return how many were handled."""
        now = now or utcnow()
        # An erasure never waits: a photo marked for it goes at once, even one waiting for another fetch.
        due = or_(Photo.status == PhotoStatus.ERASE, _fetch_due(now))
        async with self._sessions() as session:
            waiting = select(Photo).where(due).order_by(Photo.id).limit(limit)
            pending = list(await session.scalars(waiting))
        for photo in pending:
            if photo.status == PhotoStatus.ERASE:
                await self._erase(photo)
            elif await self._claim(photo.id, now):
                await self._fetch(photo, now)
        return len(pending)

    async def _claim(self, photo_id: int, now: dt.datetime) -> bool:
        """Take this photo for one fetch, unless another pass (another worker process) took it first: one
        fetch, one file. A pass that dies holding it leaves it to be tried once FETCH_LEASE has passed."""
        async with self._sessions() as session, session.begin():
            taken = await session.execute(
                update(Photo).where(Photo.id == photo_id, _fetch_due(now)).values(next_attempt_at=now + FETCH_LEASE)
            )
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    async def _erase(self, photo: Photo) -> None:
        """A withdrawn or erased submission: the file goes, the row says so."""
        if photo.path:
            await asyncio.to_thread(delete_files, self._dir, [photo.path])
        await self._record(photo.id, PhotoStatus.DELETED, path=None, width=None, height=None)

    async def run_forever(self, stopping: Stopping, every: float = 2.0) -> None:
        while not stopping.requested:
            try:
                await self.run_once()
            except Exception as exc:
                log.error("photo pass failed", extra={"error": type(exc).__name__})
            if await stopping.sleep(every):
                return

    async def _fetch(self, photo: Photo, now: dt.datetime) -> None:
        try:
            data = await self._line.get_content(photo.message_id, max_bytes=MAX_BYTES)
            clean, width, height = sanitize(data)
            path = await asyncio.to_thread(self._write, clean)
        except (PhotoRejected, LineLimitError) as exc:
            await self._record(photo.id, PhotoStatus.FAILED, error=str(exc))
            return
        except LineSendError as exc:
            # LINE no longer has the content (404) or refuses for good: failed at once, not in four hours.
            outcome: PhotoStatus | Literal["retry"] = "retry" if exc.retryable else PhotoStatus.FAILED
            await self._record(photo.id, outcome, retry_from=now, error=f"{type(exc).__name__}: {exc}"[:200])
            return
        except OSError as exc:
            # The disk is full or the media directory read-only: the text of the submission is committed
            # already; the photo is tried again later, then marked failed, and staff see why.
            log.error(
                "photo could not be written to the media directory",
                extra={"photo": photo.id, "error": errno.errorcode.get(exc.errno or 0, type(exc).__name__)},
            )
            await self._record(
                photo.id, "retry", retry_from=now, error=f"{type(exc).__name__}: {exc.strerror or exc}"[:200]
            )
            return
        await self._record(photo.id, PhotoStatus.STORED, path=path, width=width, height=height)

    def _write(self, data: bytes) -> str:
        today = utcnow()
        relative = Path(f"{today:%Y}/{today:%m}/{secrets.token_hex(12)}.jpg")
        target = self._dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return str(relative)

    async def _record(
        self,
        photo_id: int,
        outcome: PhotoStatus | Literal["retry"],
        retry_from: dt.datetime | None = None,
        **values: object,
    ) -> None:
        async with self._sessions() as session, session.begin():
            photo = await session.get(Photo, photo_id)
            if photo is None:
                return
            photo.attempts += 1
            if photo.status == PhotoStatus.ERASE and outcome != PhotoStatus.DELETED:
                # The resident erased their data while this fetch was under way: the erasure wins, and the
                # next pass deletes the file this fetch may have written.
                photo.path = values.get("path", photo.path)  # type: ignore[assignment]
                return
            if outcome == "retry":
                photo.status = PhotoStatus.FAILED if photo.attempts >= MAX_ATTEMPTS else PhotoStatus.PENDING
                if photo.status == PhotoStatus.PENDING:
                    photo.next_attempt_at = (retry_from or utcnow()) + RETRY_AFTER[photo.attempts - 1]
            else:
                photo.status = outcome
            for key, value in values.items():
                setattr(photo, key, value)
        log.info("photo", extra={"photo": photo_id, "outcome": outcome})


def _fetch_due(now: dt.datetime) -> ColumnElement[bool]:
    """A photo waiting to be fetched whose next try is due by `now` (none set: due at once)."""
    return and_(Photo.status == PhotoStatus.PENDING, or_(Photo.next_attempt_at.is_(None), Photo.next_attempt_at <= now))


def photos_for_staff(**owner: int) -> Select[Photo]:
    """The photos of one opinion or report (opinion_id=... or report_id=...) that staff see: the stored ones,
    and those still being tried or given up on, so a full disk or a bad file is visible."""
    shown = Photo.status.in_((PhotoStatus.STORED, PhotoStatus.PENDING, PhotoStatus.FAILED))
    return select(Photo).filter_by(**owner).where(shown).order_by(Photo.id)


def delete_files(media_dir: Path, paths: list[str]) -> None:
    """Remove stored photos (erasure, retention); missing files are fine."""
    for relative in paths:
        with contextlib.suppress(FileNotFoundError):
            (media_dir / relative).unlink()
