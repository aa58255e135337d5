"""Outbox relay, idempotent projections and the DLQ against the real Kafka broker."""

import asyncio
import json
import uuid
from typing import Any

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient, monitoring

from portal_chassis.bus import KafkaEventPublisher, make_broker
from portal_chassis.consumer import dlq_topic, subscribe
from portal_chassis.eventstore import EventStore
from portal_chassis.projection import apply_once
from portal_chassis.relay import Lease, OutboxRelay
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.wallet import WalletCredited
from portal_tests.helpers import credit, credit_envelope, envelopes, eventually, read_topic

pytestmark = pytest.mark.integration


class CrashAfterPublish(Exception):
    pass


class PublishThenCrash:
    """Publishes for real, then dies before the relay can mark the commits published."""

    def __init__(self, inner: KafkaEventPublisher) -> None:
        self.inner = inner

    async def publish(self, messages: Any) -> None:
        await self.inner.publish(messages)
        raise CrashAfterPublish


async def _balance_projection(collection: Any, envs: list[EventEnvelope]) -> dict[str, Any]:
    for env in envs:
        if env.type == "WalletCredited":
            await apply_once(
                collection,
                env.tenant,
                env,
                {
                    "$inc": {"credited": env.data["amount"], "count": 1},
                    "$set": {"balance": env.data["balance_after"]},
                },
            )
    doc = await collection.find_one({"_id": envs[0].tenant})
    assert doc is not None
    return {k: doc[k] for k in ("credited", "count", "balance")}


@pytest.fixture
async def broker(infra):
    b = make_broker(infra.kafka_bootstrap_servers, client_id="test")
    await b.start()
    yield b
    await b.stop()


async def test_relay_killed_between_publish_and_mark_republishes_and_projection_holds(
    infra, mongo_db, unique, broker
):
    store = EventStore(mongo_db)
    await store.setup()
    stream = f"wallet-{unique}"
    await store.append(stream, 0, [credit(unique, 100, 100, 1), credit(unique, 50, 150, 2)])
    await store.append(stream, 2, [credit(unique, 25, 175, 3)])

    crashing = OutboxRelay(store, PublishThenCrash(KafkaEventPublisher(broker)), service="t")
    with pytest.raises(CrashAfterPublish):
        await crashing.relay_once()
    assert await store.unpublished_count() == 2  # nothing was marked

    relay = OutboxRelay(store, KafkaEventPublisher(broker), service="t")
    assert await relay.relay_once() == 3
    assert await store.unpublished_count() == 0

    messages = await read_topic(
        infra.kafka_bootstrap_servers, "wallet.events", subject_prefix=stream, expect=6
    )
    envs = envelopes(messages)
    assert [e.streamversion for e in envs] == [1, 2, 3, 1, 2, 3]  # at least once, in order
    assert envs[0].type == "WalletCredited" and envs[0].specversion == "1.0"
    assert messages[0][0]["content-type"] == "application/json"
    assert messages[0][0]["ce_source"] == "/portal/t"
    assert await _balance_projection(mongo_db["balances"], envs) == {
        "credited": 175,
        "count": 3,
        "balance": 175,
    }


