"""References that cannot be confused (issue 16 item 4): a report is "ร-2569-00001", an opinion "ค-2569-00001",
everywhere they are shown and stored; whatever form residents and staff type finds the case (its own only);
migration 0013 gives the rows stored before it their kind's letter."""

from __future__ import annotations

import datetime as dt
import importlib.util
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import column, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import TableClause

from bot import keys
from bot.db.engine import MIGRATIONS_DIR, create_engine
from bot.db.models import Base, Opinion, Report, Resident
from bot.handlers.residents.rules import pseudonym_for
from bot.references import KIND_PREFIXES, format_reference, split_reference, stored_reference
from tests import chatting
from tests.conftest import Bot, BotFactory, new_user_id
from tests.staffing import add_report, add_staff, sign_in
from tests.test_opinions import HAPPY as OPINION
from tests.test_reports import CLOCK
from tests.test_reports import FILE as REPORT

# -- the one home of the form ------------------------------------------------------------------------------


def test_each_kind_has_its_own_visible_form() -> None:
    assert format_reference("report", 2569, 1) == "ร-2569-00001"
    assert format_reference("opinion", 2569, 1) == "ค-2569-00001"
    assert format_reference("report", 2569, 123456) == "ร-2569-123456"


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("report", "ร-2569-00001", "ร-2569-00001"),
        ("report", "2569-00001", "ร-2569-00001"),  # an old tap, an old link, a number without its letter
        ("report", "๒๕๖๙-๐๐๐๐๑", "ร-2569-00001"),
        ("report", "ร-๒๕๖๙–๐๐๐๐๑", "ร-2569-00001"),  # Thai digits, an en dash
        ("report", "ร 2569 00001", "ร-2569-00001"),
        ("report", "ร256900001", "ร-2569-00001"),
        ("opinion", "ค-2569-00042", "ค-2569-00042"),
        ("opinion", "ค – 2569 – 00042", "ค-2569-00042"),
        ("opinion", "2569-00042", "ค-2569-00042"),
        ("report", "ค-2569-00001", None),  # an opinion's reference names no report
        ("opinion", "ร-2569-00001", None),
        ("report", "abc", None),
        ("report", "", None),
    ],
)
def test_a_typed_reference_names_one_stored_reference_of_its_kind(kind: str, typed: str, stored: str | None) -> None:
    assert stored_reference(kind, typed) == stored


def test_the_staff_search_box_is_split_into_the_reference_and_the_words_around_it() -> None:
    found, rest = split_reference("ถนน ร-๒๕๖๙-๐๐๐๐๑ ชำรุด")
    assert found is not None and found.stored_forms() == ("ร-2569-00001",)
    assert rest.split() == ["ถนน", "ชำรุด"]
    assert split_reference("ถนนชำรุด") == (None, "ถนนชำรุด")


