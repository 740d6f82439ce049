"""Introductions: open requests in the intro channel, double opt-in, the helper directory.

Channel posts carry only the seeker's goal and ask, never notes. Messages to other members
are NOTICE nudges due now: durable rows, delivered once by the dispatcher like any nudge.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from core import commands as c
from core import drafts, limits, rules
from core import nudges as n
from core.commands import record_id
from core.context import Ctx
from core.effects import open_intro_conversation, seeker_name, sync_intro_post
from core.errors import UserError
from core.handlers.common import clean_name, mentioned, name_key, other_member
from core.handlers.network import own_contacts_section
from core.models import Community, ContactRow, HelperOffer, IntroOffer, IntroRequest, Member
from core.registry import handles, on_button, on_form
from core.timeparse import fmt_when
from core.ui import Button, Field, Form, Reply, Section

INTRO_EXAMPLE = c.SPECS["intro"].example
OFFER_EXAMPLE = c.SPECS["offer"].example
MAX_OPEN = 3
ASK_WINDOW = limits.ASK_WINDOW  # per-month capacity, rolling
NOT_NOW_PAUSE = dt.timedelta(days=30)
LAPSE_AFTER = dt.timedelta(days=7)
DEFAULT_PER_MONTH = limits.DEFAULT_PER_MONTH
MAX_SUGGESTIONS = 3
#: A request id the acting member may not act on reads like one that doesn't exist.
GONE = "That request no longer exists."


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def request_ref(request: IntroRequest) -> str:
    return f"R{request.id}"


async def notify(ctx: Ctx, member: Member, title: str, text: str = "", draft: str = "", buttons: tuple[Button, ...] = (),
                 request: IntroRequest | None = None, contact: ContactRow | None = None, tag: str = "") -> None:
    """A DM to another member, as a durable nudge due now. ``contact``: whom the draft is
    written to (its "Open in email" link, core.mail); ``tag``: what it was about, to find it again."""
    payload = {
        "title": title,
        "text": text,
        "draft": draft,
        "buttons": [{"label": b.label, "action_id": b.action_id, "style": b.style, "command": b.command} for b in buttons],
    }
    if tag:
        payload["tag"] = tag
    await n.schedule(ctx.session, member, n.NOTICE, ctx.now, ctx.now, ctx.default_tz,
                     intro_request_id=request.id if request else None, payload=payload,
                     contact_id=contact.id if contact is not None and contact.member_id == member.id else None)


def _lapsed(request: IntroRequest, now: dt.datetime) -> bool:
    return request.target_member_id is not None and request.status == "open" and request.created_at + LAPSE_AFTER <= now


async def _open_requests(ctx: Ctx) -> list[IntroRequest]:
    rows = await ctx.session.scalars(
        select(IntroRequest).where(IntroRequest.member_id == ctx.member.id, IntroRequest.status == "open")
    )
    return [r for r in rows if not _lapsed(r, ctx.now)]


async def _check_open_limit(ctx: Ctx) -> None:
    open_ = await _open_requests(ctx)
    if len(open_) >= MAX_OPEN:
        refs = ", ".join(request_ref(r) for r in sorted(open_, key=lambda r: r.id))
        raise UserError(
            f"You have {MAX_OPEN} open requests ({refs}), the most at once. Close one you no longer need "
            f"with `/rapport done {request_ref(open_[0])}` and ask again."
        )


@handles(c.Intro)
async def intro(ctx: Ctx, cmd: c.Intro) -> Reply:
    """An open request to the intro channel, or a double opt-in ask of one member."""
    what = " ".join((cmd.what or "").split())
    mention = mentioned(ctx, what.split(" ", 1)[0]) if what else None
    if mention:
        user_id, shown = mention
        return await _ask_member(ctx, user_id, shown, what.split(" ", 1)[1].strip() if " " in what else "", cmd.note)
    if not what:
        raise UserError(f"What kind of person would you like to meet? Try: `{INTRO_EXAMPLE}`")
    community = await ctx.community()
    if not community.intro_channel_id:
        raise UserError("There's no intro channel yet: an organizer must set one first with `/rapport admin channel #intros`.")
    await _check_open_limit(ctx)
    request = IntroRequest(member_id=ctx.member.id, community_id=community.id, what=what, note=cmd.note,
                           status="open", channel_id=community.intro_channel_id, created_at=ctx.now)
    ctx.session.add(request)
    await ctx.session.flush()
    await sync_intro_post(ctx.session, request, ctx.member, ctx.now)
    await n.schedule(ctx.session, ctx.member, n.INTRO_STALE, rules.intro_stale(ctx.now, ctx.now), ctx.now,
                     ctx.default_tz, intro_request_id=request.id)
    sections = []
    for helper, offer, left in await suggest_helpers(ctx, what):
        sections.append(Section(
            title=helper.display_name or "A helper",
            text=", ".join(x for x in (offer.fields, offer.companies) if x) or "open to chats",
            fields=(("Can take", f"{left} more this month"),),
            buttons=(Button(f"Ask {helper.display_name or 'them'}", f"intro:ask:{helper.id}:{request.id}",
                            command=f"intro <@{helper.user_id}> {what[:80]}" + (f" note: {cmd.note}" if cmd.note else "")),),
        ))
    if not ctx.member.goal:
        tip = "Tip: set a one-line goal (`/rapport goal ...`) so helpers see what you're after."
    else:
        tip = "I'll DM you each offer with a draft that names who referred you."
    fields = (("Your note", f"“{cmd.note}”, shown only to people who offer to help, never in the channel"),) if cmd.note else ()
    return Reply(
        title=f"Posted your request {request_ref(request)} to {_channel_label(community)}",
        text=what,
        fields=fields,
        sections=tuple(sections),
        buttons=(Button("Close request", f"intro:close:{request.id}", command=f"done {request_ref(request)}"),),
        context=("Helpers in the directory who match, privately: ask one directly. " if sections else "") + tip,
    )


def _channel_label(community: Community) -> str:
    return f"#{community.intro_channel_name}" if community.intro_channel_name else "the intro channel"


async def _asks_in_window(ctx: Ctx, helper_id: int) -> list[dt.datetime]:
    return list(await ctx.session.scalars(
        select(IntroRequest.created_at)
        .where(IntroRequest.target_member_id == helper_id, IntroRequest.created_at > ctx.now - ASK_WINDOW)
        .order_by(IntroRequest.created_at)
    ))


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9+#]+", text.casefold()) if len(w) > 2}


async def suggest_helpers(ctx: Ctx, what: str) -> list[tuple[Member, HelperOffer, int]]:
    """Up to three helpers: field match first, then least recently asked; never over capacity."""
    rows = await ctx.session.execute(
        select(Member, HelperOffer)
        .join(HelperOffer, HelperOffer.member_id == Member.id)
        .where(
            HelperOffer.active.is_(True),
            Member.platform == ctx.member.platform,
            Member.workspace_id == ctx.member.workspace_id,
            Member.id != ctx.member.id,
        )
    )
    wanted = _words(what) | _words(ctx.member.goal or "")
    # Whom this member asked lately: suggesting them again would only lead to a refusal.
    mine = Counter(await ctx.session.scalars(
        select(IntroRequest.target_member_id)
        .where(IntroRequest.member_id == ctx.member.id, IntroRequest.target_member_id.is_not(None),
               IntroRequest.created_at > ctx.now - limits.ASK_WINDOW)))
    ranked = []
    for helper, offer in rows:
        if mine[helper.id] >= limits.ASKS_OF_ONE_PERSON:
            continue
        left = offer.per_month - len(await _asks_in_window(ctx, helper.id))
        if left <= 0:
            continue
        score = len(wanted & (_words(offer.fields or "") | _words(offer.companies or "")))
        last = offer.last_asked_at or dt.datetime.min.replace(tzinfo=dt.UTC)
        ranked.append((-score, last, helper.id, helper, offer, left))
    ranked.sort(key=lambda r: r[:3])
    return [(h, o, left) for *_, h, o, left in ranked[:MAX_SUGGESTIONS]]


async def _ask_member(ctx: Ctx, user_id: str, shown: str | None, extra: str, note: str | None) -> Reply:
    if user_id == ctx.member.user_id:
        raise UserError("That's you! Ask someone else, or post an open request: `/rapport intro <what you seek>`")
    helper = await other_member(ctx, user_id, shown)
    name = helper.display_name or "them"
    await _check_open_limit(ctx)
    await _check_direct_asks(ctx)
    declined = await ctx.session.scalar(
        select(func.max(IntroRequest.answered_at)).where(
            IntroRequest.member_id == ctx.member.id,
            IntroRequest.target_member_id == helper.id,
            IntroRequest.status == "declined",
        )
    )
    if declined is not None and declined + NOT_NOW_PAUSE > ctx.now:
        lifts = declined + NOT_NOW_PAUSE
        raise UserError(f"{name} said not now recently; you can ask them again from {fmt_when(lifts, ctx.tz)}. "
                        "Meanwhile, try an open request: `/rapport intro <what you seek>`")
    await _check_same_person(ctx, helper)
    offer = await ctx.session.scalar(select(HelperOffer).where(HelperOffer.member_id == helper.id))
    per_month = offer.per_month if offer is not None and offer.active else DEFAULT_PER_MONTH
    asks = await _asks_in_window(ctx, helper.id)
    if len(asks) >= per_month:
        lifts = asks[0] + ASK_WINDOW
        raise UserError(f"{name} has been asked {_times(per_month)} this month, their limit; that lifts "
                        f"{fmt_when(lifts, ctx.tz)}. Try `/rapport helpers` for others.")
    community = await ctx.community()
    request = IntroRequest(member_id=ctx.member.id, community_id=community.id, what=extra or ctx.member.goal,
                           note=note, target_member_id=helper.id, status="open", created_at=ctx.now)
    ctx.session.add(request)
    await ctx.session.flush()
    if offer is not None:
        offer.last_asked_at = ctx.now
    goal = ctx.member.goal or request.what
    lines = [f"{seeker_name(ctx.member)} would value twenty minutes of your advice."]
    if goal:
        lines.append(f"What they're working toward: {goal}.")
    if note:
        lines.append(f"{seeker_name(ctx.member)}'s note: “{note}”")
    lines.append("It's a conversation, not a job request. If you accept, I'll open a conversation for the two of you.")
    await notify(ctx, helper, f"{seeker_name(ctx.member)} asked for an introduction to you", "\n".join(lines),
                 buttons=(Button("Accept", f"intro:accept:{request.id}", "primary"),
                          Button("Not now", f"intro:decline:{request.id}")),
                 request=request)
    return Reply(
        title=f"Asked {name} ({request_ref(request)})",
        text=f"I've sent {name} your goal and your ask, with Accept and Not now. If they accept, I'll open a "
        "conversation for you both. No answer in a week and it lapses quietly.",
    )


# --- spam limits (the numbers: core.limits) ---------------------------------------------------


async def _recent(ctx: Ctx, column: InstrumentedAttribute[dt.datetime], *where: ColumnElement[bool]) -> list[dt.datetime]:
    """When each counted thing happened in the last day, oldest first.

    The member's row is locked first, so two of their commands counting at the same moment
    (two processes on PostgreSQL) count one after the other and can't both squeeze under the
    limit. On SQLite writers already run one at a time (no FOR UPDATE there)."""
    await ctx.session.execute(select(Member.id).where(Member.id == ctx.member.id).with_for_update())
    return list(await ctx.session.scalars(
        select(column).where(column > ctx.now - limits.DAY, *where).order_by(column)))


def _lifts(times: list[dt.datetime], limit: int) -> dt.datetime:
    """When the count in the rolling day drops below ``limit`` again."""
    return times[len(times) - limit] + limits.DAY


async def _check_offers(ctx: Ctx) -> None:
    """At most ``OFFERS_PER_DAY`` offers a day, so a seeker's DMs stay welcome news."""
    times = await _recent(ctx, IntroOffer.created_at, IntroOffer.helper_member_id == ctx.member.id)
    if len(times) >= limits.OFFERS_PER_DAY:
        raise UserError(f"You've made {limits.OFFERS_PER_DAY} offers today, the most in a day; you can offer again "
                        f"from {fmt_when(_lifts(times, limits.OFFERS_PER_DAY), ctx.tz)}. Thank you for being so generous!")


