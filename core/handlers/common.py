"""Helpers the handlers share: finding contacts by name, mentions, touches."""

from __future__ import annotations

import datetime as dt
import difflib
import re

from sqlalchemy import func, select

from core import nudges as n
from core import rules
from core.actor import Actor
from core.commands import record_id
from core.context import Ctx
from core.errors import UserError
from core.members import find_member, member_for
from core.models import ContactRow, Member

# Platform mentions as the text grammar writes them: Slack <@U123> / <@U123|name>, Discord
# <@123> / <@!123>. Only ids in ``ctx.mentions`` (the ones the platform produced and the
# adapter checked belong to this community) count; anything else that looks like one is
# typed text, refused where a member was meant.
MENTION = re.compile(r"^<@!?([A-Za-z0-9._-]{1,64})(?:\|([^>]{0,100}))?>$")
NOT_A_MEMBER = (
    "I can only reach people in this community that you @-mention, picked from the list as you type @. "
    "To note someone who isn't here, add them as a contact: `/rapport add Jane Doe`"
)
# "Jane Doe (Acme)" picks one of two Jane Does; "#12" picks by id.
QUALIFIED = re.compile(r"^(.*?)\s*\(([^)]+)\)\s*$")


#: Row ids are 32-bit integers on PostgreSQL: anything past that names no row.
def name_key(name: str) -> str:
    # Casefolding can lengthen a name (ß -> ss); the key column holds 100.
    return " ".join(name.split()).casefold()[:100]


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise UserError("A name can't be empty. Try: `/rapport add Jane Doe`")
    return name


def label(contact: ContactRow) -> str:
    return f"{contact.name} ({contact.company})" if contact.company else contact.name


async def matches(ctx: Ctx, name: str) -> list[ContactRow]:
    """Contacts of this member whose name is ``name`` (case-insensitive)."""
    key = name_key(name)
    rows = await ctx.session.scalars(
        select(ContactRow)
        .where(ContactRow.member_id == ctx.member.id, ContactRow.name_key == key)
        .order_by(ContactRow.id)
    )
    return list(rows)


def mentioned(ctx: Ctx, text: str) -> tuple[str, str | None] | None:
    """``<@U1|jane>`` -> ``("U1", "jane")`` when the platform vouched for U1; None for text
    that is no mention; a one-line refusal for an unverified one."""
    m = MENTION.match(text.strip())
    if not m:
        return None
    user_id = m.group(1)
    if user_id not in ctx.mentions:
        raise UserError(NOT_A_MEMBER)
    return user_id, (ctx.mentions.get(user_id) or (m.group(2) or "").strip() or None)


async def mention_name(ctx: Ctx, text: str) -> tuple[str, str | None]:
    """``<@U1|jane>`` -> ("jane", "U1") for a verified mention; other text -> (text, None)."""
    found = mentioned(ctx, text)
    if found is None:
        return text, None
    user_id, shown = found
    if not shown:
        other = await find_member(ctx.session, ctx.member.platform, ctx.member.workspace_id, user_id)
        shown = other.display_name if other is not None else None
    return shown or "a community member", user_id


async def find_contact(ctx: Ctx, raw: str, verb: str, *, create: bool = False) -> tuple[ContactRow, bool]:
    """Resolves a name to one contact. Returns ``(contact, created)``.

    Exact names match case-insensitively; ``Name (Company)`` or ``#id`` picks among
    namesakes. With ``create``, an unknown name becomes a new contact; without it, a
    unique partial match is accepted and anything else is a one-line error.
    """
    text, linked = await mention_name(ctx, raw)
    text = clean_name(text)
    if linked:
        row = await ctx.session.scalar(
            select(ContactRow).where(ContactRow.member_id == ctx.member.id, ContactRow.linked_user_id == linked)
        )
        if row is not None:
            return row, False
    if text.startswith("#") and text[1:].isdigit():
        number = record_id(text[1:])
        row = await ctx.session.get(ContactRow, number) if number is not None else None
        if row is None or row.member_id != ctx.member.id:
            raise UserError(f"You have no contact {text}. `/rapport contacts` lists them.")
        return row, False
    found = await matches(ctx, text)
    if not found:
        q = QUALIFIED.match(text)
        if q:
            company = q.group(2).casefold()
            found = [r for r in await matches(ctx, q.group(1)) if (r.company or "").casefold() == company]
    if len(found) == 1:
        return found[0], False
    if len(found) > 1:
        options = ", ".join(f"`{label(r)}`" for r in found[:5])
        raise UserError(
            f"You have {len(found)} contacts named {text}: {options}. Say which, e.g. "
            f"`/rapport {verb} {label(found[0])}` (or `#{found[0].id}`)."
        )
    if create:
        close = await close_matches(ctx, text)
        if close:
            raise UserError(did_you_mean(text, close, verb))
        contact = new_contact(ctx, text)
        contact.linked_user_id = linked
        ctx.session.add(contact)
        await ctx.session.flush()
        return contact, True
    partial = await partial_matches(ctx, text)
    if len(partial) == 1:
        return partial[0], False
    if len(partial) > 1:
        options = ", ".join(f"`{r.name}`" for r in partial[:5])
        raise UserError(f"“{text}” could be {options}. Say the full name: `/rapport {verb} {partial[0].name}`")
    raise UserError(f"You have no contact named {text}. Add them first: `/rapport add {text}`")


