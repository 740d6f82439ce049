"""Help, goal and settings."""

from __future__ import annotations

import difflib
import functools
from zoneinfo import available_timezones

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


# What people type for the zones they mean, where it isn't a zone's name.
_SPOKEN_ZONES = {
    "pacific": ("America/Los_Angeles", "US Pacific time"),
    "pacific time": ("America/Los_Angeles", "US Pacific time"),
    "pt": ("America/Los_Angeles", "US Pacific time"),
    "pst": ("America/Los_Angeles", "US Pacific time"),
    "pdt": ("America/Los_Angeles", "US Pacific time"),
    "mountain": ("America/Denver", "US Mountain time"),
    "mountain time": ("America/Denver", "US Mountain time"),
    "mt": ("America/Denver", "US Mountain time"),
    "mdt": ("America/Denver", "US Mountain time"),
    "central": ("America/Chicago", "US Central time"),
    "central time": ("America/Chicago", "US Central time"),
    "ct": ("America/Chicago", "US Central time"),
    "cst": ("America/Chicago", "US Central time"),
    "cdt": ("America/Chicago", "US Central time"),
    "eastern": ("America/New_York", "US Eastern time"),
    "eastern time": ("America/New_York", "US Eastern time"),
    "et": ("America/New_York", "US Eastern time"),
    "edt": ("America/New_York", "US Eastern time"),
    "bst": ("Europe/London", "UK time"),
    "cest": ("Europe/Berlin", "Central European time"),
    "ist": ("Asia/Kolkata", "India"),
    "aest": ("Australia/Sydney", "Australian Eastern time"),
}


# Old names kept as links in the zone database; suggest the zones they point to instead.
_LEGACY_AREAS = {"US", "Canada", "Brazil", "Chile", "Mexico", "Etc", "SystemV"}


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA zone, by its lower-cased name."""
    return {z.lower(): z for z in available_timezones() if z != "localtime"}


def _zone(text: str) -> str:
    """An IANA zone from what the member typed: its name in any case (``america/new york``),
    or a city that names exactly one zone (``Berlin``). Anything else is a one-line refusal
    with the closest zones."""
    name = " ".join(text.split())
    key = name.lower().replace(" ", "_")
    zones = _zones()
    if key in zones:
        return zones[key]
    cities = [z for k, z in zones.items() if "/" in k and k.rsplit("/", 1)[1] == key]
    if len(cities) == 1:
        return cities[0]
    suggestions: list[str] = []
    spoken = _SPOKEN_ZONES.get(name.lower())
    if spoken:
        suggestions.append(f"{spoken[0]} ({spoken[1]})")
    region = sorted(z for k, z in zones.items() if k.startswith(key + "/"))
    close = difflib.get_close_matches(key, list(zones), n=3, cutoff=0.6)
    close += [zones[k] for k in difflib.get_close_matches(key, [k.rsplit("/", 1)[-1] for k in zones], n=3, cutoff=0.75)
              if k in zones]
    by_city = {k.rsplit("/", 1)[-1]: z for k, z in zones.items()}
    close += [by_city[k] for k in difflib.get_close_matches(key, list(by_city), n=3, cutoff=0.75)]
    for zone in [*cities, *region[:2], *(zones.get(k, k) for k in close)]:
        legacy = "/" not in zone or zone.split("/", 1)[0] in _LEGACY_AREAS
        if not legacy and zone not in suggestions and not any(x.startswith(zone + " ") for x in suggestions):
            suggestions.append(zone)
    example = suggestions[0].split(" (")[0] if suggestions else "Europe/Berlin"
    hint = f" Did you mean {_or(suggestions[:3])}?" if suggestions else " Use a zone's full name, like Europe/Berlin or America/New_York."
    raise UserError(f"I don't know the time zone “{name[:40]}”.{hint} Try: `/rapport settings tz: {example}`", field="tz")


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


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
    note = ""
    if cmd.name:
        if ctx.actor.display_name:
            raise UserError("Your name comes from your profile on this platform; change it there and I'll follow.", field="name")
        member.display_name = " ".join(cmd.name.split())
        changed.append("name")
    if cmd.tz:
        before = ctx.tz
        member.tz = _zone(cmd.tz)
        moved = await n.rezone(ctx.session, member.id, before, ctx.tz, ctx.now)
        changed.append("time zone")
        if moved:
            note = f"Your {moved} pending nudge{'s keep their' if moved != 1 else ' keeps its'} local time in {ctx.tz.key}."
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
        ("Name", member.display_name or "not set: `/rapport settings name: Dana Smith`"),
        ("Time zone", f"{ctx.tz.key} ({tz_source})"),
        ("Quiet hours", quiet),
        ("Stay in touch every", f"{member.stay_in_touch_days} days"),
        ("Weekly digest", "on (Mondays 09:00)" if member.digest else "off"),
    )
    if changed:
        return Reply(title="Settings saved: " + ", ".join(changed), fields=fields, context=note)
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
