"""Every subscription of the notifications service, in one place; handlers stay thin.

- identity.events -> who is who (address, name, role, language) per account, mails with a
  one-time link (reset, verification) and security notices (password, two-factor).
- wallet, billing, tickets, repairs and CRM events -> the notices they call for (and the
  care activities whose daily reminder `NotificationsService.remind_care_due` sends).
Both use the chassis consumer: commit after the effect is stored, the DLQ after
`max_attempts` failures of the event itself (e.g. a ticket reply whose ticket was never seen).
"""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from portal_chassis.consumer import subscribe
from portal_contracts.events.billing import BillingEvent
from portal_contracts.events.crm import CrmEvent
from portal_contracts.events.identity import IdentityEvent
from portal_contracts.events.repairs import RepairEvent
from portal_contracts.events.tickets import TicketEvent
from portal_contracts.events.wallet import WalletEvent
from portal_notifications.handlers import NotificationsService

TRIGGER_TOPICS = [
    WalletEvent.topic(),
    BillingEvent.topic(),
    TicketEvent.topic(),
    RepairEvent.topic(),
    CrmEvent.topic(),
]


def register(
    broker: KafkaBroker,
    service: NotificationsService,
    *,
    max_attempts: int,
    people_group: str = "notifications-people",
    triggers_group: str = "notifications-triggers",
    people_topics: Sequence[str] = (IdentityEvent.topic(),),
    trigger_topics: Sequence[str] = tuple(TRIGGER_TOPICS),
) -> None:
    subscribe(
        broker,
        people_topics,
        people_group,
        service.on_identity_event,
        max_attempts=max_attempts,
    )
    subscribe(broker, trigger_topics, triggers_group, service.on_event, max_attempts=max_attempts)
