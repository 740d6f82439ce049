"""Errors the core reports to members."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused action. The message is one line, shown as is, and says
    what was wrong and how to say it right. Raising it rolls the command back.

    ``field`` names the input it is about (a grammar key such as ``when``, or
    ``subject``), so a form can show the error beside that field.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        # One line, whatever the member typed into the values it quotes.
        message = " ".join(message.splitlines())
        super().__init__(message)
        self.message = message
        self.field = field
