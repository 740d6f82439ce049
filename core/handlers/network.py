"""Bringing a network in, seeing it, and putting it on a calendar: ``import``, ``map``,
``calendar``, and the import preview's Confirm / Cancel buttons.

A contacts file never travels in the text grammar: adapters hand its bytes to
``Rapport.import_file``, which reads it (``core.importing``) and calls
:func:`preview_import` here. The preview is a ``pending_imports`` row, planned again when
the member confirms, so nothing is duplicated whatever happened in between.

Imported contacts are ``new`` with no last touch: nothing schedules a nudge for a contact
until the member acts on them (logs a meeting, reaches out, schedules), exactly as for a
contact added by hand. They do show in ``contacts company:``, ``helpers`` and the map.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import quote

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import calendar as cal
from core import commands as c
from core import netmap
from core import nudges as n
from core.commands import record_id
from core.context import Ctx
from core.errors import UserError
from core.handlers.common import name_key
from core.importing import Existing, Incoming, clean, plan_import
from core.models import CalendarFeed, ContactRow, Meeting, Member, Nudge, PendingImport
from core.registry import handles, on_button
from core.timeparse import fmt_when
from core.ui import Attachment, Button, Reply, Section

PENDING_FOR = dt.timedelta(hours=24)
FILENAME_MAX = 200
MAP_FILE = "rapport-network.png"
#: matplotlib's state (fonts, the backend) isn't safe to share between threads drawing at
#: once; maps are drawn one at a time (each takes about a second).
_DRAWING = threading.Lock()

HOW_TO_IMPORT = {
    "slack": "Drop LinkedIn's Connections.csv (or a .vcf file) into your DM with Rapport (its Messages tab) "
    "and I'll show you a preview before anything is added.",
    "discord": "Use `/rapport import` and attach LinkedIn's Connections.csv (or a .vcf file) with the `file` "
    "option; I'll show you a preview before anything is added.",
    "console": "Type `import path: ~/Downloads/Connections.csv` (or a .vcf file); I'll show you a preview before "
    "anything is added.",
}
HOW_TO_EXPORT = (
    "To get Connections.csv: LinkedIn → Settings → Data privacy → Get a copy of your data → Connections. "
    "It arrives by email as a zip; send the Connections.csv inside."
)


def _how_to(platform: str) -> str:
    return HOW_TO_IMPORT.get(platform, HOW_TO_IMPORT["slack"])


# --- import ------------------------------------------------------------------------------------


@handles(c.Import)
async def import_(ctx: Ctx, cmd: c.Import) -> Reply:
    """`import` typed as text: the file itself comes through the adapter, never the grammar.

    ``path:`` is the console's: its adapter reads the file on its own computer and sends the
    bytes. Anywhere else a path would ask the server to read its own files: refused.
    """
    if cmd.path:
        if ctx.actor.platform == "console":
            raise UserError("I couldn't open that file. Check the path, e.g. `import path: ~/Downloads/Connections.csv`")
        raise UserError("I can't open files by path here: attach the file instead. " + _how_to(ctx.actor.platform))
    return Reply(title="Import your contacts", text=_how_to(ctx.actor.platform), context=HOW_TO_EXPORT)


def source_of(people: Sequence[Incoming], vcard: bool) -> str:
    """What the file was: ``vcard``, ``linkedin`` (profile links or connection dates), ``csv``."""
    if vcard:
        return "vcard"
    return "linkedin" if any(p.linkedin_url or p.connected_on for p in people) else "csv"


def _packed(person: Incoming) -> dict[str, Any]:
    out: dict[str, Any] = {k: getattr(person, k) for k in ("name", "first", "last", "email", "linkedin_url", "company", "position")}
    out["connected_on"] = person.connected_on.isoformat() if person.connected_on else None
    return {k: v for k, v in out.items() if v}


def _unpacked(data: dict[str, Any]) -> Incoming:
    connected = data.get("connected_on")
    return Incoming(
        name=str(data["name"]),
        first=data.get("first"),
        last=data.get("last"),
        email=data.get("email"),
        linkedin_url=data.get("linkedin_url"),
        company=data.get("company"),
        position=data.get("position"),
        connected_on=dt.date.fromisoformat(connected) if connected else None,
    )


def clean_filename(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return clean(name, FILENAME_MAX) or "your file"


async def _existing(session: AsyncSession, member_id: int) -> list[Existing]:
    rows = await session.execute(
        select(ContactRow.id, ContactRow.name, ContactRow.email, ContactRow.linkedin_url, ContactRow.company, ContactRow.role)
        .where(ContactRow.member_id == member_id)
        .order_by(ContactRow.id)
    )
    return [Existing(*row) for row in rows]


async def preview_import(ctx: Ctx, filename: str, source: str, people: Sequence[Incoming]) -> Reply:
    """The preview of importing ``people``: counts, examples, Confirm / Cancel. Keeps the
    people read as the member's one pending import (replacing any earlier one)."""
    await ctx.session.execute(
        delete(PendingImport).where((PendingImport.member_id == ctx.member.id) | (PendingImport.expires_at < ctx.now))
    )
    plan = plan_import(await _existing(ctx.session, ctx.member.id), people)
    shown = filename if len(filename) <= 60 else filename[:59] + "…"
    if not plan.new and not plan.updates:
        text = f"Everyone in it is already among your contacts ({plan.summary()})."
        return Reply(title=f"Nothing new in {shown}", text=text, context="Importing a newer export later adds only who is new.")
    pending = PendingImport(
        ref=secrets.token_hex(8),
        member_id=ctx.member.id,
        filename=filename,
        source=source,
        people=[_packed(p) for p in people],
        created_at=ctx.now,
        expires_at=ctx.now + PENDING_FOR,
    )
    ctx.session.add(pending)
    await ctx.session.flush()
    examples = plan.examples()
    sections: tuple[Section, ...] = ()
    if examples:
        sections = (Section(title="For example", text="\n".join(f"• {line}" for line in examples)),)
    label = f"Import {len(plan.new):,}" if plan.new else "Fill in the details"
    return Reply(
        title=f"Ready to import {shown}",
        text=plan.summary() + ".",
        sections=sections,
        buttons=(
            Button(label, f"import:confirm:{pending.id}:{pending.ref}", "primary"),
            Button("Cancel", f"import:cancel:{pending.id}:{pending.ref}"),
        ),
        context="Nothing is added until you confirm. Imported contacts stay quiet: no nudges until you reach "
        "out to one. This preview keeps for 24 hours.",
    )


