"""Lookup of event classes by (type, version), with upcasters for old versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal_contracts import events as _events
from portal_contracts.base import DomainEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _catalogue() -> dict[str, type[DomainEvent]]:
    found: dict[str, type[DomainEvent]] = {}
    for name in _events.__all__:
        cls = getattr(_events, name)
        if isinstance(cls, type) and issubclass(cls, DomainEvent):
            found[cls.event_type] = cls  # type: ignore[attr-defined]
    return found


EVENT_CLASSES: dict[str, type[DomainEvent]] = _catalogue()

# (event type, from version) -> function turning that version's data into the next one.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownEventType(LookupError):
    pass


def event_class(event_type: str) -> type[DomainEvent]:
    try:
        return EVENT_CLASSES[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def parse_event(event_type: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
    """Build the current model of an event stored or published at any older version."""
    cls = event_class(event_type)
    version = schema_version
    while version < cls.schema_version:
        data = UPCASTERS[(event_type, version)](data)
        version += 1
    return cls.model_validate(data)


def event_data(event: DomainEvent) -> dict[str, Any]:
    return event.model_dump(mode="json")


def events_of(context: str) -> list[type[DomainEvent]]:
    """Every event type a context publishes, in catalogue order."""
    return [cls for cls in EVENT_CLASSES.values() if cls.context == context]
