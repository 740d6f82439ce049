"""Secrets at rest and organizers by community (issue 10, item 11).

- Slack OAuth bot tokens are stored encrypted: no stored column holds the token, and the app
  still authorizes with it (through the stand-in) from a cold cache.
- ``rapport secrets rotate`` re-encrypts every stored token with the new RAPPORT_SECRET_KEY
  (opening them with RAPPORT_SECRET_KEY_OLD); tokens stored unencrypted by older versions are
  read until then and encrypted by it.
- OAuth mode refuses to start without RAPPORT_SECRET_KEY, in one line.
- RAPPORT_ADMINS entries name their community; a bare id stops start-up with one line.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from sqlalchemy import text

from bot.config import ConfigError, load_settings
from bot.vault import Vault, VaultError, fernet_key
from core.actor import Actor
from core.context import Config
from tests.adapters.slack.conftest import SECRET, SECRET_KEY, T1, TOKEN, install
from tests.adapters.slack.test_process import clean_env

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
NEW_KEY = "a-brand-new-key-after-rotation"


def installed_token(standin, team: str) -> str:
    """The bot token the stand-in issued to ``team`` in the OAuth flow."""
    issued = [t for t, owner in standin.tokens.items() if owner == team and t != TOKEN]
    assert len(issued) == 1, issued
    return issued[0]


async def stored_cells(app) -> list[str]:
    """Every text value in slack-sdk's installation tables."""
    cells: list[str] = []
    async with app.engine.connect() as conn:
        for table in ("slack_installations", "slack_bots"):
            for row in await conn.execute(text(f"SELECT * FROM {table}")):
                cells += [str(v) for v in row if v is not None]
    return cells


async def stored_bot_token(app) -> str:
    async with app.engine.connect() as conn:
        return (await conn.execute(text("SELECT bot_token FROM slack_bots"))).scalar_one()


async def answers_with(slack, token: str) -> None:
    """A command from a cold token cache is answered, with the installed token."""
    slack.runner.listeners.clients.forget(T1)
    before = len(slack.standin.calls)
    assert "No contacts yet" in await slack.send.ask("contacts")
    used = {c.token for c in slack.standin.calls[before:] if c.method not in ("oauth.v2.access",)}
    assert used == {token}, used


async def rotate(env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    """``python -m bot secrets rotate``, in a thread (the app under test keeps running)."""
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot", "secrets", "rotate"], env=env,
                                   cwd=cwd, capture_output=True, text=True, timeout=60)


async def test_stored_tokens_are_encrypted_and_still_authorize(start_slack_app, standin):
    slack = await start_slack_app(oauth=True)
    await install(slack, T1)
    token = installed_token(standin, T1)

    cells = await stored_cells(slack.app)
    assert cells and not any(token in cell or "xoxb-" in cell for cell in cells)
    # Sealed with a key made from RAPPORT_SECRET_KEY.
    assert Vault([SECRET_KEY]).open(await stored_bot_token(slack.app)) == token
    await answers_with(slack, token)


