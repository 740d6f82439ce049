"""`rapport` (= `python -m bot`): run, console, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from adapters import StartupError
from bot.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rapport", description="Rapport: an informational-interview coach for career communities.")
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("run", help="start every configured platform (the console when none is); the default")
    sub.add_parser("console", help="the local console on the configured database")
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("action", choices=["upgrade"])
    discord = sub.add_parser("discord", help="Discord tasks")
    discord.add_argument("action", choices=["invite-url"])
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except ConfigError as err:
        print(f"rapport: {err}", file=sys.stderr)
        return 2
    # The console shares the terminal with its member: only warnings there.
    on_platform = args.cmd in (None, "run") and (settings.slack_enabled or settings.discord_enabled)
    from bot import logs

    logs.configure(
        settings.log_format,
        level=logging.INFO if on_platform else logging.WARNING,
        secrets=(settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token,
                 settings.slack_client_secret, settings.discord_token),
    )
    # A sweep longer than the interval makes APScheduler skip a run and warn; that is by design.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)

    from bot import app

    if args.cmd == "db":

        async def _upgrade() -> None:
            engine = await app.open_database(settings.database_url)
            await engine.dispose()

        try:
            asyncio.run(_upgrade())
        except ConfigError as err:
            print(f"rapport: {err}", file=sys.stderr)
            return 2
        print("database is up to date")
        return 0
    if args.cmd == "discord":
        from adapters.discord.invite import invite_url

        print(invite_url(settings))
        return 0
    try:
        if args.cmd == "console":
            asyncio.run(app.run_console(settings))
        else:
            asyncio.run(app.run(settings))
    except KeyboardInterrupt:
        pass
    except (ConfigError, StartupError) as err:
        print(f"rapport: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
