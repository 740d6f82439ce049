"""Export and forget-me: a member's data is theirs."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import InstrumentedAttribute

from core import commands as c
from core.context import Ctx
from core.models import (
    CalendarFeed,
    ContactRow,
    DashboardLink,
    DashboardSession,
    Effect,
    HelperOffer,
    IntroOffer,
    IntroRequest,
    Meeting,
    Member,
    Nudge,
    Outreach,
    PendingImport,
)
from core.registry import handles, on_button
from core.ui import Attachment, Button, Reply

# Everything a member owns or made, by table: the export's key, the model, and the column
# that names the member. Every foreign key to ``members`` is here (a test checks), and
# forget-me removes all of these rows (through the foreign keys' ON DELETE CASCADE).
EXPORTED: tuple[tuple[str, Any, InstrumentedAttribute[Any]], ...] = (
    ("contacts", ContactRow, ContactRow.member_id),  # imported ones too (source, imported_at)
    ("meetings", Meeting, Meeting.member_id),
    ("outreach", Outreach, Outreach.member_id),
    ("nudges", Nudge, Nudge.member_id),
    ("intro_requests", IntroRequest, IntroRequest.member_id),
    ("intro_requests_to_you", IntroRequest, IntroRequest.target_member_id),  # direct asks
    ("intro_offers", IntroOffer, IntroOffer.helper_member_id),  # offers made on others' requests
    ("helper_offers", HelperOffer, HelperOffer.member_id),  # the helper profile
    ("pending_imports", PendingImport, PendingImport.member_id),
    ("calendar_feeds", CalendarFeed, CalendarFeed.member_id),
    ("platform_actions", Effect, Effect.member_id),  # channel posts, conversations asked for
)
# Rows that name the member by platform ids instead (an organizer's dashboard sign-ins).
BY_PLATFORM_IDS: tuple[tuple[str, Any], ...] = (
    ("dashboard_links", DashboardLink),
    ("dashboard_sessions", DashboardSession),
)
# Never in an export: credentials (only their hashes are stored, still nobody's business) and
# the bot's own bookkeeping.
PRIVATE_FIELDS = {"dm_channel_id", "token_hash", "session_hash", "lease_until", "lease_owner"}
# A CSV cell starting with one of these is a formula to a spreadsheet (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _row(obj: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        if attr.key in PRIVATE_FIELDS:
            continue
        value = getattr(obj, attr.key)
        out[attr.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading formula character gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue().encode()


@handles(c.Export)
async def export(ctx: Ctx, cmd: c.Export) -> Reply:
    """Everything stored about the member: one JSON file (their settings are in ``member``),
    and CSVs of contacts and meetings."""
    data: dict[str, Any] = {"member": _row(ctx.member), "exported_at": ctx.now.isoformat()}
    for name, model, column in EXPORTED:
        rows = await ctx.session.scalars(select(model).where(column == ctx.member.id).order_by(model.id))
        data[name] = [_row(r) for r in rows]
    for name, model in BY_PLATFORM_IDS:
        rows = await ctx.session.scalars(select(model).where(*_same_person(model, ctx)).order_by(model.id))
        data[name] = [_row(r) for r in rows]
    stamp = ctx.now.strftime("%Y%m%d")
    files = (
        Attachment(f"rapport-export-{stamp}.json", json.dumps(data, indent=2, ensure_ascii=False).encode(), "application/json"),
        Attachment(f"rapport-contacts-{stamp}.csv", _csv(data["contacts"]), "text/csv"),
        Attachment(f"rapport-meetings-{stamp}.csv", _csv(data["meetings"]), "text/csv"),
    )
    counts = ", ".join(f"{len(data[k])} {k.replace('_', ' ')}" for k in ("contacts", "meetings", "outreach", "nudges"))
    return Reply(title="Your data export", text=f"All your data: {counts}.", files=files)


@handles(c.ForgetMe)
async def forget_me(ctx: Ctx, cmd: c.ForgetMe) -> Reply:
    """Asks for confirmation, then deletes everything stored about the member."""
    if cmd.confirm != "confirm":
        return Reply(
            title="Delete all your Rapport data?",
            text="This removes your goal, contacts, meetings, notes, nudges and intro requests for good. "
            "Run `/rapport export` first if you want a copy.",
            buttons=(Button("Yes, delete everything", "forget:confirm", "danger", "forget-me confirm"),),
            context="Or type `/rapport forget-me confirm`.",
        )
    return await _erase(ctx)


def _same_person(model: Any, ctx: Ctx) -> tuple[Any, ...]:
    return (model.platform == ctx.actor.platform, model.workspace_id == ctx.actor.workspace_id,
            model.user_id == ctx.actor.user_id)


async def _erase(ctx: Ctx) -> Reply:
    # Cascades remove everything owned by the member (every table in EXPORTED); referrals
    # they made become anonymous. Dashboard sign-ins name them by platform ids instead.
    for _, model in BY_PLATFORM_IDS:
        await ctx.session.execute(delete(model).where(*_same_person(model, ctx)))
    await ctx.session.execute(delete(Member).where(Member.id == ctx.member.id))
    ctx.session.expunge(ctx.member)
    return Reply(title="Done: all your data is deleted", text="Thank you for using Rapport. Good luck out there.")


@on_button("forget")
async def forget_button(ctx: Ctx, args: list[str]) -> Reply:
    """``forget:confirm``: the confirmation button of forget-me."""
    if args != ["confirm"]:
        return Reply.fail("That button is no longer in use.")
    return await _erase(ctx)
