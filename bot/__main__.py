"""The command line: `python -m bot serve`, `python -m bot content check`, ..."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="LINE chatbot for Thai local governments")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the webhook server (local mode without LINE credentials)")
    serve.add_argument("--host", help="address to listen on (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT or 8080)")

    content = commands.add_parser("content", help="work with content/")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    check = content_commands.add_parser("check", help="validate content/ and print file:line errors")
    check.add_argument("--dir", type=Path, help="content directory (default: CONTENT_DIR or ./content)")

    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "content":
        return _content_check(args.dir or settings.content_dir)
    return 2


def _serve(settings: Settings, host: str | None, port: int | None) -> int:
    import dataclasses

    from aiohttp import web

    from bot.app import create_app
    from bot.content import ContentError
    from bot.logs import configure_logging

    settings = dataclasses.replace(settings, host=host or settings.host, port=port or settings.port)
    configure_logging(settings.log_level)
    app = create_app(settings)
    shown = "127.0.0.1" if settings.host in {"0.0.0.0", "::"} else settings.host  # noqa: S104

    async def announce(_app: web.Application) -> None:
        if settings.local_mode:
            print(f"Local mode (no LINE credentials). Chat with the bot: http://{shown}:{settings.port}/simulator",
                  flush=True)
        else:
            print(f"Serving LINE webhook at http://{shown}:{settings.port}/callback", flush=True)

    app.on_startup.append(announce)
    try:
        # Webhook requests finish in milliseconds; only simulator long-polls would hold shutdown longer.
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None,
                    shutdown_timeout=3.0)
    except ContentError as exc:
        print("content/ has errors:\n" + str(exc), file=sys.stderr)
        return 1
    return 0


def _content_check(content_dir: Path) -> int:
    from bot.content import check_content

    content, errors = check_content(content_dir)
    for error in errors:
        print(error)
    if content is None:
        print(f"{len(errors)} error(s) in {content_dir}", file=sys.stderr)
        return 1
    print(f"content OK: {len(content.responses)} responses, {len(content.municipality.villages)} villages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
