"""Where handlers register: one per command class, one per button prefix, one per form.

Importing :mod:`core.handlers` fills these; :class:`core.service.Rapport` reads them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core import commands as c
from core.context import Ctx
from core.ui import Reply

Handler = Callable[[Ctx, Any], Awaitable[Reply]]
ButtonHandler = Callable[[Ctx, list[str]], Awaitable[Reply]]
FormHandler = Callable[[Ctx, list[str], dict[str, str]], Awaitable[Reply]]

HANDLERS: dict[type[c.Command], Handler] = {}
BUTTONS: dict[str, ButtonHandler] = {}
FORM_HANDLERS: dict[str, FormHandler] = {}

H = TypeVar("H", bound=Handler)
B = TypeVar("B", bound=ButtonHandler)
F = TypeVar("F", bound=FormHandler)


def handles(cls: type[c.Command]) -> Callable[[H], H]:
    """Registers a handler for a command class."""

    def register(fn: H) -> H:
        HANDLERS[cls] = fn
        return fn

    return register


def on_button(prefix: str) -> Callable[[B], B]:
    """Registers a handler for buttons whose action id starts with ``prefix:``."""

    def register(fn: B) -> B:
        BUTTONS[prefix] = fn
        return fn

    return register


def on_form(name: str) -> Callable[[F], F]:
    """Registers a handler for forms ``form:<name>:<args>`` that are not a verb's form."""

    def register(fn: F) -> F:
        FORM_HANDLERS[name] = fn
        return fn

    return register
