"""One consumer hop at low load: a lone event, published now and then to an idle topic,
until the chassis consumer's handler has it. Beside it, the same consumer on FastStream's
stock batch subscriber (which paused `batch_timeout_ms`, 200 ms, after every empty poll).
Both run in turn on the same Kafka, so they share the machine's load.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 uv run python -m portal_bench.idle_hop [--events 25]

It prints figures and never asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber

from portal_chassis.bus import KafkaEventPublisher, make_broker
from portal_chassis.consumer import subscribe
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.wallet import WalletOpened


def lone_event(version: int) -> EventEnvelope:
    event = WalletOpened(account_id="idle", currency="VND", occurred_at=datetime.now(UTC))
    return EventEnvelope(
        id=str(uuid.uuid4()),
        source="/bench",
        type=event.event_type,
        subject="wallet-idle",
        time=event.occurred_at,
        streamversion=version,
        data=event.model_dump(mode="json"),
    )


async def hop_latencies(kafka: str, events: int, *, stock: bool) -> list[float]:
    """Milliseconds from publish to handler, one event at a time, 0.3-1 s apart."""
    topic = f"bench-idle-{uuid.uuid4().hex[:8]}.events"
    producer = make_broker(kafka, client_id="bench-idle")
    await producer.start()
    publisher = KafkaEventPublisher(producer)
    await publisher.publish([(topic, lone_event(1))])  # the topic exists before we wait
    sent: dict[str, float] = {}
    took: list[float] = []
    all_in = asyncio.Event()

    async def handler(envelope: EventEnvelope, event: Any) -> None:
        if envelope.id in sent:
            took.append((time.perf_counter() - sent[envelope.id]) * 1000)
            if len(took) == events:
                all_in.set()

    consumer = KafkaBroker(kafka)
    subscribe(consumer, [topic], f"bench-idle-{uuid.uuid4().hex[:8]}", handler, idle_poll_ms=200)
    if stock:
        consumer.subscribers[0].__class__ = BatchSubscriber
    await consumer.start()
    try:
        await asyncio.sleep(3)  # joined its group and idle
        for version in range(2, events + 2):
            await asyncio.sleep(random.uniform(0.3, 1.0))
            envelope = lone_event(version)
            sent[envelope.id] = time.perf_counter()
            await publisher.publish([(topic, envelope)])
        await asyncio.wait_for(all_in.wait(), 120)
    finally:
        await consumer.stop()
        await producer.stop()
    return sorted(took)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=25, help="lone events per round (25)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each subscriber (2)")
    args = parser.parse_args()
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    for _ in range(args.rounds):
        for stock in (True, False):
            took = await hop_latencies(kafka, args.events, stock=stock)
            name = "FastStream stock batch subscriber" if stock else "chassis consumer (ours)"
            p90 = took[max(0, int(len(took) * 0.9) - 1)]
            print(
                f"{name:34} p50 {statistics.median(took):6.1f} ms  p90 {p90:6.1f} ms"
                f"  max {took[-1]:6.1f} ms  ({len(took)} events)"
            )


if __name__ == "__main__":
    asyncio.run(main())