async def _check_direct_asks(ctx: Ctx) -> None:
    """At most ``DIRECT_ASKS_PER_DAY`` direct asks a day."""
    times = await _recent(ctx, IntroRequest.created_at, IntroRequest.member_id == ctx.member.id,
                          IntroRequest.target_member_id.is_not(None))
    if len(times) >= limits.DIRECT_ASKS_PER_DAY:
        raise UserError(f"You've asked {limits.DIRECT_ASKS_PER_DAY} people directly today, the most in a day; you can "
                        f"ask again from {fmt_when(_lifts(times, limits.DIRECT_ASKS_PER_DAY), ctx.tz)}. Meanwhile an "
                        "open request reaches everyone at once: `/rapport intro <what you seek>`")


async def _check_same_person(ctx: Ctx, helper: Member) -> None:
    """One ask of the same person a month: nobody uses up someone's capacity alone."""
    asked = list(await ctx.session.scalars(
        select(IntroRequest.created_at)
        .where(IntroRequest.member_id == ctx.member.id, IntroRequest.target_member_id == helper.id,
               IntroRequest.created_at > ctx.now - limits.ASK_WINDOW)
        .order_by(IntroRequest.created_at)
    ))
    if len(asked) >= limits.ASKS_OF_ONE_PERSON:
        lifts = asked[len(asked) - limits.ASKS_OF_ONE_PERSON] + limits.ASK_WINDOW
        name = helper.display_name or "them"
        raise UserError(f"You already asked {name} this month; give them room, and ask again from "
                        f"{fmt_when(lifts, ctx.tz)} if you still need to. `/rapport helpers` lists others who offered.")


