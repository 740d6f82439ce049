"""The member's dashboard as a neutral ``Reply``: goal, upcoming nudges with their buttons,
meetings coming up and recent ones, and a button to log a meeting. Slack shows it as the
App Home tab; any platform can show it as a reply."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import nudges as n
from core.models import ContactRow, Meeting, Member, Nudge
from core.rules import member_zone
from core.timeparse import fmt_when
from core.ui import Button, Reply, Section

LOG_BUTTON = Button("Log a meeting", "run:log", "primary", "log")
NUDGES_SHOWN = 10
MEETINGS_SHOWN = 5


async def home_reply(session: AsyncSession, member: Member | None, now: dt.datetime, default_tz: str) -> Reply:
    """The dashboard of ``member``; a welcome for someone Rapport doesn't know yet."""
    if member is None:
        return Reply(
            title="Welcome to Rapport",
            text="Rapport coaches you through informational interviews: set a goal, log the people "
            "you meet, and I'll nudge you by DM when it's time to thank them, follow up or stay in touch.",
            buttons=(LOG_BUTTON,),
            context="Start with `/rapport goal <what you're looking for>`, or `/rapport help` for everything.",
        )
    tz = member_zone(member, default_tz)
    nudges = list(

            await session.execute(
                select(Nudge, ContactRow.name)
                .outerjoin(ContactRow, ContactRow.id == Nudge.contact_id)
                .where(Nudge.member_id == member.id, Nudge.status.in_(n.OPEN), Nudge.kind != n.DIGEST)
                .order_by(Nudge.due_at)
                .limit(NUDGES_SHOWN + 1)
            )

    )
    coming = list(

            await session.execute(
                select(Meeting, ContactRow.name)
                .join(ContactRow, ContactRow.id == Meeting.contact_id)
                .where(Meeting.member_id == member.id, Meeting.status == "scheduled", Meeting.at >= now - dt.timedelta(hours=1))
                .order_by(Meeting.at)
                .limit(MEETINGS_SHOWN)
            )

    )
    recent = list(

            await session.execute(
                select(Meeting, ContactRow.name)
                .join(ContactRow, ContactRow.id == Meeting.contact_id)
                .where(Meeting.member_id == member.id, Meeting.status == "held")
                .order_by(Meeting.at.desc())
                .limit(MEETINGS_SHOWN)
            )

    )
    sections: list[Section] = []
    goal = member.goal or "No goal yet. Say in one line what you're looking for: `/rapport goal <your goal>`"
    sections.append(Section(title="Your goal", text=goal))
    if nudges:
        more = "+" if len(nudges) > NUDGES_SHOWN else ""
        sections.append(Section(title=f"Upcoming nudges ({min(len(nudges), NUDGES_SHOWN)}{more})", text=""))
        for nudge, name in nudges[:NUDGES_SHOWN]:
            label = n.describe(nudge.kind, name, nudge.payload)
            state = "sent, waiting for you" if nudge.status == "sent" else f"due {fmt_when(nudge.due_at, tz)}"
            sections.append(Section(title=f"#{nudge.id} {label}", text=state, buttons=n.buttons(nudge.id, nudge.kind)))
    else:
        sections.append(
            Section(title="Upcoming nudges", text="Nothing waiting. Log a meeting or an outreach and I'll line up what comes next.")
        )
    if coming:
        lines = [f"• {name}, {fmt_when(m.at, tz)}" + (f" at {m.where}" if m.where else "") for m, name in coming]
        sections.append(Section(title="Coming up", text="\n".join(lines)))
    if recent:
        lines = [f"• {name}, {fmt_when(m.at, tz)}" + ("" if m.thanked_at else " (not thanked yet)") for m, name in recent]
        sections.append(Section(title="Recent meetings", text="\n".join(lines)))
    else:
        sections.append(Section(title="Recent meetings", text="None logged yet."))
    return Reply(
        title="Rapport",
        sections=tuple(sections),
        buttons=(LOG_BUTTON,),
        context="Type `/rapport help` for every command. Dates like “yesterday 3pm” work.",
    )
