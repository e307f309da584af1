"""The reader process (bot/nlp/reader.py): the server reads residents' messages in a child process at a lower CPU
priority, and it must read exactly as the in-process reader does, learn staff phrasings, and survive its
child being killed."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import keys
from bot.content import load_content
from bot.handlers.services.qa import QuestionAnswering
from bot.nlp.reader import ProcessReader
from bot.nlp.retrieve import Match
from bot.nlp.understand import Reading
from tests.chatting import chip_actions
from tests.conftest import BotFactory, new_user_id

ROOT = Path(__file__).resolve().parent.parent
CONTENT = load_content(ROOT / "content")
QA = QuestionAnswering.from_content(CONTENT)
# Questions, problems, wishes, follow-ups and nonsense, short and long: the two readers must agree on all.
MESSAGES = [
    "เบี้ยคนแก่ลงทะเบียนหม่องได๋",
    "ไฟถนนหน้าบ้านดับ 3 วันแล้ว",
    "อยากให้มีตลาดชุมชน",
    "ขอเบอร์โทรเทศบาล",
    "ทำพาสปอร์ตที่ไหน",
    "ถ้าจ่ายช้าโดนปรับไหม",
    "ร้องเพลงให้ฟังหน่อย",
    "",
    "ถนนในซอย 15 ชำรุดเสียหายมานาน " * 40,
]
# A phrasing no content has: only a reader that learned it can answer it.
TAUGHT = "หนังสือรับรองแมวเหมียวประจำบ้าน"


@pytest.fixture
async def reader() -> AsyncIterator[ProcessReader]:
    process = ProcessReader(CONTENT, {}, niceness=10)
    await process.warm_up()
    yield process
    await process.close()


def _child_pid(reader: ProcessReader, child: int = 0) -> int:
    (pid,) = reader._pools[child]._processes  # type: ignore[attr-defined]
    return int(pid)


def _assert_same(got: Reading, expected: Reading) -> None:
    """Same reading; scores within 1e-4 (the two processes' vector arithmetic differs in the sixth place)."""
    unscored = [
        dataclasses.replace(r, score=0.0, candidates=tuple(Match(m.label, 0.0) for m in r.candidates))
        for r in (got, expected)
    ]
    assert unscored[0] == unscored[1]
    scores = [[r.score, *(m.score for m in r.candidates)] for r in (got, expected)]
    assert scores[0] == pytest.approx(scores[1], abs=1e-4)


async def test_the_child_reads_as_the_process_does(reader: ProcessReader) -> None:
    for context in (None, "land_building_tax"):
        for message in MESSAGES:
            _assert_same(await reader.read(message, context), QA.read(message, context))


async def test_the_child_runs_at_a_lower_priority(reader: ProcessReader) -> None:
    pid = _child_pid(reader)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)


async def test_staff_phrasings_are_learned_by_the_child(reader: ProcessReader) -> None:
    assert (await reader.read(TAUGHT)).service_id != "house_number"
    await reader.learn({"house_number": [TAUGHT]})
    reading = await reader.read(TAUGHT)
    assert reading.intent == "service" and reading.service_id == "house_number"


async def test_every_child_learns_the_phrasings() -> None:
    reader = ProcessReader(CONTENT, {}, niceness=10, processes=2)
    try:
        await reader.warm_up()
        assert _child_pid(reader, 0) != _child_pid(reader, 1)
        await reader.learn({"house_number": [TAUGHT]})
        # Two at once: one goes to each child (the one with the fewest waiting).
        readings = await asyncio.gather(reader.read(TAUGHT), reader.read(TAUGHT))
        assert [r.service_id for r in readings] == ["house_number", "house_number"]
    finally:
        await reader.close()


async def test_a_killed_child_is_started_again_with_what_it_had_learned(reader: ProcessReader) -> None:
    await reader.learn({"house_number": [TAUGHT]})
    os.kill(_child_pid(reader), signal.SIGKILL)
    # Several messages waiting on the dead child: each is read by one successor, none is lost.
    readings = await asyncio.gather(*(reader.read(TAUGHT) for _ in range(4)))
    assert [r.service_id for r in readings] == ["house_number"] * 4


async def test_a_bot_with_the_reader_process_answers_as_one_without(make_bot: BotFactory) -> None:
    """The same resident's turns through a server reading in a child and one reading in a thread."""
    turns = ["ไฟถนนหน้าบ้านดับ 3 วันแล้ว", "ยกเลิก", "เบี้ยผู้สูงอายุ", "ถ้าย้ายบ้านยังได้ไหม"]
    answers = []
    for in_child in (True, False):
        bot = await make_bot(reader_process=in_child)
        user = new_user_id()
        said = []
        for turn in turns:
            assert (await bot.post(bot.text(user, turn))).status == 200
            await bot.idle()
            # What the resident reads (a card's buttons carry the event's id, which differs between the bots).
            last = bot.fake.messages_to(user)[-1]
            said.append((last.get("text") or last.get("altText"), [a["label"] for a in chip_actions(last)]))
        answers.append(said)
        # Nothing was read in the server's own process when a child reads.
        assert (bot.app[keys.QA].understanding is None) is in_child
    assert answers[0] == answers[1]


async def test_a_webhook_is_acknowledged_while_a_question_is_being_read(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading happens before the batch's transaction: on SQLite the webhook shares the worker's only
    connection, and a question being read (15-80 ms, here held until the second webhook is in) must not keep
    LINE's next delivery waiting."""
    bot = await make_bot(inbox_workers=0)
    qa = bot.app[keys.QA]
    reading, release = threading.Event(), threading.Event()
    real = qa.read

    def slow(text: str, context_service: str | None = None) -> Reading:
        reading.set()
        release.wait(30)
        return real(text, context_service)

    monkeypatch.setattr(qa, "read", slow)
    asker, other = new_user_id(), new_user_id()
    assert (await bot.post(bot.text(asker, "ทำบัตรประชาชนใช้อะไรบ้าง"))).status == 200
    handling = asyncio.create_task(bot.idle())
    try:
        assert await asyncio.to_thread(reading.wait, 10)
        response = await asyncio.wait_for(bot.post(bot.text(other, "สวัสดี")), 5)
    finally:
        release.set()
        await handling
    assert response.status == 200
    assert len(bot.fake.messages_to(asker)) == 1


def _running(pid: int) -> bool:
    """Alive and not a zombie (one waiting for a reaper: dead already)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_the_readers_die_with_their_server(tmp_path: Path) -> None:
    """A server killed outright (SIGKILL, the OOM killer) leaves no reader running on."""
    script = tmp_path / "server.py"
    script.write_text(
        "import asyncio, os, sys\n"
        "from pathlib import Path\n"
        "from bot.content import load_content\n"
        "from bot.nlp.reader import ProcessReader\n"
        "async def main():\n"
        "    reader = ProcessReader(load_content(Path('content')), {}, niceness=10)\n"
        "    await reader.warm_up()\n"
        "    (pid,) = reader._pools[0]._processes\n"
        "    print(pid, flush=True)\n"
        "    os._exit(0)\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHAINLP_OFFLINE": "1", "PYTHAINLP_READ_ONLY": "1"}
    done = await asyncio.create_subprocess_exec(
        sys.executable, str(script), cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(done.communicate(), 120)
    child = int(out.split()[0])
    for _ in range(100):
        if not _running(child):
            break
        await asyncio.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the reader outlived its server")
