"""The Discord adapter (discord.py): one `/rapport` command, modals, persistent buttons, DMs.

Thin by design: callbacks acknowledge (or defer), translate into the core's commands,
dispatch to :class:`core.service.Rapport`, and render its neutral :class:`core.ui.Reply`.
``runner.start_discord(app)`` is the entry point ``bot/app.py`` uses; nothing here reads
the environment or connects at import time.
"""

PLATFORM = "discord"
