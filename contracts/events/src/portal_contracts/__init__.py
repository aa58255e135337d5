"""The event catalogue shared by every context: models, envelope, schemas."""

from portal_contracts.base import CurrencyCode, DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.registry import event_class, event_data, parse_event

__all__ = [
    "CurrencyCode",
    "DomainEvent",
    "EventEnvelope",
    "event_class",
    "event_data",
    "parse_event",
]
