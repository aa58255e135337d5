"""The service's subscriptions on the real Kafka broker (private topics, same wiring as
reactions.register): a redelivered event tells once; an event about something never seen
goes to the DLQ and the consumer moves on."""

from __future__ import annotations

import json
import uuid

import pytest
from faststream.kafka import KafkaBroker

from portal_chassis.bus import KafkaEventPublisher, make_broker
from portal_chassis.consumer import dlq_topic
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.identity import UserRegistered
from portal_contracts.registry import event_data
from portal_notifications import reactions
from portal_tests.helpers import eventually, read_topic

from . import samples as s

pytestmark = pytest.mark.integration


def envelope(event: DomainEvent, subject: str, version: int, event_id: str) -> EventEnvelope:
    return EventEnvelope(
        id=event_id,
        source=f"/portal/{event.context}",
        type=event.event_type,
        subject=subject,
        time=event.occurred_at,
        streamversion=version,
        data=event_data(event),
    )


@pytest.fixture
async def publisher(infra):
    broker = make_broker(infra.kafka_bootstrap_servers, client_id="test")
    await broker.start()
    yield KafkaEventPublisher(broker)
    await broker.stop()


async def test_redelivered_events_tell_once_and_poison_goes_to_the_dlq(
    infra, unique, publisher, notifications, catcher
):
    service, _ = notifications
    people, triggers = f"test-{unique}-people.events", f"test-{unique}-triggers.events"
    account, user = f"acc-{unique}", f"u-{unique}"
    email = f"{user}@example.com"
    registered = UserRegistered(
        user_id=user,
        account_id=account,
        email=email,
        name="Lan",
        role="owner",
        occurred_at=s.NOW,
    )
    paid = s.top_up().model_copy(update={"account_id": account})
    orphan_reply = s.ticket_replied().model_copy(update={"account_id": account})
    top_up_id, reply_id = str(uuid.uuid4()), str(uuid.uuid4())
    await publisher.publish([(people, envelope(registered, f"user-{user}", 1, str(uuid.uuid4())))])
    # Both topics exist before the consumer subscribes; an event that calls for no notice.
    noticed = s.repair_registered().model_copy(update={"account_id": account})
    await publisher.publish([(triggers, envelope(noticed, "repair-x", 1, str(uuid.uuid4())))])
    consumer = KafkaBroker(infra.kafka_bootstrap_servers)
    reactions.register(
        consumer,
        service,
        max_attempts=2,
        people_group=f"g-{unique}-people",
        triggers_group=f"g-{unique}-triggers",
        people_topics=[people],
        trigger_topics=[triggers],
    )
    await consumer.start()
    try:
        # The trigger is published once its recipient is known (two topics: no order).
        assert await eventually(lambda: service.people.find_one({"_id": user}), timeout=60)
        await publisher.publish(
            [
                (triggers, envelope(paid, f"wallet-{account}", 1, top_up_id)),
                (triggers, envelope(paid, f"wallet-{account}", 1, top_up_id)),  # redelivered
                # its ticket was never seen:
                (triggers, envelope(orphan_reply, "ticket-x", 2, reply_id)),
                (triggers, envelope(paid, f"wallet-{account}", 1, top_up_id)),  # and again
            ]
        )
        dead = await read_topic(
            infra.kafka_bootstrap_servers, dlq_topic(triggers), expect=1, timeout=90
        )

        async def mailed() -> int:
            await service.send_due()
            return len(catcher.messages(to=email))

        assert await eventually(mailed, timeout=30) == 1
    finally:
        await consumer.stop()
    assert [h["ce_id"] for h, _ in dead] == [reply_id]
    assert "FactMissing" in dead[0][0]["dlq_error"]
    assert json.loads(dead[0][1])["reply_id"] == "r-1"
    page = await service.inbox_page(user, limit=10, offset=0)
    assert page["total"] == 1 and page["unread"] == 1
    assert len(catcher.messages(to=email)) == 1
