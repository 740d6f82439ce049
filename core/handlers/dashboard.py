"""Organizers' web dashboard from chat: `admin dashboard` hands out a single-use sign-in
link; `admin dashboard logout` ends the organizer's dashboard sessions in this community.

Organizers only: the front door refuses anyone else with the same line as every admin verb.
The link goes in the command's private reply as a link button, which no adapter lets the
platform preview (and a preview's GET couldn't use it up anyway: see ``core/dashboard.py``).
"""

from __future__ import annotations

from core import commands as c
from core import dashboard
from core.context import Ctx
from core.registry import handles
from core.ui import Button, Reply


@handles(c.AdminDashboard)
async def admin_dashboard(ctx: Ctx, cmd: c.AdminDashboard) -> Reply:
    """A sign-in link to the community's dashboard, or (`logout`) the end of every session."""
    organizer = dashboard.Organizer(ctx.actor.platform, ctx.actor.workspace_id, ctx.actor.user_id)
    if cmd.logout:
        ended = await dashboard.end_sessions(ctx.session, organizer, ctx.now)
        if not ended:
            return Reply(text="You weren't signed in to the dashboard anywhere; nothing to end.")
        where = "one browser" if ended == 1 else f"{ended} browsers"
        return Reply(text=f"Signed you out of the dashboard in {where}.")
    link = await dashboard.issue_link(ctx.session, organizer, ctx.now)
    url = ctx.config.links.url(link.path)
    return Reply(
        title="Your dashboard link",
        text="It shows how introductions are going in this community: who asks and gets no offer, "
        "which fields need helpers, whether thank-yous go out on time. Open it and press Sign in.",
        buttons=(Button("Open the dashboard", url=url),),
        context="Just for you: it works once, for the next ten minutes. "
        "`/rapport admin dashboard logout` signs you out everywhere.",
    )
