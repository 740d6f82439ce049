"""Rapport on Slack: a thin slack-bolt AsyncApp over the core.

- ``runner.start_slack(app)``: builds the Bolt app, the Web API client and the platform,
  and serves HTTP mode (``POST /slack/events``) or Socket Mode.
- ``listeners``: slash command, buttons, modal submissions, App Home, ``user_change``.
- ``render``: the neutral UI (``core.ui``) as Block Kit, with user text escaped.
- ``platform``: ``core.ports.Platform`` for Slack (DMs for nudges, channel posts, group DMs).
- ``directory``: users.info, cached (time zone, organizer, display name).
- ``oauth``: many workspaces: install flow and installations in our own database.
"""

PLATFORM = "slack"
