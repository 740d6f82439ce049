"""Platform side effects, as durable rows (the transactional outbox).

A handler never calls Slack or Discord. What it wants done on a platform (the intro
request's channel post, an update of that post, a conversation between two members) is an
:class:`~core.models.Effect` row written in the command's own transaction. The dispatcher
carries it out after the commit, under a lease, with retries and rate limits obeyed, and
writes the outcome back (the post's reference, the conversation's id). So a command that
rolls back posts nothing, nothing waits on a platform with a transaction open, and a post
that fails for a moment is retried rather than lost.

Effects are rendered when they are carried out, from the rows as they are then: a request
closed before its first post went out is posted closed, not posted open and then updated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import drafts
from core.models import Community, Effect, IntroRequest, Member
from core.ui import Button, Reply

INTRO_POST = "intro-post"  # post the request in the intro channel, or bring the post up to date
INTRO_CONVERSATION = "intro-conversation"  # open a conversation for an accepted introduction

KIND_LABELS = {INTRO_POST: "intro channel post", INTRO_CONVERSATION: "introduction conversation"}


async def sync_intro_post(session: AsyncSession, request: IntroRequest, seeker: Member, now: dt.datetime) -> None:
    """Asks for the request's channel post to show its current state (posted if new).

    One pending sync per request is enough: it renders whatever the request is by then.
    """
    already = await session.scalar(
        select(Effect.id).where(
            Effect.intro_request_id == request.id, Effect.kind == INTRO_POST, Effect.status == "pending"
        )
    )
    if already is None:
        session.add(_effect(INTRO_POST, seeker, request, now))


async def open_intro_conversation(session: AsyncSession, request: IntroRequest, seeker: Member, helper: Member, now: dt.datetime) -> None:
    """Asks for a conversation between the seeker and the helper who accepted."""
    effect = _effect(INTRO_CONVERSATION, seeker, request, now)
    effect.payload = {"helper_member_id": helper.id}
    session.add(effect)


def _effect(kind: str, seeker: Member, request: IntroRequest, now: dt.datetime) -> Effect:
    return Effect(
        platform=seeker.platform,
        workspace_id=seeker.workspace_id,
        kind=kind,
        status="pending",
        due_at=now,
        attempts=0,
        member_id=seeker.id,
        intro_request_id=request.id,
        created_at=now,
    )


# --- carrying them out (the dispatcher) ------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """The platform call an effect comes to, rendered from the rows as they are now."""

    action: Literal["post", "update", "conversation", "nothing", "wait"]
    channel_id: str | None = None
    message_ref: str | None = None
    reply: Reply | None = None
    user_ids: tuple[str, ...] = ()
    why: str = ""


def seeker_name(member: Member) -> str:
    return member.display_name or "Someone in the community"


def channel_post(seeker: Member, request: IntroRequest, closed: bool = False) -> Reply:
    """The intro-channel post: only the goal and the ask (never notes)."""
    fields = []
    if seeker.goal:
        fields.append(("Goal", seeker.goal))
    if closed:
        return Reply(
            title=f"{seeker_name(seeker)} found what they needed",
            text=f"Was looking for: {request.what}",
            fields=tuple(fields),
            context="Closed. Thank you to everyone who helped.",
        )
    return Reply(
        title=f"{seeker_name(seeker)} is looking for an introduction",
        text=request.what or "",
        fields=tuple(fields),
        buttons=(
            Button("I'd be glad to chat", f"intro:glad:{request.id}", "primary"),
            Button("I know someone", f"intro:know:{request.id}"),
        ),
        context="Twenty minutes of advice, not a job. Introductions are how this community works.",
    )


async def render(session: AsyncSession, effect: Effect, now: dt.datetime) -> Call:
    """What carrying out ``effect`` means now. ``nothing`` when there is no longer anything
    to do; ``wait`` when an earlier post of the same request is still on its way."""
    request = await session.get(IntroRequest, effect.intro_request_id) if effect.intro_request_id else None
    if request is None:
        return Call("nothing", why="the request is gone")
    seeker = await session.get(Member, request.member_id)
    if seeker is None:
        return Call("nothing", why="the member is gone")
    if effect.kind == INTRO_POST:
        if not request.channel_id:
            return Call("nothing", why="no channel")
        closed = request.status != "open"
        reply = channel_post(seeker, request, closed=closed)
        if request.message_ref:
            return Call("update", request.channel_id, request.message_ref, reply)
        in_flight = await session.scalar(
            select(Effect.id).where(
                Effect.intro_request_id == request.id,
                Effect.kind == INTRO_POST,
                Effect.status == "sending",
                Effect.id != effect.id,
                Effect.lease_until > now,
            )
        )
        if in_flight is not None:
            return Call("wait", why="the first post is on its way")
        return Call("post", request.channel_id, None, reply)
    if effect.kind == INTRO_CONVERSATION:
        helper_id = (effect.payload or {}).get("helper_member_id")
        helper = await session.get(Member, helper_id) if isinstance(helper_id, int) else None
        if helper is None:
            return Call("nothing", why="the helper is gone")
        community = await session.get(Community, request.community_id)
        starter = drafts.introduction_starter(seeker, helper, request.what, request.note)
        return Call(
            "conversation",
            community.intro_channel_id if community else None,
            None,
            starter,
            user_ids=(seeker.user_id, helper.user_id),
        )
    return Call("nothing", why=f"unknown kind {effect.kind}")


async def record(session: AsyncSession, effect_id: int, result: str | None) -> None:
    """Writes a carried-out effect's result back where later effects will look for it."""
    effect = await session.get(Effect, effect_id)
    if effect is None or effect.intro_request_id is None or not result:
        return
    request = await session.get(IntroRequest, effect.intro_request_id)
    if request is None:
        return
    if effect.kind == INTRO_POST and not request.message_ref:
        request.message_ref = result[:64]
    elif effect.kind == INTRO_CONVERSATION:
        request.conversation_ref = result[:100]


def failure_notice(effect: Effect, request: IntroRequest | None, channel_label: str) -> tuple[str, str]:
    """What the member who asked is told when an effect failed for good: (title, text)."""
    if effect.kind == INTRO_POST:
        return (
            "Your intro request couldn't be posted",
            f"I couldn't post {('R' + str(request.id)) if request else 'your request'} in {channel_label}: "
            "I may not be in that channel, or it's gone. Ask an organizer to invite me there or to pick "
            "another channel with `/rapport admin channel`. Meanwhile, `/rapport helpers` lists people you "
            "can ask directly.",
        )
    return (
        "I couldn't open your introduction's conversation",
        "The introduction was accepted, but I couldn't open a conversation for the two of you, or reach "
        "you both by DM. Message each other directly: you'll find each other in the member list. If it "
        "keeps happening, an organizer can check that I'm allowed to message members here.",
    )
