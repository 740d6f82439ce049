"""Handlers, one module per area; importing this package registers them all."""

from core.handlers import basics, community, contacts, intros, meetings, nudges, outreach, privacy  # noqa: F401
