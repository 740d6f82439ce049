"""Contacts: add one, show one, list them."""

from __future__ import annotations

from sqlalchemy import func, select

from core import commands as c
from core import drafts
from core import nudges as n
from core.context import Ctx
from core.errors import UserError
from core.handlers.common import (
    QUALIFIED,
    STATUS_ORDER,
    clean_name,
    find_contact,
    label,
    matches,
    mention_name,
    mentioned,
    new_contact,
    other_member,
)
from core.models import ContactRow, Meeting, Nudge, Outreach
from core.registry import handles
from core.timeparse import fmt_ago, fmt_when
from core.ui import Reply, Section

ADD_EXAMPLE = c.SPECS["add"].example
LIST_LIMIT = 50


CONTACT_FIELDS = (("company", "company"), ("role", "role"), ("field", "field"), ("email", "email"), ("phone", "phone"))


@handles(c.Add)
async def add(ctx: Ctx, cmd: c.Add) -> Reply:
    """Adds a contact; `referred-by:` links them to another contact or a community member.

    A name you already have updates that contact instead of adding a twin; ``Name (Company)``
    picks one of namesakes, or adds a second person of that name at another company. For
    someone referred to you, the reply has a first message that names the referrer."""
    name, linked = await mention_name(ctx, cmd.name)
    name = clean_name(name)
    company = cmd.company
    existing = await matches(ctx, name)
    if not existing and (q := QUALIFIED.match(name)):
        # "Jane Doe (Acme)": that Jane Doe (`company:` then says where she is now), or a
        # second Jane Doe, at Acme.
        name, at = clean_name(q.group(1)), q.group(2).strip()
        namesakes = await matches(ctx, name)
        existing = [r for r in namesakes if (r.company or "").casefold() == at.casefold()]
        if not existing:
            return await _create(ctx, cmd, name, linked, company or at, twin_of=namesakes[0] if namesakes else None)
    if len(existing) > 1:
        options = ", ".join(f"`{label(r)}`" for r in existing[:5])
        raise UserError(f"You have {len(existing)} contacts named {name}: {options}. Say which, e.g. "
                        f"`/rapport add {label(existing[0])} role: ...`")
    if existing:
        return await _update(ctx, cmd, existing[0], company, linked)
    return await _create(ctx, cmd, name, linked, company)


async def _create(ctx: Ctx, cmd: c.Add, name: str, linked: str | None, company: str | None,
                  twin_of: ContactRow | None = None) -> Reply:
    contact = new_contact(ctx, name)
    contact.linked_user_id = linked
    for attr, key in CONTACT_FIELDS:
        setattr(contact, attr, getattr(cmd, key))
    contact.company = company
    contact.notes = cmd.notes
    referrer_text = await _link_referrer(ctx, contact, cmd.referred_by) if cmd.referred_by else None
    ctx.session.add(contact)
    await ctx.session.flush()
    fields = [(k, v) for k, v in (("Company", contact.company), ("Role", cmd.role), ("Field", cmd.field)) if v]
    if referrer_text:
        fields.append(("Referred by", referrer_text))
    title = f"Added {contact.name} to your contacts" + (f" (you also have {label(twin_of)})" if twin_of else "")
    return _added_reply(ctx, title, contact, referrer_text, tuple(fields))


def _added_reply(ctx: Ctx, title: str, contact: ContactRow, referrer: str | None, fields: tuple[tuple[str, str], ...]) -> Reply:
    if referrer and contact.status == "new":
        return Reply(
            title=title,
            fields=fields,
            text=f"Here's a first message naming {referrer} in its first line; people say yes to a referral. "
            "Make it sound like you, send it, then tell me `/rapport reached-out " + contact.name + "`.",
            draft=drafts.pitch_draft(ctx.member, contact.name, referrer),
        )
    tip = "People who know you are the easiest first conversations: just ask for twenty minutes of advice, not a job."
    return Reply(title=title, fields=fields, context=tip)


