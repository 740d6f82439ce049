"""Handlers, one module per area; importing this package registers them all."""

from core.handlers import basics, contacts, meetings, nudges, outreach, privacy  # noqa: F401