async def _visible_request(ctx: Ctx, raw: str) -> IntroRequest | None:
    """The request with id ``raw`` if the acting member may see it: one of their community's
    open requests, or a direct ask they made or received. None for any other, so a request
    elsewhere (another community's, another pair's ask) reads exactly like one that never was."""
    number = record_id(raw)
    request = await ctx.session.get(IntroRequest, number) if number is not None else None
    if request is None:
        return None
    seeker = await ctx.session.get(Member, request.member_id)
    if seeker is None or (seeker.platform, seeker.workspace_id) != (ctx.member.platform, ctx.member.workspace_id):
        return None
    if request.target_member_id is not None and ctx.member.id not in (request.member_id, request.target_member_id):
        return None
    return request


async def _request(ctx: Ctx, raw: str) -> IntroRequest:
    request = await _visible_request(ctx, raw)
    if request is None:
        raise UserError(GONE)
    return request


async def _seeker(ctx: Ctx, request: IntroRequest) -> Member:
    seeker = await ctx.session.get(Member, request.member_id)
    if seeker is None:
        raise UserError("That request no longer exists.")
    return seeker


async def _first_offer(ctx: Ctx, request: IntroRequest) -> None:
    if request.first_offer_at is None:
        request.first_offer_at = ctx.now
    await n.cancel(ctx.session, request.member_id, [n.INTRO_STALE], ctx.now, intro_request_id=request.id)


