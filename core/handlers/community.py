"""Where you landed, and the organizers' verbs: the intro channel and aggregate stats."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import and_, or_, select

from core import commands as c
from core import limits, stats
from core import nudges as n
from core.context import Ctx
from core.effects import seeker_name
from core.errors import UserError
from core.handlers.intros import notify
from core.models import ContactRow, Member, Nudge
from core.registry import handles
from core.ui import Reply, Section

ORGANIZERS_ONLY = (
    "Only organizers can do that: workspace admins and owners on Slack, members with Manage Server on "
    "Discord, or people listed in RAPPORT_ADMINS."
)


@handles(c.Landed)
async def landed(ctx: Ctx, cmd: c.Landed) -> Reply:
    """The final thank-you round: a note for each person you met, and thanks to your referrers.

    Each person hears at most once in ``LANDED_QUIET`` (30 days): running it again, to fix a
    typo or with a new place, lines up notes only for people not told yet."""
    text = " ".join(cmd.text.split())
    ctx.member.landed_at = ctx.now
    ctx.member.landed_text = text
    met = list(await ctx.session.scalars(
        select(ContactRow).where(ContactRow.member_id == ctx.member.id, ContactRow.status == "met").order_by(ContactRow.name)
    ))
    everyone: dict[int, ContactRow] = {r.id: r for r in met}
    # Everyone on the referral chain of someone you met helped too.
    for contact in met:
        current = contact
        for _ in range(10):
            if not current.referred_by_contact_id or current.referred_by_contact_id in everyone:
                break
            referrer = await ctx.session.get(ContactRow, current.referred_by_contact_id)
            if referrer is None:
                break
            current = everyone[referrer.id] = referrer
    since = ctx.now - limits.LANDED_QUIET
    # A note still on your list, or one lined up in the last 30 days, is not lined up again.
    noted = set(await ctx.session.scalars(select(Nudge.contact_id).where(
        Nudge.member_id == ctx.member.id, Nudge.kind == n.LANDED,
        or_(Nudge.status.in_(n.OPEN), and_(Nudge.created_at > since, Nudge.status != "cancelled")))))
    fresh = [r for r in everyone.values() if r.id not in noted]
    for contact in fresh:
        await n.schedule(ctx.session, ctx.member, n.LANDED, ctx.now, ctx.now, ctx.default_tz, contact_id=contact.id)
    # Community members who referred you get the news from Rapport directly, once.
    member_ids = {r.referred_by_member_id for r in await ctx.session.scalars(
        select(ContactRow).where(ContactRow.member_id == ctx.member.id, ContactRow.referred_by_member_id.is_not(None)))}
    helpers = [m for m in [await ctx.session.get(Member, i) for i in sorted(i for i in member_ids if i)] if m is not None]
    tag = f"landed:{ctx.member.id}"
    thanked = {x.member_id for x in await ctx.session.scalars(select(Nudge).where(
        Nudge.member_id.in_([h.id for h in helpers]), Nudge.kind == n.NOTICE, Nudge.created_at > since))
        if (x.payload or {}).get("tag") == tag}
    for helper in helpers:
        if helper.id not in thanked:
            await notify(ctx, helper, f"{seeker_name(ctx.member)} landed!",
                         f"They're starting as {text}, and you helped: you introduced them to someone on the way. "
                         "Thank you for making this community work.", tag=tag)
    names = sorted(r.name for r in fresh)
    already = sorted([r.name for r in everyone.values() if r.id in noted]
                     + [seeker_name(h) for h in helpers if h.id in thanked])
    new_helpers = [seeker_name(h) for h in helpers if h.id not in thanked]
    fields = []
    if names or not already:
        fields.append(("Notes to send", ", ".join(names) if names else "none yet: log the meetings you had, and I'll line them up"))
    if new_helpers:
        fields.append(("Thanked for you", ", ".join(new_helpers)))
    if already:
        fields.append(("Already told in the last 30 days", ", ".join(already)))
    if names or new_helpers or not already:
        body = ("Tell everyone who helped where you landed, with your new contact details: they'll feel pride in "
                "your success, and you'll keep running into them in your field.")
        body += " I've put a draft for each in your DMs." if names else ""
    else:
        body = "Everyone who helped has heard from you in the last 30 days, so I won't message them again so soon."
    context = "Each note stays on your list until you mark it done."
    if already:
        context += " I don't tell the same people twice within 30 days, even with new news; write to them yourself if it changed."
    return Reply(title=f"Congratulations! {text}", text=body, fields=tuple(fields), context=context)


# Ids fit the 64 characters the community row keeps (a `#name` is kept as its id).
_SLACK_CHANNEL = re.compile(r"^<#([A-Z0-9]{1,64})(?:\|([^>]*))?>$")
_DISCORD_CHANNEL = re.compile(r"^<#(\d{1,64})>$")


def parse_channel(text: str) -> tuple[str, str | None]:
    """``<#C123|intros>`` (Slack), ``<#123>`` (Discord), ``#intros`` or an id -> (id, name)."""
    text = text.strip()
    if m := _SLACK_CHANNEL.match(text):
        return m.group(1), (m.group(2) or None)
    if m := _DISCORD_CHANNEL.match(text):
        return m.group(1), None
    if re.fullmatch(r"#?[\w-]{1,63}", text):
        bare = text.lstrip("#")
        # A name (Slack accepts names when posting); ids keep their case.
        return (text if text.startswith("#") else bare), (bare if text.startswith("#") else None)
    raise UserError("Give a channel as `#intros`, a channel mention or its id: `/rapport admin channel #intros`")


def _require_organizer(ctx: Ctx) -> None:
    if not ctx.config.is_organizer(ctx.actor):
        raise UserError(ORGANIZERS_ONLY)


@handles(c.AdminChannel)
async def admin_channel(ctx: Ctx, cmd: c.AdminChannel) -> Reply:
    """Sets the community's intro channel."""
    _require_organizer(ctx)
    channel_id, name = parse_channel(cmd.channel)
    community = await ctx.community()
    community.intro_channel_id = channel_id
    community.intro_channel_name = name
    label = f"#{name}" if name else f"<#{channel_id}>"
    return Reply(title=f"Intro requests will be posted in {label}",
                 text="Members ask with `/rapport intro <what they seek>`; make sure I'm in that channel.")


async def community_stats(ctx: Ctx, since: dt.datetime | None) -> dict[str, str]:
    """Aggregates for this community since ``since`` (None: all time). Never anyone's notes.

    The numbers come from ``core.stats`` (the query layer the web dashboard uses too), so
    chat and the page always agree."""
    community = stats.CommunityKey(ctx.member.platform, ctx.member.workspace_id)
    period = stats.Period(since, ctx.now, "") if since is not None else stats.Period.all_time(ctx.now)
    summary = await stats.summary(ctx.session, community, period, ctx.now)
    return dict(stats.summary_fields(summary))


@handles(c.AdminStats)
async def admin_stats(ctx: Ctx, cmd: c.AdminStats) -> Reply:
    """Aggregate stats: last 30 days and all time. Organizers only."""
    _require_organizer(ctx)
    recent = await community_stats(ctx, ctx.now - dt.timedelta(days=30))
    total = await community_stats(ctx, None)
    sections = tuple(
        Section(title=label, text="", fields=tuple(numbers.items())) for label, numbers in (("Last 30 days", recent), ("All time", total))
    )
    return Reply(title="Community stats", sections=sections,
                 context="Aggregates only; no one's contacts or notes. Failed nudges are DMs a member couldn't receive.")