async def _pending(ctx: Ctx, raw_id: str, ref: str) -> PendingImport | None:
    number = record_id(raw_id)
    if number is None:
        return None
    pending = await ctx.session.get(PendingImport, number)
    # Another member's preview, or a stale button, is as good as gone: say nothing about it.
    if pending is None or pending.member_id != ctx.member.id or not secrets.compare_digest(pending.ref, ref):
        return None
    return pending


@on_button("import")
async def import_button(ctx: Ctx, args: list[str]) -> Reply:
    """``import:confirm:<id>:<ref>`` imports the previewed file; ``import:cancel:...`` drops it."""
    if len(args) != 3 or args[0] not in ("confirm", "cancel"):
        raise UserError("That button is no longer in use. Send the file again to import it.")
    action, raw_id, ref = args
    pending = await _pending(ctx, raw_id, ref)
    if pending is None:
        raise UserError(
            "That import is no longer waiting (it was done, cancelled or replaced by a newer file). "
            "Send the file again to see a new preview."
        )
    if action == "cancel":
        await ctx.session.delete(pending)
        return Reply(text=f"Cancelled: nothing from {pending.filename} was imported.")
    if pending.expires_at <= ctx.now:
        await ctx.session.delete(pending)
        raise UserError(f"That preview of {pending.filename} has expired. Send the file again for a fresh one.")
    people = [_unpacked(p) for p in pending.people]
    await ctx.session.delete(pending)
    added, updated, company = await apply_import(ctx, pending.source, people)
    parts = [f"{added:,} new contact{'s' if added != 1 else ''}"]
    if updated:
        parts.append(f"details filled in for {updated:,} you already had")
    return Reply(
        title=f"Imported {pending.filename}",
        text="; ".join(parts) + ".",
        context=f"They stay quiet until you reach out. Try `/rapport contacts company: {company or 'Acme'}`, "
        "`/rapport helpers` or `/rapport map`.",
    )