async def test_rotation_re_encrypts_every_token_and_plaintext_rows_still_work(start_slack_app, standin, tmp_path):
    slack = await start_slack_app(oauth=True)
    await install(slack, T1)
    token = installed_token(standin, T1)
    url = slack.app.settings.database_url

    # A row from before encryption (an older version stored the token as it is) still works.
    async with slack.app.engine.begin() as conn:
        await conn.execute(text("UPDATE slack_installations SET bot_token = :t"), {"t": token})
    await answers_with(slack, token)
    async with slack.app.engine.begin() as conn:
        await conn.execute(text("UPDATE slack_bots SET bot_token = :t"), {"t": token})
    await answers_with(slack, token)

    env = clean_env(RAPPORT_DATABASE_URL=url, RAPPORT_SECRET_KEY=NEW_KEY, RAPPORT_SECRET_KEY_OLD=f"older, {SECRET_KEY}")
    done = await rotate(env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 2 stored tokens" in done.stdout

    cells = await stored_cells(slack.app)
    assert not any(token in cell for cell in cells)
    sealed = await stored_bot_token(slack.app)
    assert Vault([NEW_KEY]).open(sealed) == token
    with pytest.raises(VaultError):
        Vault([SECRET_KEY]).open(sealed)

    # An app with only the new key authorizes with the re-encrypted token.
    again = await start_slack_app(oauth=True, database_url=url, secret_key=NEW_KEY)
    await answers_with(again, token)

    # Rotating with a key that opens nothing changes nothing and says so in one line.
    env = clean_env(RAPPORT_DATABASE_URL=url, RAPPORT_SECRET_KEY="yet-another", RAPPORT_SECRET_KEY_OLD=SECRET_KEY)
    failed = await rotate(env, tmp_path)
    assert failed.returncode != 0 and len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert "RAPPORT_SECRET_KEY_OLD" in failed.stderr
    assert await stored_bot_token(slack.app) == sealed


async def test_old_key_still_opens_tokens_until_rotation(start_slack_app, standin):
    slack = await start_slack_app(oauth=True)
    await install(slack, T1)
    token = installed_token(standin, T1)
    rolled = await start_slack_app(oauth=True, database_url=slack.app.settings.database_url,
                                   secret_key=NEW_KEY, secret_key_old=SECRET_KEY)
    await answers_with(rolled, token)


def test_oauth_refuses_to_start_without_a_secret_key(tmp_path):
    oauth = dict(SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="client-secret", SLACK_SIGNING_SECRET=SECRET)
    with pytest.raises(ConfigError, match="RAPPORT_SECRET_KEY"):
        load_settings(_env_file=None, RAPPORT_SECRET_KEY=None, **oauth)
    env = clean_env(RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", **oauth)
    done = subprocess.run([sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "RAPPORT_SECRET_KEY" in lines[0], done.stderr
    assert not (tmp_path / "r.db").exists()  # refused before touching anything


def test_a_fernet_key_is_used_as_is_and_any_other_string_is_derived():
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    assert fernet_key(key) == key.encode()
    derived = fernet_key("correct horse battery staple")
    assert len(derived) == 44 and derived != fernet_key("correct horse battery stapler")
    sealed = Vault([key]).seal("xoxb-1-2-3")
    assert sealed != "xoxb-1-2-3" and Fernet(key.encode()).decrypt(sealed.encode()) == b"xoxb-1-2-3"
    assert Vault([key]).seal(sealed) == sealed  # sealing twice changes nothing


async def test_the_token_key_and_the_dashboard_key_differ_though_one_secret_seeds_both():
    import base64
    import datetime as dt

    from cryptography.fernet import Fernet

    from core.clock import FakeClock
    from core.dashboard import Dashboard

    clock = FakeClock(dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC))
    for secret in ("correct horse battery staple", Fernet.generate_key().decode()):
        cookie_key = await Dashboard(None, clock, secret_key=secret).signing_key()  # type: ignore[arg-type]
        token_key = base64.urlsafe_b64decode(fernet_key(secret))
        assert len(cookie_key) == len(token_key) == 32 and cookie_key != token_key


# --- RAPPORT_ADMINS names the community ---------------------------------------------------


@pytest.mark.parametrize("bare", ["U456", "slack:U456", "T123:U456", "teams:T1:U1", "slack:T1:U1, U2"])
def test_an_admin_without_its_community_stops_start_up(bare, tmp_path):
    with pytest.raises(ConfigError, match="slack:<team>:<user>") as err:
        load_settings(_env_file=None, RAPPORT_ADMINS=bare)
    assert "\n" not in str(err.value)
    if bare == "U456":
        env = clean_env(RAPPORT_ADMINS=bare, RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
        done = subprocess.run([sys.executable, "-m", "bot", "console"], env=env, cwd=tmp_path, input="",
                              capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "RAPPORT_ADMINS" in done.stderr and "slack:<team>:<user>" in done.stderr


def test_an_admin_is_an_organizer_in_their_own_community_only():
    settings = load_settings(_env_file=None,
                             RAPPORT_ADMINS="slack:T123:U456, discord:42:99, console:local:dana")
    config = Config(admins=settings.admin_ids)
    assert config.is_organizer(Actor("slack", "T123", "U456"))
    assert not config.is_organizer(Actor("slack", "T999", "U456"))
    assert not config.is_organizer(Actor("discord", "T123", "U456"))
    assert config.is_organizer(Actor("discord", "42", "99"))
    assert not config.is_organizer(Actor("discord", "43", "99"))
    assert config.is_organizer(Actor("console", "local", "dana"))
    # A bare id, should one reach the core anyway, makes nobody an organizer anywhere.
    assert not Config(admins=frozenset({"U456"})).is_organizer(Actor("slack", "T123", "U456"))


async def test_a_scoped_admin_runs_organizer_commands_in_slack(start_slack_app):
    slack = await start_slack_app(admins="slack:T1:U2, slack:T2:U1")
    assert "Intro requests will be posted in" in await slack.send.ask("admin channel <#C0INTRO|intros>", user="U2")
    # U1 is an organizer of T2, not of T1.
    assert "Only organizers" in await slack.send.ask("admin channel <#C0INTRO|intros>", user="U1")