@on_button("intro")
async def intro_button(ctx: Ctx, args: list[str]) -> Reply:
    """intro:glad|know|close|accept|decline:<request>, intro:ask:<helper member>:<request>."""
    if not args:
        raise UserError("That button is no longer in use.")
    action = args[0]
    if action == "ask" and len(args) == 3:
        # Both ids are checked, and any failure reads the same: a helper of this community,
        # and a request of the presser's own.
        helper_id = record_id(args[1])
        helper = await ctx.session.get(Member, helper_id) if helper_id is not None else None
        request = await _visible_request(ctx, args[2])
        if (
            helper is None
            or (helper.platform, helper.workspace_id) != (ctx.member.platform, ctx.member.workspace_id)
            or request is None
            or request.member_id != ctx.member.id
        ):
            raise UserError("That button is no longer in use.")
        return await _ask_member(ctx, helper.user_id, helper.display_name, request.what or "", request.note)
    if len(args) != 2:
        raise UserError("That button is no longer in use.")
    request = await _request(ctx, args[1])
    if action == "glad":
        return await _glad(ctx, request)
    if action == "know":
        _offer_allowed(ctx, request)
        await _check_offers(ctx)
        seeker = await _seeker(ctx, request)
        text = f"Tell me who, and I'll pass it on to {seeker_name(seeker)} with your name as the referrer."
        if request.note:
            text += f" {seeker_name(seeker)}'s note: “{request.note}”"
        return Reply(title="Who do you know?", text=text, form=know_form(request.id))
    if action == "close":
        return await close_request(ctx, request)
    if action in {"accept", "decline"}:
        return await _answer(ctx, request, action == "accept")
    raise UserError("That button is no longer in use.")