async def _update(ctx: Ctx, cmd: c.Add, contact: ContactRow, company: str | None, linked: str | None) -> Reply:
    """``add`` of someone already there: what's new goes on the one contact."""
    changes: list[str] = []
    given = {attr: getattr(cmd, key) for attr, key in CONTACT_FIELDS}
    given["company"] = company
    if company and contact.company and company.casefold() != contact.company.casefold() and not QUALIFIED.match(cmd.name):
        raise UserError(
            f"You already have {label(contact)}. If they moved to {company}: `/rapport add {label(contact)} company: "
            f"{company}`. If this is another {contact.name}: `/rapport add {contact.name} ({company})`"
        )
    for attr, value in given.items():
        if value and value != getattr(contact, attr):
            old = getattr(contact, attr)
            setattr(contact, attr, value)
            changes.append(f"{attr} {old} → {value}" if old else f"{attr} {value}")
    if cmd.notes:
        contact.notes = (contact.notes + "\n" if contact.notes else "") + cmd.notes
        changes.append("notes added")
    if linked and not contact.linked_user_id:
        contact.linked_user_id = linked
    referrer_text = None
    if cmd.referred_by:
        referrer_text = await _link_referrer(ctx, contact, cmd.referred_by)
        changes.append(f"referred by {referrer_text}")
    else:
        referrer_text = await drafts.referrer_name(ctx.session, contact)
    if not changes:
        return Reply(title=f"{label(contact)} is already in your contacts",
                     context=f"`/rapport contact {contact.name}` shows them; `/rapport add {contact.name} role: ...` adds details.")
    title = f"{label(contact)} was already in your contacts, so I updated them: {', '.join(changes)}"
    if referrer_text and contact.status == "new":
        return _added_reply(ctx, title, contact, referrer_text, ())
    return Reply(title=title, context=f"`/rapport contact {contact.name}` shows everything about them.")


async def _link_referrer(ctx: Ctx, contact: ContactRow, raw: str) -> str:
    """``referred-by:`` a community member (a mention) or another contact (a name)."""
    found = mentioned(ctx, raw)
    if found:
        other = await other_member(ctx, *found)
        contact.referred_by_member_id, contact.referred_by_contact_id = other.id, None
        return other.display_name or "a community member"
    referrer, _ = await find_contact(ctx, raw, "add", create=True)
    if referrer is contact:
        raise UserError(f"{contact.name} can't be their own referrer. Who pointed you to them? `{ADD_EXAMPLE}`")
    contact.referred_by_contact_id, contact.referred_by_member_id = referrer.id, None
    return referrer.name


@handles(c.Contact)
async def show_contact(ctx: Ctx, cmd: c.Contact) -> Reply:
    """One contact's history: meetings, notes, who referred whom, open nudges."""
    contact, _ = await find_contact(ctx, cmd.name, "contact")
    fields: list[tuple[str, str]] = [("Status", contact.status), ("Last touch", fmt_ago(contact.last_touch_at, ctx.now, ctx.tz))]
    for label_, attr in (("Company", "company"), ("Role", "role"), ("Field", "field"), ("Email", "email"), ("Phone", "phone"),
                         ("LinkedIn", "linkedin_url")):
        if getattr(contact, attr):
            fields.append((label_, getattr(contact, attr)))
    if contact.connected_on:
        fields.append(("Connected on LinkedIn", contact.connected_on.strftime("%d %b %Y").lstrip("0")))
    chain = await drafts.referral_chain(ctx.session, contact)
    if len(chain) > 1:
        fields.append(("Referral chain", " ← ".join(chain)))
    referred = list(
        await ctx.session.scalars(
            select(ContactRow.name).where(ContactRow.referred_by_contact_id == contact.id).order_by(ContactRow.name)
        )
    )
    if referred:
        fields.append(("Referred you to", ", ".join(referred)))
    if contact.referrals_pending:
        fields.append(("Referrals", "pending: they're thinking about whom to suggest"))
    if contact.notes:
        fields.append(("Notes", contact.notes))
    sections: list[Section] = []
    for meeting in await ctx.session.scalars(
        select(Meeting).where(Meeting.contact_id == contact.id).order_by(Meeting.at.desc()).limit(10)
    ):
        state = "Upcoming" if meeting.status == "scheduled" else "Met"
        mfields = []
        if meeting.where:
            mfields.append(("Where", meeting.where))
        if meeting.opportunities:
            mfields.append(("Opportunities", meeting.opportunities))
        if meeting.status == "held":
            mfields.append(("Thank-you", "sent" if meeting.thanked_at else "not yet"))
        sections.append(Section(title=f"{state} {fmt_when(meeting.at, ctx.tz)}", text=meeting.notes or "", fields=tuple(mfields)))
    for outreach in await ctx.session.scalars(
        select(Outreach).where(Outreach.contact_id == contact.id).order_by(Outreach.at.desc()).limit(5)
    ):
        state = f"replied {fmt_ago(outreach.replied_at, ctx.now, ctx.tz)}" if outreach.replied_at else "no reply yet"
        sections.append(Section(title=f"Reached out {fmt_when(outreach.at, ctx.tz)}", text=f"{outreach.via or 'message'}; {state}"))
    for nudge in await ctx.session.scalars(
        select(Nudge).where(Nudge.contact_id == contact.id, Nudge.status.in_(n.OPEN)).order_by(Nudge.due_at).limit(10)
    ):
        sections.append(
            Section(
                title=f"#{nudge.id} {n.describe(nudge.kind, contact.name, nudge.payload)}",
                text=f"due {fmt_when(nudge.due_at, ctx.tz)}",
                buttons=n.buttons(nudge.id, nudge.kind),
            )
        )
    return Reply(title=label(contact), fields=tuple(fields), sections=tuple(sections))


