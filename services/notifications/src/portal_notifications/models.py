"""The notifications HTTP contract: typed bodies and answers (see portal_chassis.contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from portal_chassis.contract import Out, Strict
from portal_notifications.domain import CHANNELS, MANDATORY, Preferences

Category = Literal["security", "billing_receipts", "billing", "support", "repairs", "crm"]
DeliveryCategory = Literal[
    "security", "billing_receipts", "billing", "support", "repairs", "crm", "digest"
]
"""A delivery's category: a message's, or `digest` (mails the rate limit held back, listed
in one mail at the end of the window)."""


class NotificationOut(Out):
    id: str
    category: Category
    template: str = Field(description="What kind of message, e.g. `top_up_received`")
    title: str
    body: str
    created_at: datetime
    read: bool
    read_at: datetime | None = None
    link: str | None = Field(
        default=None, description="The web portal's path of what it is about, e.g. `/invoices/…`"
    )


class NotificationsPage(Out):
    """One page of the bell list, newest first, and how many are unread in all."""

    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


class MarkedReadOut(Out):
    marked: int = Field(description="Entries that were unread and are read now")
    unread: int


class ChannelSwitchesIn(Strict):
    email: bool | None = None
    in_app: bool | None = None


class PreferencesIn(Strict):
    """Categories to change, each with the channels to switch on or off; what is left out
    stays as it is. `security` and `billing_receipts` cannot be switched off."""

    security: ChannelSwitchesIn | None = None
    billing_receipts: ChannelSwitchesIn | None = None
    billing: ChannelSwitchesIn | None = None
    support: ChannelSwitchesIn | None = None
    repairs: ChannelSwitchesIn | None = None
    crm: ChannelSwitchesIn | None = None
    """Staff: leads assigned to them and their care activities due today."""

    def changes(self) -> dict[str, dict[str, bool]]:
        return {
            category: {c: on for c, on in switches.model_dump().items() if on is not None}
            for category, switches in self
            if switches is not None
        }


class ChannelSwitchesOut(Out):
    email: bool
    in_app: bool


class CategoryOut(Out):
    category: Category
    channels: ChannelSwitchesOut
    mandatory: bool = Field(description="Cannot be switched off")


class PreferencesOut(Out):
    categories: list[CategoryOut]

    @classmethod
    def of(cls, preferences: Preferences) -> PreferencesOut:
        return cls(
            categories=[
                CategoryOut(
                    category=category,  # type: ignore[arg-type]
                    channels=ChannelSwitchesOut(
                        **{c: category in MANDATORY or switches.get(c, True) for c in CHANNELS}
                    ),
                    mandatory=category in MANDATORY,
                )
                for category, switches in preferences.switches.items()
            ]
        )


class UnsubscribedOut(Out):
    category: Category = Field(description="The category whose mail is switched off now")
    preferences: PreferencesOut


DeliveryStatus = Literal["queued", "sending", "sent", "failed", "suppressed"]
Channel = Literal["email", "in_app"]


class DeliveryOut(Out):
    """One message to one person on one channel, as the sender sees it."""

    id: str
    recipient: str = Field(description="The address a mail went to (in-app: the user's)")
    user_id: str
    account_id: str
    template: str
    category: DeliveryCategory
    channel: Channel
    status: DeliveryStatus = Field(
        description="`suppressed`: held back by the per-person rate limit, never sent"
    )
    attempts: int
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    failed_at: datetime | None = None


class DeliveriesPage(Out):
    """Deliveries, newest first."""

    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int
