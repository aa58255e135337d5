"""Events of the notifications context (topic `notifications.events`).

Streams: `preferences-<user id>` (what a user wants to be told, on which channel) and
`delivery-<event id>:<user id>:<channel>` (one message's outcome; at most one per triple).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from portal_contracts.base import DomainEvent

Channel = Literal["email", "in_app"]


class NotificationEvent(DomainEvent):
    context: ClassVar[str] = "notifications"
    user_id: str
    account_id: str


class NotificationPreferencesChanged(NotificationEvent):
    """The user's switches after the change: category -> channel -> on/off."""

    event_type: ClassVar[str] = "NotificationPreferencesChanged"
    preferences: dict[str, dict[str, bool]]


class NotificationSent(NotificationEvent):
    """A message left on a channel: accepted by the mail server, or put in the bell list."""

    event_type: ClassVar[str] = "NotificationSent"
    delivery_id: str
    source_event_id: str
    channel: Channel
    category: str
    template: str
    attempts: int = 1


class NotificationFailed(NotificationEvent):
    """A message that will not be delivered: refused for good, or out of attempts."""

    event_type: ClassVar[str] = "NotificationFailed"
    delivery_id: str
    source_event_id: str
    channel: Channel
    category: str
    template: str
    attempts: int
    reason: str


class NotificationsRead(NotificationEvent):
    """Bell entries the user marked read (one, or all at once); stream `inbox-<user id>`.
    Lets a live bell count go down without asking notifications."""

    event_type: ClassVar[str] = "NotificationsRead"
    count: int
    notification_id: str | None = None
    """The one entry marked; None when all were."""