@handles(c.Contacts)
async def list_contacts(ctx: Ctx, cmd: c.Contacts) -> Reply:
    """Your contacts, most recently touched first; `company:` the people you know at one."""
    where = [ContactRow.member_id == ctx.member.id]
    if cmd.status:
        status = cmd.status.strip().lower()
        if status not in STATUS_ORDER:
            raise UserError(f"`status:` is one of {', '.join(STATUS_ORDER)}. Try: `/rapport contacts status: met`")
        where.append(ContactRow.status == status)
    if cmd.company:
        company = " ".join(cmd.company.split()).casefold()
        escaped = company.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(func.lower(ContactRow.company).like(f"%{escaped}%", escape="\\"))
    total = await ctx.session.scalar(select(func.count(ContactRow.id)).where(*where)) or 0
    # A member may have imported thousands: count them all, load the page shown.
    rows = list(await ctx.session.scalars(
        select(ContactRow).where(*where)
        .order_by(ContactRow.last_touch_at.desc().nulls_last(), ContactRow.name_key)
        .limit(LIST_LIMIT)
    ))
    if not rows:
        if cmd.company:
            return Reply(text=f"No contacts at {cmd.company}" + (f" with status {cmd.status}." if cmd.status else ".")
                         + " Import your LinkedIn connections to find people you already know there: `/rapport import`.")
        if cmd.status:
            return Reply(text=f"No contacts with status {cmd.status}.")
        return Reply(
            title="No contacts yet",
            text="Start with people who know you: `/rapport add Jane Doe company: Acme`, or log a meeting with `/rapport log`.",
        )
    names = {r.id: r.name for r in rows}
    missing = {r.referred_by_contact_id for r in rows if r.referred_by_contact_id and r.referred_by_contact_id not in names}
    if missing:
        for rid, rname in await ctx.session.execute(select(ContactRow.id, ContactRow.name).where(ContactRow.id.in_(missing))):
            names[rid] = rname
    lines = []
    for r in rows:
        bits = [r.name]
        if r.company:
            bits.append(f"({r.company})")
        line = " ".join(bits) + f": {r.status}, last touch {fmt_ago(r.last_touch_at, ctx.now, ctx.tz)}"
        if r.referred_by_contact_id:
            line += f", referred by {names.get(r.referred_by_contact_id, '?')}"
        lines.append("• " + line)
    more = f"\n…and {total - len(rows):,} more." if total > len(rows) else ""
    title = f"Your contacts at {cmd.company} ({total:,})" if cmd.company else f"Your contacts ({total:,})"
    return Reply(title=title, text="\n".join(lines) + more)
