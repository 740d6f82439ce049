"""Handlers, one module per area; importing this package registers them all."""

from core.handlers import (  # noqa: F401
    basics,
    community,
    contacts,
    dashboard,
    intros,
    meetings,
    network,
    nudges,
    outreach,
    privacy,
)