def _offer_allowed(ctx: Ctx, request: IntroRequest) -> None:
    if request.member_id == ctx.member.id:
        raise UserError("That's your own request. Close it with the Close button or `/rapport done " + request_ref(request) + "`.")
    if request.status != "open" or request.target_member_id is not None:
        raise UserError("That request is closed now. Thank you for offering!")


def know_form(request_id: int) -> Form:
    return Form(
        f"form:intro-offer:{request_id}",
        "Introduce someone",
        (
            Field("name", "Their name", required=True, placeholder="Bob Li", max_length=c.NAME_MAX),
            Field("company", "Company", max_length=c.SHORT_MAX),
            Field("role", "Role", max_length=c.SHORT_MAX),
            Field("reach", "How to reach them", placeholder="bob@acme.com, LinkedIn", max_length=c.SHORT_MAX),
            Field("note", "A note for the seeker", kind="long", max_length=1000),
        ),
        "Send",
    )


async def _glad(ctx: Ctx, request: IntroRequest) -> Reply:
    _offer_allowed(ctx, request)
    seeker = await _seeker(ctx, request)
    already = await ctx.session.scalar(select(IntroOffer.id).where(
        IntroOffer.request_id == request.id, IntroOffer.helper_member_id == ctx.member.id, IntroOffer.kind == "glad"))
    if already:
        return Reply(text=f"You've already offered; {seeker_name(seeker)} has your name. Thank you!")
    await _check_offers(ctx)
    helper_name = seeker_name(ctx.member)
    contact = await _seeker_contact(ctx, seeker, helper_name, linked=ctx.member.user_id)
    ctx.session.add(IntroOffer(request_id=request.id, helper_member_id=ctx.member.id, kind="glad",
                               contact_id=contact.id, created_at=ctx.now))
    await _first_offer(ctx, request)
    draft = drafts.glad_to_chat_draft(seeker, helper_name, request.what)
    await notify(ctx, seeker, f"{helper_name} would be glad to chat", f"About your request: “{request.what}”. "
                 "Reach out soon and ask for twenty minutes; here's a start.", draft=draft, request=request)
    note = f" {seeker_name(seeker)}'s note for whoever helps: “{request.note}”" if request.note else ""
    return Reply(text=f"Thank you! I've told {seeker_name(seeker)}; they'll reach out to you.{note}")


async def _seeker_contact(ctx: Ctx, seeker: Member, name: str, *, linked: str | None = None,
                          referred_by: int | None = None, company: str | None = None, role: str | None = None) -> ContactRow:
    """The seeker's contact for an offered person: an existing namesake is updated, not twinned."""
    existing = [r for r in await ctx.session.scalars(
        select(ContactRow).where(ContactRow.member_id == seeker.id, ContactRow.name_key == name_key(name)))]
    if len(existing) == 1:
        contact = existing[0]
    else:
        contact = ContactRow(member_id=seeker.id, name=name, name_key=name_key(name), status="new",
                             referrals_pending=False, created_at=ctx.now)
        ctx.session.add(contact)
    if linked and not contact.linked_user_id:
        contact.linked_user_id = linked
    if referred_by and not contact.referred_by_contact_id and not contact.referred_by_member_id:
        contact.referred_by_member_id = referred_by
    contact.company = contact.company or company
    contact.role = contact.role or role
    await ctx.session.flush()
    return contact


