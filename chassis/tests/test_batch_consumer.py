"""Batch consumers against the real Kafka broker: streams run concurrently, each in
order; effects stay exactly-once when a batch is delivered again; a poison message in
a batch goes to the DLQ and its neighbours are handled."""

import asyncio
import json
import random
import uuid
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from portal_chassis.bus import KafkaEventPublisher, make_broker
from portal_chassis.consumer import Record, dlq_topic, lanes, subscribe
from portal_chassis.projection import apply_once
from portal_contracts.envelope import EventEnvelope
from portal_tests.helpers import credit, eventually, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
async def broker(infra):
    b = make_broker(infra.kafka_bootstrap_servers, client_id="test")
    await b.start()
    yield b
    await b.stop()


def envelope(stream: str, version: int, tenant: str | None = None) -> EventEnvelope:
    e = credit(tenant or stream, version, version, version)
    return EventEnvelope(
        id=str(uuid.uuid4()),
        source="/t",
        type=e.event_type,
        subject=stream,
        time=e.occurred_at,
        streamversion=version,
        tenant=tenant,
        data=e.model_dump(mode="json"),
    )


def test_a_batch_splits_into_lanes_by_key_and_tenant_in_arrival_order():
    def rec(key: str, version: int, tenant: str | None = None) -> Record:
        env = envelope(key, version, tenant)
        return Record("t", key.encode(), b"", {}, envelope=env)

    batch = [
        rec("a", 1, "acc1"),
        rec("b", 1),
        rec("c", 1, "acc1"),  # another stream of account acc1: a's lane
        rec("a", 2, "acc1"),
        rec("b", 2),
        rec("d", 1),
    ]
    got = sorted(
        ([(r.key, r.envelope.streamversion) for r in lane if r.envelope] for lane in lanes(batch)),
        key=lambda lane: lane[0],
    )
    assert got == [
        [(b"a", 1), (b"c", 1), (b"a", 2)],
        [(b"b", 1), (b"b", 2)],
        [(b"d", 1)],
    ]


async def test_each_stream_keeps_its_order_while_streams_run_concurrently(infra, unique, broker):
    topic = f"test-{unique}.events"
    streams = [f"s{i}-{unique}" for i in range(8)]
    per_stream = 15
    handled: dict[str, list[int]] = {s: [] for s in streams}
    running = 0
    most_at_once = 0

    async def handler(env: EventEnvelope, event: Any) -> None:
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        await asyncio.sleep(random.uniform(0, 0.01))  # lanes interleave
        handled[env.subject].append(env.streamversion)
        running -= 1

    # Interleaved across streams, as a relay of several services would publish them.
    publisher = KafkaEventPublisher(broker)
    await publisher.publish(
        [(topic, envelope(s, v)) for v in range(1, per_stream + 1) for s in streams]
    )
    consumer = KafkaBroker(infra.kafka_bootstrap_servers)
    subscribe(consumer, [topic], f"g-{unique}", handler)
    await consumer.start()
    try:

        async def done() -> bool:
            return all(len(v) == per_stream for v in handled.values())

        assert await eventually(done, timeout=60)
    finally:
        await consumer.stop()
    assert all(v == list(range(1, per_stream + 1)) for v in handled.values()), handled
    assert most_at_once > 1  # different streams did run concurrently


