"""Platform adapters: translate between a platform and the core's front door (``core.service``).

Adapters never import ``core.models``, SQLAlchemy or ``bot/``; the wiring hands them what
they need. A problem that stops an adapter from starting (a rejected token, say) is a
:class:`StartupError` with a one-line message for the operator.
"""


class StartupError(Exception):
    """An adapter can't start; the message is one line naming what to fix."""