@on_form("intro-offer")
async def know_submitted(ctx: Ctx, args: list[str], values: dict[str, str]) -> Reply:
    """The "I know someone" form: a contact for the seeker, referred by the helper."""
    if len(args) != 1:
        raise UserError("That form is no longer in use.")
    request = await _request(ctx, args[0])
    _offer_allowed(ctx, request)
    await _check_offers(ctx)
    name = clean_name(values.get("name", ""))
    for key, limit in (("name", c.NAME_MAX), ("company", c.SHORT_MAX), ("role", c.SHORT_MAX), ("reach", c.SHORT_MAX), ("note", 1000)):
        if len(values.get(key, "")) > limit:
            raise UserError(f"The {key} is over {limit} characters; shorten it and send again.")
    seeker = await _seeker(ctx, request)
    contact = await _seeker_contact(ctx, seeker, name, referred_by=ctx.member.id,
                                    company=values.get("company"), role=values.get("role"))
    reach = values.get("reach")
    if reach:
        if "@" in reach and " " not in reach and not contact.email:
            contact.email = reach
        else:
            contact.notes = ((contact.notes + "\n") if contact.notes else "") + f"How to reach: {reach}"
    ctx.session.add(IntroOffer(request_id=request.id, helper_member_id=ctx.member.id, kind="know",
                               contact_id=contact.id, created_at=ctx.now))
    await _first_offer(ctx, request)
    helper_name = seeker_name(ctx.member)
    text = [f"About your request: “{request.what}”."]
    who = ", ".join(x for x in (contact.role, contact.company) if x)
    if who:
        text.append(f"{contact.name}: {who}.")
    if reach:
        text.append(f"How to reach them: {reach}")
    if values.get("note"):
        text.append(f"{helper_name}'s note: “{values['note']}”")
    text.append(f"Name {helper_name} in your first line; it's why they'll say yes.")
    draft = drafts.pitch_draft(seeker, contact.name, helper_name, request.what)
    await notify(ctx, seeker, f"{helper_name} knows someone: {contact.name}", "\n".join(text), draft=draft, request=request,
                 contact=contact)
    return Reply(text=f"Thank you! I've sent {seeker_name(seeker)} the details, with you named as the referrer.")


async def close_request(ctx: Ctx, request: IntroRequest) -> Reply:
    if request.member_id != ctx.member.id:
        raise UserError(GONE)  # only the seeker closes it; to anyone else it isn't theirs to see
    if request.status != "open":
        return Reply(text=f"{request_ref(request)} is already {request.status}.")
    request.status = "closed"
    request.closed_at = ctx.now
    await n.cancel(ctx.session, ctx.member.id, [n.INTRO_STALE], ctx.now, intro_request_id=request.id)
    if request.channel_id:
        await sync_intro_post(ctx.session, request, ctx.member, ctx.now)  # the post shows it closed
    return Reply(text=f"Closed {request_ref(request)}. I hope it led somewhere good.")


async def close_by_ref(ctx: Ctx, ref: str) -> Reply:
    """`done R7`."""
    raw = ref.strip().lstrip("#")[1:]
    if not raw.isdigit():
        raise UserError("A request id looks like `R7`. Try: `/rapport done R7`")
    number = record_id(raw)
    request = await ctx.session.get(IntroRequest, number) if number is not None else None
    if request is None or request.member_id != ctx.member.id:
        raise UserError(f"You have no request R{raw}.")
    return await close_request(ctx, request)


async def _answer(ctx: Ctx, request: IntroRequest, accept: bool) -> Reply:
    if request.target_member_id != ctx.member.id:
        raise UserError(GONE)
    if _lapsed(request, ctx.now):
        request.status = "lapsed"
        return Reply(text="This request lapsed after a week without an answer; nothing to do. Thank you for looking!")
    if request.status != "open":
        return Reply(text=f"You already answered this one ({request.status}).")
    seeker = await _seeker(ctx, request)
    request.answered_at = ctx.now
    if not accept:
        request.status = "declined"
        await notify(ctx, seeker, f"{seeker_name(ctx.member)} can't make time right now",
                     "That's normal: people get busy, and it's no reflection on you. Try an open request "
                     "(`/rapport intro <what you seek>`) or `/rapport helpers` for others who have offered.",
                     request=request)
        return Reply(text="No problem. I've let them know kindly, without any detail.")
    request.status = "accepted"
    await _first_offer(ctx, request)
    await _seeker_contact(ctx, seeker, seeker_name(ctx.member), linked=ctx.member.user_id)
    await open_intro_conversation(ctx.session, request, seeker, ctx.member, ctx.now)
    await notify(ctx, seeker, f"{seeker_name(ctx.member)} accepted your introduction",
                 "I'm opening a conversation for you both. Suggest two or three times for a twenty-minute chat.",
                 draft=drafts.pitch_draft(seeker, seeker_name(ctx.member), None, request.what), request=request)
    return Reply(text=f"Thank you! I'm opening a conversation with {seeker_name(seeker)} for you both.")