async def test_a_batch_delivered_again_changes_nothing(infra, unique, broker, mongo_db):
    """The first consumer handles every event but dies before its offset commit; the
    second one in the same group gets the batch again (plus duplicates the relay may
    publish), and the effects are those of one delivery."""
    topic = f"test-{unique}.events"
    group = f"g-{unique}"
    balances = mongo_db["balances"]
    streams = [f"s{i}-{unique}" for i in range(4)]
    envs = [envelope(s, v, tenant=s) for v in range(1, 6) for s in streams]
    calls: list[str] = []
    last = envs[-1].id
    blocked = asyncio.Event()

    async def project(env: EventEnvelope, event: Any) -> None:
        calls.append(env.id)
        await apply_once(
            balances,
            env.subject,
            env,
            {"$inc": {"credited": event.amount, "count": 1}, "$set": {"at": env.streamversion}},
        )

    async def project_then_hang(env: EventEnvelope, event: Any) -> None:
        await project(env, event)
        if env.id == last:
            blocked.set()
            await asyncio.sleep(3600)  # "crashes" before the batch is committed

    publisher = KafkaEventPublisher(broker)
    await publisher.publish([(topic, e) for e in envs])
    first = KafkaBroker(infra.kafka_bootstrap_servers, graceful_timeout=0.5)
    subscribe(first, [topic], group, project_then_hang)
    await first.start()
    try:
        await asyncio.wait_for(blocked.wait(), 60)
    finally:
        await first.stop()
    first_calls = len(calls)
    assert first_calls == len(envs)

    await publisher.publish([(topic, e) for e in envs[:6]])  # a relay's re-publication
    second = KafkaBroker(infra.kafka_bootstrap_servers)
    subscribe(second, [topic], group, project)
    await second.start()
    try:

        async def redelivered() -> bool:
            return len(calls) >= first_calls + 6 and calls[-1] in {e.id for e in envs[:6]}

        assert await eventually(redelivered, timeout=60)
    finally:
        await second.stop()
    assert len(calls) > first_calls  # the batch did come again
    docs = {d["_id"]: d async for d in balances.find({})}
    # credit amounts are 1..5 per stream: each applied once.
    assert {k: (d["credited"], d["count"], d["at"]) for k, d in docs.items()} == {
        s: (15, 5, 5) for s in streams
    }


async def test_one_poison_message_in_a_batch_goes_to_the_dlq_and_its_neighbours_are_handled(
    infra, unique, broker
):
    topic = f"test-{unique}.events"
    poison_stream = f"p-{unique}"
    other = f"o-{unique}"
    seen: list[tuple[str, int]] = []

    async def handler(env: EventEnvelope, event: Any) -> None:
        if env.subject == poison_stream and env.streamversion == 2:
            raise RuntimeError("cannot handle this one")
        seen.append((env.subject, env.streamversion))

    publisher = KafkaEventPublisher(broker)
    # All published before the consumer starts, so they arrive in one batch.
    await publisher.publish(
        [
            (topic, envelope(poison_stream, 1)),
            (topic, envelope(other, 1)),
            (topic, envelope(poison_stream, 2)),
            (topic, envelope(other, 2)),
            (topic, envelope(poison_stream, 3)),
        ]
    )
    consumer = KafkaBroker(infra.kafka_bootstrap_servers)
    subscribe(consumer, [topic], f"g-{unique}", handler, max_attempts=2, retry_delay=0.01)
    await consumer.start()
    try:

        async def done() -> bool:
            return len(seen) == 4

        assert await eventually(done, timeout=60)
    finally:
        await consumer.stop()
    assert [v for s, v in seen if s == poison_stream] == [1, 3]
    assert [v for s, v in seen if s == other] == [1, 2]
    dead = await read_topic(infra.kafka_bootstrap_servers, dlq_topic(topic), expect=1)
    assert len(dead) == 1
    assert "cannot handle this one" in dead[0][0]["dlq_error"]
    assert json.loads(dead[0][1])["account_id"] == poison_stream


async def test_an_empty_poll_is_followed_by_the_next_one_at_once():
    """A lone message must not wait out a pause: FastStream's batch subscriber slept its
    whole batch timeout after every empty poll, and a message arriving then waited for it
    on every hop. The wait belongs in getmany, which returns as soon as records come."""
    broker = make_broker("127.0.0.1:1", client_id="test")

    async def handler(env: EventEnvelope, event: Any) -> None: ...

    subscribe(broker, ["t.events"], "g", handler, idle_poll_ms=60_000)
    [subscriber] = broker.subscribers

    class Consumer:
        polls: list[int] = []

        async def getmany(self, timeout_ms: int, max_records: int) -> dict[str, list[str]]:
            self.polls.append(timeout_ms)  # a real consumer waits here, up to timeout_ms
            return {} if len(self.polls) == 1 else {"tp": ["record"]}

    consumer = Consumer()
    assert await asyncio.wait_for(subscriber.get_msg(consumer), 10) == ()
    assert await asyncio.wait_for(subscriber.get_msg(consumer), 10) == ("record",)
    assert consumer.polls == [60_000, 60_000]
