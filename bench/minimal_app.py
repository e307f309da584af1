"""The baseline for bench/webhook_load.py: an aiohttp app that only checks LINE's signature and answers 200."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac

from aiohttp import web


def make_app(secret: str) -> web.Application:
    key = secret.encode()

    async def callback(request: web.Request) -> web.Response:
        body = await request.read()
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest())
        if not hmac.compare_digest(expected, request.headers.get("x-line-signature", "").encode()):
            return web.json_response({"error": "invalid signature"}, status=401)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/callback", callback)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    web.run_app(make_app(args.secret), host="127.0.0.1", port=args.port, print=None, access_log=None)