async def apply_import(ctx: Ctx, source: str, people: Sequence[Incoming]) -> tuple[int, int, str | None]:
    """Plans ``people`` against the contacts as they are now and applies it: inserts who is
    new, fills in missing details of who is known. Returns (added, updated, the company most
    of the new people work at)."""
    plan = plan_import(await _existing(ctx.session, ctx.member.id), people)
    rows = [
        {
            "member_id": ctx.member.id,
            "name": p.name,
            "name_key": name_key(p.name),
            "company": p.company,
            "role": p.position,
            "email": p.email,
            "linkedin_url": p.linkedin_url,
            "connected_on": p.connected_on,
            "source": source,
            "imported_at": ctx.now,
            "status": "new",
            "referrals_pending": False,
            "created_at": ctx.now,
        }
        for p in plan.new
    ]
    if rows:
        # A Core INSERT with RETURNING is sent as multi-row INSERTs (SQLAlchemy's
        # insertmanyvalues): for 5,000 rows about 1 s, where the ORM's bulk insert took 2 s on
        # SQLite and 5 s on PostgreSQL (asyncpg's executemany, row by row).
        table = cast(Table, ContactRow.__table__)
        await ctx.session.execute(table.insert().returning(table.c.id), rows)
    for change in plan.updates:
        await ctx.session.execute(
            update(ContactRow)
            .where(ContactRow.id == change.contact_id, ContactRow.member_id == ctx.member.id)
            .values(**change.fields)
            .execution_options(synchronize_session=False)
        )
    companies = Counter(p.company for p in plan.new if p.company)
    return len(rows), len(plan.updates), companies.most_common(1)[0][0] if companies else None


# --- the map -----------------------------------------------------------------------------------


async def map_contacts(session: AsyncSession, member_id: int) -> list[netmap.MapContact]:
    """The member's contacts as the map needs them, in a few queries whatever their number."""
    rows = list(
        await session.execute(
            select(
                ContactRow.id, ContactRow.name, ContactRow.company, ContactRow.status, ContactRow.source,
                ContactRow.last_touch_at, ContactRow.referred_by_contact_id, ContactRow.referred_by_member_id,
            )
            .where(ContactRow.member_id == member_id)
            .order_by(ContactRow.id)
        )
    )  # fmt: skip
    member_ids = {row.referred_by_member_id for row in rows if row.referred_by_member_id}
    names: dict[int, str] = {}
    if member_ids:
        for mid, shown in await session.execute(select(Member.id, Member.display_name).where(Member.id.in_(member_ids))):
            names[mid] = shown or "a community member"
    owed = set(
        await session.scalars(
            select(Meeting.contact_id)
            .join(Nudge, Nudge.meeting_id == Meeting.id)
            .where(
                Meeting.member_id == member_id,
                Meeting.status == "held",
                Meeting.thanked_at.is_(None),
                Nudge.kind == n.THANK_YOU,
                Nudge.status.in_(n.OPEN),
            )
            .distinct()
        )
    )
    return [
        netmap.MapContact(
            id=row.id,
            name=row.name,
            company=row.company,
            status=row.status if row.status in netmap.STATUS_GROUPS else "new",
            imported_untouched=bool(row.source) and row.status == "new" and row.last_touch_at is None,
            referred_by_contact_id=row.referred_by_contact_id,
            referred_by_member=names.get(row.referred_by_member_id) if row.referred_by_member_id else None,
            thank_you_owed=row.id in owed,
        )
        for row in rows
    ]


def draw_map(member_name: str, contacts: Sequence[netmap.MapContact]) -> bytes:
    """The PNG (blocking, about a second; the first in a process also loads matplotlib):
    call it in a thread."""
    graph = netmap.build_graph(member_name, contacts)
    title = f"{member_name}'s network" if member_name else "Your network"
    with _DRAWING:
        return netmap.render_png(graph, title)


def map_caption(contacts: Sequence[netmap.MapContact]) -> str:
    met = sum(1 for x in contacts if x.status == "met")
    reached = sum(1 for x in contacts if x.status in ("reached-out", "replied", "scheduled"))
    owed = sum(1 for x in contacts if x.thank_you_owed)
    text = f"{len(contacts):,} contacts: {met} met, {reached} reached out, {len(contacts) - met - reached:,} not contacted yet."
    if owed:
        text += f" {owed} thank-you{'s' if owed != 1 else ''} owed (ringed in orange)."
    return text