async def test_projection_fed_every_event_twice_ends_identical(mongo_db, unique):
    events = [credit(unique, 10 * i, 10 * i * (i + 1) // 2, i) for i in range(1, 6)]
    envs = [
        EventEnvelope(
            id=str(uuid.uuid4()),
            source="/t",
            type=e.event_type,
            subject=f"wallet-{unique}",
            time=e.occurred_at,
            streamversion=v,
            tenant=unique,
            data=e.model_dump(mode="json"),
        )
        for v, e in enumerate(events, start=1)
    ]
    once = await _balance_projection(mongo_db["once"], envs)
    twice = await _balance_projection(mongo_db["twice"], [e for e in envs for _ in (0, 1)])
    replayed = await _balance_projection(mongo_db["replayed"], envs + envs)
    assert once == twice == replayed == {"credited": 150, "count": 5, "balance": 150}


async def test_only_one_relay_holds_the_lease(mongo_db, unique):
    a = Lease(mongo_db, f"relay:{unique}", "a", ttl=0.5)
    b = Lease(mongo_db, f"relay:{unique}", "b", ttl=0.5)
    assert await a.acquire()
    assert not await b.acquire()
    assert await a.acquire()  # renewal
    await asyncio.sleep(0.7)  # a stops renewing: b takes over after expiry
    assert await b.acquire()
    assert not await a.acquire()


async def test_relay_wakes_at_once_after_an_append(infra, mongo_db, unique, broker):
    store = EventStore(mongo_db)
    await store.setup()
    relay = OutboxRelay(store, KafkaEventPublisher(broker), service=f"w{unique}", poll_seconds=30.0)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)
        await store.append(f"wallet-{unique}", 0, [credit(unique, 1, 1)])

        async def relayed() -> bool:
            return await store.unpublished_count() == 0

        # Far sooner than the 30 s poll: the append notified the relay.
        assert await eventually(relayed, timeout=5)
    finally:
        relay.stop()
        await asyncio.wait_for(task, 10)


async def test_poison_message_goes_to_the_dlq_and_later_messages_are_processed(
    infra, unique, broker
):
    topic = f"test-{unique}.events"
    consumer_broker = KafkaBroker(infra.kafka_bootstrap_servers)
    seen: list[str] = []

    async def handler(envelope: EventEnvelope, event: Any) -> None:
        if isinstance(event, WalletCredited) and event.reference == "poison":
            raise RuntimeError("cannot handle this one")
        seen.append(event.reference)

    subscribe(consumer_broker, [topic], f"g-{unique}", handler, max_attempts=2, retry_delay=0.01)

    publisher = KafkaEventPublisher(broker)
    await publisher.publish([(topic, credit_envelope(unique, "before", 1))])
    await broker.publish(
        b"not json at all", topic, key=f"s-{unique}".encode(), headers={"x": "garbage"}
    )
    await publisher.publish(
        [
            (topic, credit_envelope(unique, "poison", 2)),
            (topic, credit_envelope(unique, "after", 3)),
        ]
    )
    await consumer_broker.start()
    try:

        async def done() -> bool:
            return "after" in seen

        assert await eventually(done, timeout=60)
    finally:
        await consumer_broker.stop()
    assert seen == ["before", "after"]
    dead = await read_topic(infra.kafka_bootstrap_servers, dlq_topic(topic), expect=2)
    assert len(dead) == 2
    assert "undecodable" in dead[0][0]["dlq_error"]
    assert "cannot handle this one" in dead[1][0]["dlq_error"]
    assert json.loads(dead[1][1])["reference"] == "poison"


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        self.seen.append((target if isinstance(target, str) else "", event.command_name))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_one_relay_batch_costs_a_fixed_number_of_round_trips(infra, unique, broker):
    """Reading 5 pending commits is one outbox read and one commits read (not one per
    commit), marking them one delete, and a backlog smaller than a batch is not counted."""
    listener = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infra.mongodb_uri, tz_aware=True, event_listeners=[listener]
    )
    db = client[f"test_{unique}"]
    try:
        store = EventStore(db)
        await store.setup()
        for i in range(5):
            await store.append(f"wallet-{unique}-{i}", 0, [credit(unique, 1, 1, i)])
        relay = OutboxRelay(store, KafkaEventPublisher(broker), service=f"rt{unique}")
        listener.seen.clear()
        assert await relay.relay_once() == 5
        assert sorted(listener.seen) == [
            ("commits", "find"),
            ("outbox", "delete"),
            ("outbox", "find"),
        ]
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_relay_recovers_from_a_producer_left_with_a_sequence_gap(
    infra, mongo_db, unique, broker
):
    """A batch lost while the broker restarted leaves a gap in the idempotent producer's
    sequence numbers; the broker then refuses every later batch of that partition
    (OutOfOrderSequenceNumber). The relay's next try goes out on a new producer."""
    store = EventStore(mongo_db)
    await store.setup()
    stream = f"wallet-{unique}"
    relay = OutboxRelay(store, KafkaEventPublisher(broker), service=f"gap{unique}")
    await store.append(stream, 0, [credit(unique, 100, 100, 1)])
    assert await relay.relay_once() == 1
    # The gap, as a batch that never reached the broker leaves it.
    producer = broker.config.broker_config.producer._producer.producer
    for tp in list(producer._txn_manager._sequence_numbers):
        producer._txn_manager.increment_sequence_number(tp, 3)
    await store.append(stream, 1, [credit(unique, 50, 150, 2)])
    with pytest.raises(OutOfOrderSequenceNumber):
        await relay.relay_once()
    assert await store.unpublished_count() == 1
    assert await relay.relay_once() == 1  # on a new producer
    assert await store.unpublished_count() == 0
    found = await read_topic(
        infra.kafka_bootstrap_servers, "wallet.events", subject_prefix=stream, expect=2
    )
    assert [json.loads(value)["amount"] for _, value in found] == [100, 50]
