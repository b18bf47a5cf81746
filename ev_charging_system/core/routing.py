"""Typed routing of station messages to handler methods.

`@on(Action.heartbeat)` marks a method as the handler of an action, like the `ocpp`
library's decorator of the same name, but it returns the method with its own type (the
library's is untyped and would make every handler `Any`). `routes_of(cls)` collects the
marked methods of a class and its bases once, when the class is created.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

Handler = Callable[..., Awaitable[Any]]
H = TypeVar("H", bound=Handler)

_ACTION_ATTRIBUTE = "__ocpp_action__"


def action_name(action: str) -> str:
    """`Action.boot_notification` (a str enum of the library) -> "BootNotification"."""
    return str(action.value) if isinstance(action, Enum) else str(action)


def on(action: str) -> Callable[[H], H]:
    """Mark an async method as the handler of the OCPP action `action`."""

    def mark(handler: H) -> H:
        setattr(handler, _ACTION_ATTRIBUTE, action_name(action))
        return handler

    return mark


def routes_of(cls: type) -> Mapping[str, str]:
    """Action -> method name for every `@on` method of `cls` (subclasses override)."""
    routes: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        names_here: dict[str, str] = {}
        for name, member in vars(klass).items():
            action = getattr(member, _ACTION_ATTRIBUTE, None)
            if not isinstance(action, str):
                continue
            if action in names_here:
                raise TypeError(
                    f"{klass.__name__} handles {action} twice: {names_here[action]} and {name}"
                )
            names_here[action] = name
        routes.update(names_here)
    return routes