@handles(c.Map)
async def network_map(ctx: Ctx, cmd: c.Map) -> Reply:
    """The member's network as a picture: a PNG file."""
    contacts = await map_contacts(ctx.session, ctx.member.id)
    if not contacts:
        return Reply(
            title="Your map is empty so far",
            text="Add the people you know (`/rapport add Jane Doe company: Acme`), log a meeting, or bring your "
            "LinkedIn connections in with `/rapport import`.",
        )
    png = await asyncio.to_thread(draw_map, ctx.member.display_name or "", contacts)
    return Reply(
        title="Your network",
        text=map_caption(contacts),
        files=(Attachment(MAP_FILE, png, "image/png"),),
        context="You're in the middle; arrows show who introduced whom. Contacts beget contacts: "
        "ask each person you meet for two or three more.",
    )


# --- the calendar ------------------------------------------------------------------------------


def _google_subscribe(url: str) -> str:
    webcal = "webcal://" + url.split("://", 1)[-1]
    return "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe="")


@handles(c.Calendar)
async def calendar(ctx: Ctx, cmd: c.Calendar) -> Reply:
    """Gives the member a private calendar address (``reset``: a new one)."""
    feed = await ctx.session.scalar(select(CalendarFeed).where(CalendarFeed.member_id == ctx.member.id))
    if feed is not None and cmd.reset != "reset":
        return Reply(
            title="You already have a calendar address",
            text=f"You made it {fmt_when(feed.created_at, ctx.tz)}. I keep only a fingerprint of it, so I can't "
            "show it again. Lost it, or shared it by mistake? `/rapport calendar reset` makes a new one, and "
            "the old one stops working at once.",
        )
    token, hashed = cal.new_token()
    if feed is None:
        ctx.session.add(CalendarFeed(member_id=ctx.member.id, token_hash=hashed, created_at=ctx.now))
    else:
        feed.token_hash = hashed
        feed.created_at = ctx.now
    links = ctx.config.links
    url = links.calendar_url(token)
    steps = (
        "Subscribe to it (don't download it): Google Calendar: Other calendars → + → From URL. "
        "Apple Calendar: File → New Calendar Subscription. Outlook: Add calendar → Subscribe from web. "
        "Paste the address; your meetings (twenty minutes each, with a prep reminder the day before) and "
        "the follow-ups you promised appear in your time zone and stay up to date."
    )
    context = "Keep the address to yourself: anyone who has it can see your meetings. I can't show it again."
    if links.domain in ("localhost", "127.0.0.1"):
        context = "This address works on this computer only (RAPPORT_PUBLIC_URL isn't set). " + context
    return Reply(
        title="Your new calendar address (the old one no longer works)" if feed is not None else "Your private calendar address",
        text=steps,
        fields=(("Address", url),),
        buttons=(Button("Add to Google Calendar", url=_google_subscribe(url)),),
        context=context,
    )


# --- your own contacts, for `helpers` and `contacts company:` -------------------------------------


async def known_at(session: AsyncSession, member_id: int, company: str, limit: int = 5) -> tuple[int, list[str]]:
    """How many of the member's contacts work at ``company`` (its name contains the words
    given, case-insensitively), and the names of a few, the ones they've dealt with first."""
    key = " ".join(company.split()).casefold()
    if len(key) < 2:
        return 0, []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    where = (ContactRow.member_id == member_id, func.lower(ContactRow.company).like(f"%{escaped}%", escape="\\"))
    count = await session.scalar(select(func.count(ContactRow.id)).where(*where)) or 0
    names = list(
        await session.scalars(
            select(ContactRow.name)
            .where(*where)
            .order_by(ContactRow.last_touch_at.desc().nulls_last(), ContactRow.name_key)
            .limit(limit)
        )
    )
    return count, names


async def own_contacts_section(ctx: Ctx, companies: Sequence[str]) -> Section | None:
    """"You may know someone at Acme yourself": the member's own contacts (imported ones
    too) at the companies named, for ``helpers``."""
    lines: list[str] = []
    seen: set[str] = set()
    for company in companies:
        name = " ".join(company.split())
        if not name or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        count, names = await known_at(ctx.session, ctx.member.id, name)
        if count:
            more = f" and {count - len(names)} more" if count > len(names) else ""
            lines.append(f"• {name}: {', '.join(names)}{more}")
        if len(lines) >= 5:
            break
    if not lines:
        return None
    return Section(
        title="You may know someone there yourself",
        text="\n".join(lines) + "\nAsk one of them for twenty minutes: `/rapport contacts company: <name>` lists them all.",
    )
