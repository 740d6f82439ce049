"""Export and forget-me: a member's data is theirs."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import delete, inspect, select

from core import commands as c
from core.context import Ctx
from core.models import ContactRow, HelperOffer, IntroRequest, Meeting, Member, Nudge, Outreach
from core.registry import handles, on_button
from core.ui import Attachment, Button, Reply

EXPORTED = (
    ("contacts", ContactRow),
    ("meetings", Meeting),
    ("outreach", Outreach),
    ("nudges", Nudge),
    ("intro_requests", IntroRequest),
    ("helper_offers", HelperOffer),
)
PRIVATE_MEMBER_FIELDS = {"dm_channel_id"}


def _row(obj: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        out[attr.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return buf.getvalue().encode()


@handles(c.Export)
async def export(ctx: Ctx, cmd: c.Export) -> Reply:
    """Everything stored about the member: one JSON file, and CSVs of contacts and meetings."""
    member = {k: v for k, v in _row(ctx.member).items() if k not in PRIVATE_MEMBER_FIELDS}
    data: dict[str, Any] = {"member": member, "exported_at": ctx.now.isoformat()}
    for name, model in EXPORTED:
        rows = await ctx.session.scalars(select(model).where(model.member_id == ctx.member.id).order_by(model.id))
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


async def _erase(ctx: Ctx) -> Reply:
    # Cascades remove everything owned by the member; referrals they made become anonymous.
    await ctx.session.execute(delete(Member).where(Member.id == ctx.member.id))
    ctx.session.expunge(ctx.member)
    return Reply(title="Done: all your data is deleted", text="Thank you for using Rapport. Good luck out there.")


@on_button("forget")
async def forget_button(ctx: Ctx, args: list[str]) -> Reply:
    """``forget:confirm``: the confirmation button of forget-me."""
    if args != ["confirm"]:
        return Reply.fail("That button is no longer in use.")
    return await _erase(ctx)