def test_the_migration_writes_the_letters_the_code_reads() -> None:
    path = next(MIGRATIONS_DIR.glob("versions/0013_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert {kind: f"{letter}-" for kind, letter in KIND_PREFIXES.items()} == migration.PREFIXES
    for kind, prefix in migration.PREFIXES.items():
        assert stored_reference(kind, prefix + "2569-00001") == prefix + "2569-00001"


# -- through the dispatcher --------------------------------------------------------------------------------


async def _say(bot: Bot, user: str, *turns: str) -> list[dict[str, Any]]:
    before = len(bot.fake.messages_to(user))
    for turn in turns:
        event = chatting.event(bot, user, turn)  # "tap: ...", "menu: ...", raw data or typed text
        assert (await bot.post(event)).status == 200
        await bot.idle()
    return bot.fake.messages_to(user)[before:]


async def _started(make_bot: BotFactory) -> Bot:
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    return bot


async def _report_and_opinion(bot: Bot) -> tuple[str, list[dict[str, Any]]]:
    """One resident files a report, then an opinion: the first of each kind this year."""
    user = new_user_id()
    replies = await _say(bot, user, *REPORT)
    replies += await _say(bot, user, *OPINION[:1], *OPINION[2:])  # consent was given in the report flow
    return user, replies


async def test_a_report_and_an_opinion_never_share_a_visible_reference(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    _, replies = await _report_and_opinion(bot)
    said = "\n".join(m.get("text", "") for m in replies)
    assert "เรื่องแจ้งเลขที่ ร-2569-00001" in said and "ความเห็นเลขที่ ค-2569-00001" in said
    assert " 2569-00001" not in said  # never the bare number, which both kinds have
    async with bot.sessions() as session:
        reports = list(await session.scalars(select(Report.reference)))
        opinions = list(await session.scalars(select(Opinion.reference)))
    assert reports == ["ร-2569-00001"] and opinions == ["ค-2569-00001"]
    assert not set(reports) & set(opinions)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("สถานะเรื่อง ร-2569-00001", ["เรื่องแจ้งเลขที่ ร-2569-00001"]),
        ("ขอติดตามเรื่อง ร ๒๕๖๙ ๐๐๐๐๑ ค่ะ", ["เรื่องแจ้งเลขที่ ร-2569-00001"]),
        ("สถานะเรื่อง ค–2569–00001", ["ความเห็นเลขที่ ค-2569-00001"]),
        ("ค256900001", ["ความเห็นเลขที่ ค-2569-00001"]),
        # Without a letter the number is both of this resident's cases: both are shown, no question back.
        ("สถานะเรื่อง ๒๕๖๙-๐๐๐๐๑", ["เรื่องแจ้งเลขที่ ร-2569-00001", "ความเห็นเลขที่ ค-2569-00001"]),
        ("2569 00001", ["เรื่องแจ้งเลขที่ ร-2569-00001", "ความเห็นเลขที่ ค-2569-00001"]),
        # raw data on purpose: a tap carrying the bare number, as chips sent before the letters did
        ("action=cases&ref=2569-00001", ["เรื่องแจ้งเลขที่ ร-2569-00001", "ความเห็นเลขที่ ค-2569-00001"]),
    ],
)
async def test_typed_forms_find_the_residents_own_case(make_bot: BotFactory, typed: str, shown: list[str]) -> None:
    bot = await _started(make_bot)
    user, _ = await _report_and_opinion(bot)
    replies = await _say(bot, user, typed)
    assert [m["text"].split("\n")[0] for m in replies] == shown


async def test_someone_elses_reference_is_refused_like_an_unknown_one(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    await _report_and_opinion(bot)  # ร-2569-00001 and ค-2569-00001 belong to them
    stranger = new_user_id()
    asked = (("ร-2569-00001", "ร-2569-00777"), ("ค ๒๕๖๙ ๐๐๐๐๑", "ค ๒๕๖๙ ๐๐๗๗๗"), ("2569-00001", "2569-00777"))
    for theirs, nobodys in asked:
        (got,) = await _say(bot, stranger, f"สถานะเรื่อง {theirs}")
        (expected,) = await _say(bot, stranger, f"สถานะเรื่อง {nobodys}")
        assert got["text"] == expected["text"].replace("00777", "00001")
        assert got["text"].startswith("ไม่พบเลขที่")


async def test_old_taps_with_the_bare_number_still_work(make_bot: BotFactory) -> None:
    """Rating and withdrawal chips sent before the letters carry the bare number."""
    bot = await _started(make_bot)
    user, _ = await _report_and_opinion(bot)
    async with bot.sessions() as session, session.begin():
        report = await session.scalar(select(Report))
        assert report is not None
        report.status = "done"
    # raw data on purpose: the old chips' data, with the bare number (today's chips carry the letters)
    (reopened,) = await _say(bot, user, "action=rpr&ref=2569-00001&do=reopen")
    assert "ร-2569-00001" in reopened["text"]
    # raw data on purpose: an old withdrawal chip, with the bare number
    (withdrawn,) = await _say(bot, user, "action=md&do=withdraw_one&ref=2569-00001")
    async with bot.sessions() as session:
        status = await session.scalar(select(Opinion.status))
    assert status == "withdrawn" or "ค-2569-00001" in withdrawn["text"]  # withdrawal may ask to confirm first


# -- staff -------------------------------------------------------------------------------------------------


async def test_staff_pages_and_the_search_box_take_any_typed_form(make_bot: BotFactory) -> None:
    bot = await _started(make_bot)
    await _report_and_opinion(bot)
    await add_staff(bot, "somchai", "viewer")
    await sign_in(bot.client, "somchai")
    for address, heading in (
        ("/staff/reports/ร-2569-00001", "เรื่องเลขที่ ร-2569-00001"),
        ("/staff/reports/2569-00001", "เรื่องเลขที่ ร-2569-00001"),  # a link from before the letters
        ("/staff/reports/๒๕๖๙-๐๐๐๐๑", "เรื่องเลขที่ ร-2569-00001"),
        ("/staff/opinions/ค-2569-00001", "ความคิดเห็นเลขที่ ค-2569-00001"),
        ("/staff/opinions/2569-00001", "ความคิดเห็นเลขที่ ค-2569-00001"),
    ):
        page = await bot.client.get(address)
        assert page.status == 200, address
        assert heading in await page.text(), address
    for wrong in ("/staff/reports/ค-2569-00001", "/staff/opinions/ร-2569-00001", "/staff/reports/2569-00009"):
        assert (await bot.client.get(wrong)).status == 404, wrong
    resident = await _a_resident(bot)
    await add_report(bot, resident, "ร-2569-00002", "ถนนหน้าวัดเป็นหลุมลึก")
    for typed, found in (
        ("ร-2569-00002", ["ร-2569-00002"]),
        ("๒๕๖๙ ๐๐๐๐๒", ["ร-2569-00002"]),
        ("ร 2569-00002 หลุม", ["ร-2569-00002"]),  # the reference and a word of its text
        ("ร 2569-00002 ขยะ", []),
        ("ค-2569-00002", []),  # an opinion's reference in the reports list
    ):
        listed = await (await bot.client.get("/staff/reports", params={"q": typed})).text()
        assert [ref for ref in ("ร-2569-00001", "ร-2569-00002") if f">{ref}<" in listed] == found, typed
    listed = await (await bot.client.get("/staff/opinions", params={"q": "2569-00001"})).text()
    assert ">ค-2569-00001<" in listed


async def _a_resident(bot: Bot) -> Resident:
    async with bot.sessions() as session:
        resident = await session.scalar(select(Resident))
    assert resident is not None
    return resident


# -- migration 0013 ----------------------------------------------------------------------------------------


def _table(name: str, *columns: str) -> TableClause:
    """The table with only these columns, typed as the models type them (dates in UTC, as the bot stores them)."""
    model = Base.metadata.tables[name]
    return table(name, *(column(c, model.c[c].type) for c in columns))


def _to_0012(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "0012")


async def test_migration_0013_gives_old_rows_their_kinds_letter(database_url: str, make_bot: BotFactory) -> None:
    """A database as it was at 0012 (bare references, a report and an opinion both 2569-00001) is converted
    when the bot starts; the resident finds both by the bare number, and the counters carry on."""
    engine = create_engine(database_url)
    user = new_user_id()
    now = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
    async with engine.begin() as conn:
        await conn.run_sync(_to_0012)
        # Rows as the code of 0012 wrote them, through tables of only the columns given (the models may grow).
        await conn.execute(
            _table("resident", "line_user_id", "pseudonym", "followed", "notify", "created_at", "last_seen_at")
            .insert()
            .values(
                line_user_id=user,
                pseudonym=pseudonym_for("k" * 32, user),
                followed=True,
                notify=True,
                created_at=now,
                last_seen_at=now,
            )
        )
        owner = await conn.scalar(select(Resident.id).where(Resident.line_user_id == user))
        case = {"resident_id": owner, "village": 5, "status": "received", "created_at": now}
        report = _table("report", *case, "reference", "type", "division", "text", "updated_at")
        for reference, kind, text in (("2569-00001", "waste", "ขยะกองหน้าตลาด"), ("2569-00002", "road", "ถนนเป็นหลุม")):
            division = "health" if kind == "waste" else "engineering"
            await conn.execute(
                report.insert().values(
                    **case, reference=reference, type=kind, division=division, text=text, updated_at=now
                )
            )
        opinion = _table("opinion", *case, "reference", "category", "text")
        await conn.execute(opinion.insert().values(**case, reference="2569-00001", category="physical", text="ขอไฟ"))
        counter = _table("reference_counter", "kind", "year", "last")
        await conn.execute(counter.insert().values(kind="report", year=2569, last=2))
        await conn.execute(counter.insert().values(kind="opinion", year=2569, last=1))
    await engine.dispose()

    bot = await _started(make_bot)  # migrates to the newest revision
    async with bot.sessions() as session:
        reports = list(await session.scalars(select(Report.reference).order_by(Report.id)))
        opinions = list(await session.scalars(select(Opinion.reference)))
    assert reports == ["ร-2569-00001", "ร-2569-00002"] and opinions == ["ค-2569-00001"]

    replies = await _say(bot, user, "สถานะเรื่อง 2569-00001")
    assert [m["text"].split("\n")[0] for m in replies] == ["เรื่องแจ้งเลขที่ ร-2569-00001", "ความเห็นเลขที่ ค-2569-00001"]
    filed = await _say(bot, user, *REPORT)
    assert any("เรื่องแจ้งเลขที่ ร-2569-00003" in m.get("text", "") for m in filed)
