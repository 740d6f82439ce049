"""Help, goal and settings."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core import commands as c
from core import nudges as n
from core.context import Ctx
from core.errors import UserError
from core.forms import FORMS
from core.registry import handles
from core.rules import parse_clock
from core.ui import Field, Form, Reply, Section

SETTINGS_EXAMPLE = c.SPECS["settings"].example

@handles(c.Help)
async def help_(ctx: Ctx, cmd: c.Help) -> Reply:
    """Lists the verbs with one example each; explains one verb in detail."""
    if cmd.topic:
        topic = cmd.topic.strip().lower().removeprefix("/rapport ").strip()
        spec = c.spec_for(topic)
        fields = [("Usage", spec.usage), ("Example", spec.example)]
        return Reply(title=f"/rapport {spec.verb}: {spec.summary}", text=spec.details, fields=tuple(fields))
    sections = []
    for group in c.GROUPS:
        specs = [spec for spec in c.SPECS.values() if spec.group == group]
        lines = [f"{spec.example}  ({spec.summary.rstrip('.')})" for spec in specs]
        sections.append(Section(title=group, text="\n".join(lines)))
    return Reply(
        title="Rapport: your informational-interview coach",
        text="Set a goal, meet people through the community, and I'll nudge you at the right moments.",
        sections=tuple(sections),
        context="`/rapport help <verb>` explains one command. Dates like “yesterday 3pm” or “next Tuesday 10am” work.",
    )


@handles(c.Goal)
async def goal(ctx: Ctx, cmd: c.Goal) -> Reply:
    """Sets or shows the member's goal."""
    if cmd.text is None:
        if ctx.member.goal:
            return Reply(title="Your goal", text=ctx.member.goal, context="Change it with `/rapport goal <new goal>`.")
        return Reply(
            title="You haven't set a goal yet",
            text="Be specific, so people can help: “entry-level digital marketing roles in Oregon” beats “anything”.",
            context="`/rapport goal product marketing at a B2B SaaS company`",
        )
    ctx.member.goal = " ".join(cmd.text.split())
    return Reply(
        title="Goal set",
        text=ctx.member.goal,
        context="Say it in one line at the start of every conversation; it makes you easy to help.",
    )


def _zone(text: str) -> str:
    name = text.strip()
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    lowered = {z.lower(): z for z in available_timezones()}
    guess = lowered.get(name.lower()) or lowered.get(name.lower().replace(" ", "_"))
    if guess:
        return guess
    raise UserError(f"I don't know the time zone “{name[:40]}”. Use an IANA name: `/rapport settings tz: Europe/Berlin`")


def _quiet(text: str) -> tuple[str, str]:
    value = text.strip().lower()
    if value in {"off", "none", "no"}:
        return "00:00", "00:00"
    try:
        start, end = (part.strip() for part in value.replace("–", "-").split("-", 1))
        return parse_clock(start).strftime("%H:%M"), parse_clock(end).strftime("%H:%M")
    except ValueError:
        raise UserError("`quiet:` takes a range like `21:00-08:00` (or `off`). Try: `/rapport settings quiet: 22:00-07:30`") from None


@handles(c.Settings)
async def settings(ctx: Ctx, cmd: c.Settings) -> Reply:
    """Shows or changes time zone, quiet hours, stay-in-touch cadence and the weekly digest."""
    member = ctx.member
    changed: list[str] = []
    if cmd.tz:
        member.tz = _zone(cmd.tz)
        changed.append("time zone")
    if cmd.quiet:
        member.quiet_start, member.quiet_end = _quiet(cmd.quiet)
        changed.append("quiet hours")
    if cmd.stay_in_touch:
        try:
            days = int(cmd.stay_in_touch.strip().removesuffix("days").strip())
        except ValueError:
            days = -1
        if not 7 <= days <= 365:
            raise UserError("`stay-in-touch:` is a number of days from 7 to 365. Try: `/rapport settings stay-in-touch: 60`")
        member.stay_in_touch_days = days
        changed.append("stay-in-touch cadence")
    if cmd.digest:
        value = cmd.digest.strip().lower()
        if value not in {"on", "off"}:
            raise UserError("`digest:` is on or off. Try: `/rapport settings digest: off`")
        member.digest = value == "on"
        if member.digest:
            await n.schedule_digest(ctx.session, member, ctx.now, ctx.default_tz)
        else:
            await n.cancel(ctx.session, member.id, [n.DIGEST], ctx.now)
        changed.append("weekly digest")
    quiet = "off" if member.quiet_start == member.quiet_end else f"{member.quiet_start}–{member.quiet_end}"
    tz_source = "your setting" if member.tz else ("from the platform" if member.platform_tz else "the community default")
    fields = (
        ("Time zone", f"{ctx.tz.key} ({tz_source})"),
        ("Quiet hours", quiet),
        ("Stay in touch every", f"{member.stay_in_touch_days} days"),
        ("Weekly digest", "on (Mondays 09:00)" if member.digest else "off"),
    )
    if changed:
        return Reply(title="Settings saved: " + ", ".join(changed), fields=fields)
    form = Form(
        FORMS["settings"].form_id,
        FORMS["settings"].title,
        tuple(
            Field(f.key, f.label, f.kind, f.required, f.placeholder, _initial(f.key, ctx, quiet), f.options, f.max_length)
            for f in FORMS["settings"].fields
        ),
        FORMS["settings"].submit_label,
    )
    return Reply(title="Your settings", fields=fields, form=form, context=f"Change one: `{SETTINGS_EXAMPLE}`")


def _initial(key: str, ctx: Ctx, quiet: str) -> str:
    member = ctx.member
    return {
        "tz": member.tz or "",
        "quiet": quiet.replace("–", "-"),
        "stay-in-touch": str(member.stay_in_touch_days),
        "digest": "on" if member.digest else "off",
    }.get(key, "")
