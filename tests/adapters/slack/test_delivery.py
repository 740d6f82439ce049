"""Nudge DMs through the dispatcher: rate limits, permanent errors, cached DM channels,
exports to the DM, and profile changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Member, Nudge
from tests.adapters.slack.conftest import eventually


async def thank_you_nudge(slack, user: str = "U1") -> Nudge:
    async with slack.app.db.read() as session:
        member = await session.scalar(select(Member).where(Member.user_id == user))
        return await session.scalar(select(Nudge).where(Nudge.member_id == member.id, Nudge.kind == "thank-you"))


async def test_a_short_429_is_waited_out_and_the_dm_still_goes(slack):
    slack.standin.rate_limit("chat.postMessage", retry_after=1)
    await slack.send.ask("log Jane Doe when: 2 days ago")
    await slack.standin.wait_for("chat.postMessage", lambda c: "Time to thank" in c.blocks_text(), within=8)
    limited = [c for c in slack.standin.calls if c.method == "chat.postMessage" and c.status == 429]
    sent = slack.standin.of("chat.postMessage")
    assert len(limited) == 1 and sent[0].at - limited[0].at >= 1.0  # it waited as told

    async def cached():  # the DM channel is stored for the next DM
        async with slack.app.db.read() as session:
            member = await session.scalar(select(Member).where(Member.user_id == "U1"))
        return member.dm_channel_id == "DU1"

    await eventually(cached)


async def test_a_long_429_reschedules_the_nudge_for_later(slack):
    slack.standin.rate_limit("chat.postMessage", retry_after=120)
    await slack.send.ask("log Jane Doe when: 2 days ago")

    async def rescheduled():
        nudge = await thank_you_nudge(slack)
        return nudge if nudge.last_error == "rate limited" else None

    nudge = await eventually(rescheduled)
    assert nudge.status == "pending" and nudge.last_error == "rate limited"
    assert (nudge.due_at - slack.clock.now()).total_seconds() >= 119
    assert not slack.standin.of("chat.postMessage", lambda c: "Time to thank" in c.blocks_text())
    slack.clock.advance(seconds=121)
    await slack.standin.wait_for("chat.postMessage", lambda c: "Time to thank" in c.blocks_text())


async def test_a_permanent_error_fails_the_nudge_without_retrying(slack):
    slack.standin.fail("conversations.open", "cannot_dm_bot", times=5)
    await slack.send.ask("log Jane Doe when: 2 days ago")

    async def failed():
        nudge = await thank_you_nudge(slack)
        return nudge if nudge.status == "failed" else None

    nudge = await eventually(failed)
    assert nudge.status == "failed" and "cannot_dm_bot" in nudge.last_error
    assert len([c for c in slack.standin.calls if c.method == "conversations.open"]) == 1


async def test_a_stale_dm_channel_is_opened_again(slack):
    await slack.send.ask("goal anything")  # creates the member
    async with slack.app.db.write() as session:
        member = await session.scalar(select(Member).where(Member.user_id == "U1"))
        member.dm_channel_id = "DGONE"
    slack.standin.fail("chat.postMessage", "channel_not_found")
    await slack.send.ask("log Jane Doe when: 2 days ago")
    sent = await slack.standin.wait_for("chat.postMessage", lambda c: "Time to thank" in c.blocks_text())
    assert sent[0].params["channel"] == "DU1"


async def test_export_uploads_files_to_the_dm_or_posts_them_inline(slack):
    await slack.send.ask("add Jane Doe company: Acme")
    assert "Your data export" in await slack.send.ask("export")
    done = await slack.standin.wait_for("files.completeUploadExternal")
    assert done[0].params["channel_id"] == "DU1" and len(done[0].params["files"]) == 3
    uploads = slack.standin.of("upload")
    assert len(uploads) == 3 and any(b"Jane Doe" in data for data in slack.standin.uploads.values())

    # A Slack without file uploads (or without files:write): the files come inline.
    slack.standin.fail("files.getUploadURLExternal", "missing_scope")
    await slack.send.ask("export")
    inline = await slack.standin.wait_for("chat.postMessage", lambda c: "rapport-export-" in c.params.get("text", ""))
    assert "Jane Doe" in inline[0].params["text"]


async def test_user_change_refreshes_the_time_zone(slack):
    await slack.send.ask("goal anything")
    user = dict(slack.standin.users["U1"], tz="Asia/Tokyo")
    slack.standin.users["U1"] = user
    await slack.send.event({"type": "user_change", "user": user})

    async def moved():
        async with slack.app.db.read() as session:
            member = await session.scalar(select(Member).where(Member.user_id == "U1"))
        return member if member.platform_tz == "Asia/Tokyo" else None

    member = await eventually(moved)
    assert member.platform_tz == "Asia/Tokyo"
    lookups = len(slack.standin.of("users.info"))
    assert "Asia/Tokyo (from the platform)" in await slack.send.ask("settings digest: on")
    assert len(slack.standin.of("users.info")) == lookups  # the event refreshed the cache


@pytest.mark.parametrize("error", ["messages_tab_disabled", "cannot_dm_bot"])
async def test_a_member_whose_dms_fail_is_told_once_in_their_next_reply(slack, error):
    slack.standin.fail("chat.postMessage", error, times=100, when=lambda c: c.params.get("channel") == "DU1")
    await slack.send.ask("log Jane Doe when: 2 days ago")

    async def failed():
        nudge = await thank_you_nudge(slack)
        return nudge if nudge.status == "failed" else None

    nudge = await eventually(failed)
    assert error in nudge.last_error
    assert len(slack.standin.failed("chat.postMessage")) == 1  # permanent: not retried

    told = await slack.send.ask("nudges")  # a reading command: the notice still comes with it
    assert "I couldn't DM you" in told and "Messages tab" in told and "/rapport nudges" in told
    assert f"nudge:done:{nudge.id}" not in told  # the failed nudge is closed, not listed as open
    again = await slack.send.ask("nudges")
    assert "I couldn't DM you" not in again  # once
    assert "I couldn't DM you" not in await slack.send.ask("contacts", user="U2")  # only them
