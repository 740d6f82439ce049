"""Errors the core reports to members."""


class UserError(Exception):
    """Bad input or a refused action. The message is one line, shown as is, and says
    what was wrong and how to say it right. Raising it rolls the command back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
