"""Consumers wait out an infrastructure outage instead of dead-lettering good events;
an event that fails for its own reason still goes to the DLQ (real Kafka)."""

import json
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker
from pymongo.errors import AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError

from portal_chassis.bus import KafkaEventPublisher, make_broker
from portal_chassis.consumer import dlq_topic, is_transient, subscribe
from portal_chassis.decider import DomainError
from portal_chassis.problems import ProblemError
from portal_contracts.envelope import EventEnvelope
from portal_tests.helpers import credit_envelope, eventually, read_topic

pytestmark = pytest.mark.integration

OUTAGE = [
    ServerSelectionTimeoutError("no servers"),
    AutoReconnect("connection closed"),
    NetworkTimeout("timed out"),
    httpx.ConnectError("refused"),
    ProblemError(503, "wallet_unavailable", "the wallet did not answer"),
]


@pytest.fixture
async def broker(infra):
    b = make_broker(infra.kafka_bootstrap_servers, client_id="test")
    await b.start()
    yield b
    await b.stop()


def test_infrastructure_errors_are_transient_and_the_events_own_are_not():
    for exc in OUTAGE:
        assert is_transient(exc), exc
    try:
        try:
            raise AutoReconnect("gone")
        except AutoReconnect as inner:
            raise RuntimeError("while saving") from inner
    except RuntimeError as wrapped:
        assert is_transient(wrapped)  # the cause decides
    assert not is_transient(DomainError("rule_broken", "not allowed"))
    assert not is_transient(ProblemError(409, "conflict", "no"))
    assert not is_transient(ValueError("bad data"))


async def test_an_outage_longer_than_the_attempts_is_waited_out_in_order(infra, unique, broker):
    topic = f"test-{unique}.events"
    consumer_broker = KafkaBroker(infra.kafka_bootstrap_servers)
    handled: list[str] = []
    failures: list[str] = []

    async def handler(envelope: EventEnvelope, event: Any) -> None:
        # The first event meets every kind of outage, many more times than max_attempts.
        if event.reference == "first" and len(failures) < 2 * len(OUTAGE):
            exc = OUTAGE[len(failures) % len(OUTAGE)]
            failures.append(type(exc).__name__)
            raise exc
        handled.append(event.reference)

    subscribe(
        consumer_broker,
        [topic],
        f"g-{unique}",
        handler,
        max_attempts=2,
        retry_delay=0.01,
        max_retry_delay=0.1,
    )
    publisher = KafkaEventPublisher(broker)
    await publisher.publish(
        [
            (topic, credit_envelope(unique, "first", 1)),
            (topic, credit_envelope(unique, "second", 2)),
        ]
    )
    await consumer_broker.start()
    try:

        async def both() -> bool:
            return len(handled) == 2

        assert await eventually(both, timeout=60)
    finally:
        await consumer_broker.stop()
    assert handled == ["first", "second"]  # the partition waited for the first
    assert len(failures) == 2 * len(OUTAGE)
    # Nothing was dead-lettered: a marker sent afterwards is the DLQ's only message.
    await broker.publish(b"marker", dlq_topic(topic))
    dead = await read_topic(infra.kafka_bootstrap_servers, dlq_topic(topic), expect=2, timeout=5)
    assert [body for _, body in dead] == [b"marker"]


async def test_an_event_that_breaks_a_rule_still_goes_to_the_dlq(infra, unique, broker):
    topic = f"test-{unique}.events"
    consumer_broker = KafkaBroker(infra.kafka_bootstrap_servers)
    handled: list[str] = []
    attempts: list[str] = []

    async def handler(envelope: EventEnvelope, event: Any) -> None:
        if event.reference == "bad":
            attempts.append("bad")
            raise DomainError("rule_broken", "this event breaks a rule")
        handled.append(event.reference)

    subscribe(consumer_broker, [topic], f"g-{unique}", handler, max_attempts=3, retry_delay=0.01)
    publisher = KafkaEventPublisher(broker)
    await publisher.publish(
        [(topic, credit_envelope(unique, "bad", 1)), (topic, credit_envelope(unique, "after", 2))]
    )
    await consumer_broker.start()
    try:

        async def after() -> bool:
            return "after" in handled

        assert await eventually(after, timeout=60)
    finally:
        await consumer_broker.stop()
    assert attempts == ["bad"] * 3
    dead = await read_topic(infra.kafka_bootstrap_servers, dlq_topic(topic), expect=1)
    assert "rule_broken" in dead[0][0]["dlq_error"] or "breaks a rule" in dead[0][0]["dlq_error"]
    assert json.loads(dead[0][1])["reference"] == "bad"
