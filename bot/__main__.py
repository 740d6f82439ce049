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
    secrets = sub.add_parser("secrets", help="stored secrets: re-encrypt Slack tokens with a new RAPPORT_SECRET_KEY")
    secrets.add_argument("action", choices=["rotate"])
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
    if args.cmd == "secrets":
        return rotate_secrets(settings)
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


def rotate_secrets(settings) -> int:
    """``rapport secrets rotate``: re-encrypts every stored Slack token with RAPPORT_SECRET_KEY,
    opening them with it or any key in RAPPORT_SECRET_KEY_OLD (tokens stored unencrypted by
    older versions are encrypted too)."""
    from bot.slack_store import rotate_tokens
    from bot.vault import VaultError
    from core.db import Database, make_engine, upgrade

    if not (settings.secret_key or "").strip():
        print("rapport: secrets rotate needs the new key in RAPPORT_SECRET_KEY "
              "(and the old one in RAPPORT_SECRET_KEY_OLD).", file=sys.stderr)
        return 2

    async def _rotate() -> int:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await rotate_tokens(Database(engine), settings.secret_keys)
        finally:
            await engine.dispose()

    try:
        changed = asyncio.run(_rotate())
    except VaultError as err:
        print(f"rapport: {err}; nothing was changed.", file=sys.stderr)
        return 2
    print(f"re-encrypted {changed} stored token{'' if changed == 1 else 's'} with RAPPORT_SECRET_KEY")
    return 0


if __name__ == "__main__":
    sys.exit(main())
