"""CPU per reply: the LINE SDK's usual path (request models, validated arguments) against bot/delivery/line.py's
LineGateway.reply_or_push (LINE's limits checked, then the JSON body handed to the same AsyncMessagingApi method
as it is), for a reply carrying one service card.

    python bench/send_cost.py [--sends 300]

Both post to a local stub that answers as LINE does, so each figure includes one HTTP round trip on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi, Configuration, ReplyMessageRequest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import TOKEN, free_port  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.delivery.line import LineGateway, new_retry_key  # noqa: E402
from bot.handlers.services.qa import QuestionAnswering  # noqa: E402


async def _stub_reply(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"sentMessages": [{"id": "1", "quoteToken": "q"}]})


async def _per_send_ms(send: Callable[[], Awaitable[Any]], sends: int) -> float:
    for _ in range(20):  # warm up: connections, caches
        await send()
    start = time.process_time()
    for _ in range(sends):
        await send()
    return (time.process_time() - start) / sends * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", type=int, default=300)
    args = parser.parse_args()

    qa = QuestionAnswering.from_content(load_content(ROOT / "content"))
    messages = qa.reply_for(qa.read("ขอถามเรื่องภาษีป้าย"), feedback_key=1)
    body = {"replyToken": "0" * 32, "messages": messages}

    app = web.Application()
    app.router.add_post("/v2/bot/message/reply", _stub_reply)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stub = f"http://127.0.0.1:{port}"
    client = AsyncApiClient(Configuration(access_token=TOKEN, host=stub))
    api = AsyncMessagingApi(client)
    gateway = LineGateway(TOKEN, stub, stub)
    try:
        usual = await _per_send_ms(lambda: api.reply_message(ReplyMessageRequest.from_dict(body)), args.sends)
        as_is = await _per_send_ms(
            lambda: gateway.reply_or_push("U" + "0" * 32, body["replyToken"], messages, new_retry_key()), args.sends
        )
    finally:
        await client.close()
        await gateway.close()
        await runner.cleanup()
    print(f"reply with one service card, CPU per send (this process: client and stub), {args.sends} sends:")
    print(f"  SDK request models      {usual:6.2f} ms")
    print(f"  bot/delivery/line.py             {as_is:6.2f} ms   ({usual / as_is:.1f}x less)")


if __name__ == "__main__":
    asyncio.run(main())
