"""Rapport on Slack: a thin slack-bolt AsyncApp over the core.

- ``runner.start_slack(app)``: builds the Bolt app, the Web API client and the platform,
  and serves HTTP mode (``POST /slack/events``) or Socket Mode.
- ``listeners``: slash command (with verified mentions), buttons, modal submissions, App
  Home, ``user_change``; all through the core's front door (``core.service.Rapport``).
- ``render``: the neutral UI (``core.ui``) as Block Kit, with user text escaped.
- ``platform``: ``core.ports.Platform`` for Slack (DMs for nudges, channel posts, group
  DMs), called by the core's dispatcher after commit.
- ``directory``: users.info, cached (time zone, organizer, display name, workspaces).
- ``oauth``: many workspaces: the install flow, on stores the wiring builds.
- ``seen``: Slack's retries handled once (keys recorded through the core).
"""

PLATFORM = "slack"