# --- the helper directory -----------------------------------------------------------------


@handles(c.Offer)
async def offer(ctx: Ctx, cmd: c.Offer) -> Reply:
    """Joins, updates or leaves (`offer off`) the helper directory."""
    row = await ctx.session.scalar(select(HelperOffer).where(HelperOffer.member_id == ctx.member.id))
    if cmd.off:
        if row is None or not row.active:
            return Reply(text="You're not in the helper directory.")
        row.active = False
        return Reply(text="You've left the helper directory. Thank you for the help you gave.")
    if not (cmd.fields or cmd.companies or cmd.per_month) and row is not None and row.active:
        return Reply(title="You're in the helper directory", fields=_offer_fields(row),
                     context=f"Change it: `{OFFER_EXAMPLE}`; leave: `/rapport offer off`")
    per_month = DEFAULT_PER_MONTH if row is None else row.per_month
    if cmd.per_month:
        try:
            per_month = int(cmd.per_month)
        except ValueError:
            per_month = -1
        if not 1 <= per_month <= 20:
            raise UserError(f"`per-month:` is a number from 1 to 20. Try: `{OFFER_EXAMPLE}`")
    if row is None:
        row = HelperOffer(member_id=ctx.member.id, per_month=per_month, active=True, created_at=ctx.now)
        ctx.session.add(row)
    row.active = True
    row.per_month = per_month
    if cmd.fields:
        row.fields = cmd.fields
    if cmd.companies:
        row.companies = cmd.companies
    return Reply(title="You're in the helper directory. Thank you!", fields=_offer_fields(row),
                 context="Seekers whose ask matches may be pointed to you; you'll never be asked more than "
                 f"{_times(row.per_month)} a month.")


def _offer_fields(row: HelperOffer) -> tuple[tuple[str, str], ...]:
    return (("Fields", row.fields or "any"), ("Companies", row.companies or "any"), ("Per month", str(row.per_month)))


@handles(c.Helpers)
async def helpers(ctx: Ctx, cmd: c.Helpers) -> Reply:
    """Helpers in this community, optionally in one field, with capacity left."""
    rows = list(await ctx.session.execute(
        select(Member, HelperOffer)
        .join(HelperOffer, HelperOffer.member_id == Member.id)
        .where(HelperOffer.active.is_(True), Member.platform == ctx.member.platform,
               Member.workspace_id == ctx.member.workspace_id)
        .order_by(Member.display_name)
    ))
    if cmd.field:
        want = cmd.field.casefold()
        rows = [row for row in rows if want in (row[1].fields or "").casefold() or want in (row[1].companies or "").casefold()]
    # The member's own contacts (imported connections too) at the companies in question.
    companies = [cmd.field] if cmd.field else [x for _, o in rows for x in (o.companies or "").split(",")]
    own = await own_contacts_section(ctx, companies)
    if not rows:
        scope = f" in {cmd.field}" if cmd.field else ""
        return Reply(title=f"No helpers{scope} yet", text="Be the first: `/rapport offer fields: ...`. "
                     "Or post an open request and let the community answer: `/rapport intro <what you seek>`.",
                     sections=(own,) if own else ())
    sections = []
    for member, row in rows[:25]:
        left = max(0, row.per_month - len(await _asks_in_window(ctx, member.id)))
        sections.append(Section(
            title=member.display_name or "A helper",
            text=", ".join(x for x in (row.fields, row.companies) if x) or "open to chats",
            fields=(("This month", f"{left} of {row.per_month} left"),),
        ))
    if own is not None:
        sections.append(own)
    return Reply(title=f"Helpers ({len(rows)})", sections=tuple(sections),
                 context="Ask one: `/rapport intro @name note: what you'd like to learn`")