async def close_matches(ctx: Ctx, text: str) -> list[ContactRow]:
    """Contacts whose name is close to ``text`` without being it: a first name ("Jane" for
    Jane Doe) or a slip of the keyboard ("Jane Do")."""
    found = {r.id: r for r in await partial_matches(ctx, text)}
    key = name_key(text)
    if len(key) >= 3:
        rows = list(await ctx.session.execute(
            select(ContactRow.id, ContactRow.name_key).where(ContactRow.member_id == ctx.member.id)))
        keys = {k: i for i, k in rows}
        for near in difflib.get_close_matches(key, list(keys), n=3, cutoff=0.75):
            if keys[near] not in found:
                row = await ctx.session.get(ContactRow, keys[near])
                if row is not None:
                    found[row.id] = row
    return sorted(found.values(), key=lambda r: r.name_key)[:3]


def did_you_mean(text: str, close: list[ContactRow], verb: str) -> str:
    """One line: the typed name is new, but close to contacts the member has."""
    names = " or ".join(f"`{label(r)}`" for r in close)
    return (f"You have no contact named {text}. Did you mean {names}? If so, use their name: "
            f"`/rapport {verb} {close[0].name} …`. If {text} is someone new, add them first: `/rapport add {text}`")


async def partial_matches(ctx: Ctx, text: str) -> list[ContactRow]:
    key = name_key(text)
    if len(key) < 2:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await ctx.session.scalars(
        select(ContactRow)
        .where(
            ContactRow.member_id == ctx.member.id,
            func.lower(ContactRow.name_key).like(f"{escaped}%", escape="\\")
            | func.lower(ContactRow.name_key).like(f"% {escaped}%", escape="\\"),
        )
        .order_by(ContactRow.name_key)
        .limit(6)
    )
    return list(rows)


def new_contact(ctx: Ctx, name: str) -> ContactRow:
    return ContactRow(
        member_id=ctx.member.id,
        name=name,
        name_key=name_key(name),
        status="new",
        referrals_pending=False,
        created_at=ctx.now,
    )


STATUS_ORDER = {"new": 0, "reached-out": 1, "replied": 2, "scheduled": 3, "met": 4}


def advance_status(contact: ContactRow, status: str) -> None:
    """Statuses only move forward (met stays met when you reach out again)."""
    if STATUS_ORDER.get(status, 0) >= STATUS_ORDER.get(contact.status, 0):
        contact.status = status


async def touch(ctx: Ctx, contact: ContactRow, when: dt.datetime) -> None:
    """A logged touch: moves last touch, and restarts stay-in-touch for people you've met."""
    if contact.last_touch_at is None or when > contact.last_touch_at:
        contact.last_touch_at = when
    if contact.status != "met":
        return
    await n.cancel(ctx.session, ctx.member.id, [n.STAY_IN_TOUCH], ctx.now, contact_id=contact.id)
    due = rules.stay_in_touch(contact.last_touch_at, ctx.now, ctx.who)
    await n.schedule(ctx.session, ctx.member, n.STAY_IN_TOUCH, due, ctx.now, ctx.default_tz, contact_id=contact.id)


def yes_no(value: str, key: str, example: str) -> bool:
    v = value.strip().lower()
    if v in {"yes", "y", "true", "on", "1", "done", "sent"}:
        return True
    if v in {"no", "n", "false", "off", "0", "not yet"}:
        return False
    raise UserError(f"`{key}:` takes yes or no. Try: `{example}`")


def split_names(text: str) -> list[str]:
    """``Bob Li, Ana Ruiz and Cy Oh`` -> three names."""
    parts = re.split(r",|;|\band\b|&", text)
    return [" ".join(p.split()) for p in parts if p.strip()]


async def other_member(ctx: Ctx, user_id: str, shown: str | None) -> Member:
    """The member with this platform id in the actor's community, created if new.

    Only for ids the platform vouched for (a verified mention) or rows already known.
    """
    name = ctx.mentions.get(user_id) or shown
    return await member_for(
        ctx.session, Actor(ctx.member.platform, ctx.member.workspace_id, user_id, display_name=name), ctx.now, ctx.default_tz
    )
