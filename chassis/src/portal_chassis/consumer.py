"""Consuming other contexts' events: commit only after the effect is stored.

Messages come in batches (up to `max_batch`, whatever one fetch returns). A batch is cut
into lanes: records with the same key (the stream id), or of the same tenant account,
share a lane and are handled one after another in the order they arrived; different lanes
run concurrently (at most `concurrency` at once). A stream's events therefore keep their
order, and one account's effects (its read-model document, its CRM customer) are never
written by two handlers at once. The offsets are committed once, after every message of
the batch has been handled, dead-lettered or skipped: a crash before that redelivers the
whole batch, which the idempotent handlers absorb (at least once, as before).

Each message is decoded from its CloudEvents headers and handed to the handler. Two kinds
of failure:
- the infrastructure is away (the database, another service's 503, a network error):
  the event is fine, so it is retried with capped exponential back-off for as long as
  it takes; its lane waits and the batch is not committed. Dead-lettering it would
  silently drop a good event from every read model until someone redrives it.
- the event fails for its own reason (undecodable, a rule broken, a bug): after
  `max_attempts` it goes to `<topic>.dlq` with the error in its headers, and its lane
  moves on to its neighbours.
Events of types this build does not know are skipped.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import httpx
from aiokafka.errors import CommitFailedError, IllegalStateError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from litestar.exceptions import HTTPException
from prometheus_client import Counter

from portal_chassis.bus import renew_broken_producer
from portal_chassis.logging import bind_ids, get_logger
from portal_chassis.mongo import is_database_unavailable
from portal_chassis.tracing import traced_handler
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.registry import UnknownEventType, parse_event

log = get_logger(__name__)

EventHandler = Callable[[EventEnvelope, DomainEvent], Awaitable[None]]

CONSUMED = Counter("portal_events_consumed_total", "Events handled", ["group", "type"])
DEAD_LETTERED = Counter("portal_events_dead_lettered_total", "Events sent to a DLQ", ["group"])
WAITING = Counter(
    "portal_events_transient_failures_total",
    "Handler attempts that failed on unavailable infrastructure (retried, never dead-lettered)",
    ["group"],
)
BATCHES = Counter("portal_event_batches_total", "Batches handled and committed", ["group"])


def is_transient(exc: BaseException) -> bool:
    """An error of the infrastructure, not of the event: retrying later will succeed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if is_database_unavailable(current) or isinstance(current, httpx.TransportError):
            return True
        if isinstance(current, HTTPException) and current.status_code == 503:
            return True  # a service we call says it (or its own dependency) is away
        if isinstance(current, httpx.HTTPStatusError) and current.response.status_code == 503:
            return True
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return False


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass
class Record:
    """One Kafka record of a batch, decoded as far as it could be."""

    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    envelope: EventEnvelope | None = None
    event: DomainEvent | None = None
    error: str | None = None
    """Why it could not be decoded (it goes to the DLQ)."""

    @classmethod
    def decode(cls, raw: Any) -> Record:
        key = raw.key if isinstance(raw.key, bytes) or raw.key is None else str(raw.key).encode()
        headers = {
            k: v.decode(errors="replace") if isinstance(v, bytes) else str(v)
            for k, v in raw.headers or ()
        }
        record = cls(raw.topic, key, raw.value or b"", headers)
        try:
            record.envelope = EventEnvelope.from_kafka(headers, record.value)
            record.event = parse_event(
                record.envelope.type, record.envelope.schemaversion, record.envelope.data
            )
        except UnknownEventType:
            pass  # a newer producer's event: skipped, never dead-lettered
        except Exception as exc:
            record.error = f"undecodable: {exc}"
        return record


def lanes(records: Sequence[Record]) -> list[list[Record]]:
    """Split a batch into lanes: records sharing a key or a tenant go to one lane, each
    lane in arrival order (so a stream's events stay in order). Union-find on keys and
    tenants."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def names(record: Record, i: int) -> list[str]:
        found = [f"k:{record.topic}:{record.key!r}" if record.key is not None else f"i:{i}"]
        if record.envelope is not None and record.envelope.tenant:
            found.append(f"t:{record.envelope.tenant}")
        return found

    all_names = [names(r, i) for i, r in enumerate(records)]
    for first, *rest in all_names:
        for other in rest:
            parent[find(other)] = find(first)
    grouped: dict[str, list[Record]] = {}
    for record, (first, *_) in zip(records, all_names, strict=True):
        grouped.setdefault(find(first), []).append(record)
    return list(grouped.values())


class PromptBatchSubscriber(BatchSubscriber):
    """FastStream's batch subscriber without its idle pause.

    aiokafka's `getmany` already returns as soon as records are there and waits up to
    `batch_timeout_ms` only while there are none; FastStream then slept another
    `batch_timeout_ms` after every empty poll, and a lone message arriving in that pause
    waited it out (up to 200 ms on every hop at low load). Here an empty poll is followed
    by the next one at once: a lone message goes through when it arrives, and under load a
    batch is whatever piled up while the previous one was handled.
    """

    __slots__ = ()

    async def get_msg(self, consumer: Any) -> tuple[Any, ...]:
        messages = await consumer.getmany(
            timeout_ms=self.batch_timeout_ms, max_records=self.max_records
        )
        return tuple(chain(*messages.values()))


def subscribe(
    broker: KafkaBroker,
    topics: Sequence[str],
    group_id: str,
    handler: EventHandler,
    *,
    max_attempts: int = 3,
    retry_delay: float = 0.2,
    max_retry_delay: float = 10.0,
    max_batch: int = 200,
    concurrency: int = 16,
    idle_poll_ms: int = 1000,
) -> None:
    """Register `handler` for every event on `topics` in consumer group `group_id`."""
    # The series start at 0, so the first dead letter is an increase an alert can see.
    DEAD_LETTERED.labels(group_id)
    handler = traced_handler(group_id, handler)
    BATCHES.labels(group_id)
    gate = asyncio.Semaphore(concurrency)

    async def dead_letter(record: Record, error: str) -> None:
        headers = dict(record.headers)
        headers.update(
            {"dlq_error": error[:2000], "dlq_group": group_id, "dlq_topic": record.topic}
        )
        while True:  # losing the message is worse than stalling this lane
            try:
                await broker.publish(
                    record.value, dlq_topic(record.topic), key=record.key, headers=headers
                )
                break
            except Exception as exc:
                log.error("could not publish to the DLQ, retrying", error=str(exc))
                await renew_broken_producer(broker, exc)
                await asyncio.sleep(1.0)
        DEAD_LETTERED.labels(group_id).inc()
        log.error("message sent to the DLQ", topic=record.topic, error=error)

    async def handle(record: Record) -> None:
        if record.error is not None:
            await dead_letter(record, record.error)
            return
        envelope, event = record.envelope, record.event
        if envelope is None or event is None:
            return  # an unknown event type
        bind_ids(
            envelope.correlationid,
            envelope.id,
            traceparent=envelope.traceparent,
            event_type=envelope.type,
        )
        failures = 0  # failures of the event itself; infrastructure ones do not count
        delay = retry_delay
        while True:
            try:
                await handler(envelope, event)
                break
            except Exception as exc:
                if is_transient(exc):
                    WAITING.labels(group_id).inc()
                    log.warning(
                        "infrastructure unavailable, retrying the event",
                        error=f"{type(exc).__name__}: {exc}"[:300],
                        retry_in=round(delay, 2),
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, max_retry_delay)
                    continue
                failures += 1
                if failures >= max_attempts:
                    await dead_letter(record, traceback.format_exc(limit=5))
                    break
                await asyncio.sleep(retry_delay * failures)
        CONSUMED.labels(group_id, envelope.type).inc()

    async def run_lane(lane: list[Record]) -> None:
        async with gate:
            for record in lane:
                await handle(record)

    subscriber = broker.subscriber(
        *topics,
        group_id=group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        batch=True,
        # How long one empty poll waits for records (it returns as soon as one comes).
        batch_timeout_ms=idle_poll_ms,
        max_records=max_batch,
        title=f"{group_id}:{','.join(topics)}",
    )
    # Same slots, only get_msg differs; FastStream has no hook to pick the class.
    subscriber.__class__ = PromptBatchSubscriber

    @subscriber
    async def consume(msg: KafkaMessage) -> None:
        raw = msg.raw_message
        batch = [Record.decode(r) for r in (raw if isinstance(raw, tuple) else (raw,))]
        await asyncio.gather(*(run_lane(lane) for lane in lanes(batch)))
        try:
            await msg.ack()  # one offset commit for the whole batch, after its effects
        except (CommitFailedError, IllegalStateError) as exc:
            # A rebalance took the partitions away: their new owner gets the batch again
            # and the idempotent handlers make that harmless.
            log.warning("offset commit failed after a rebalance", error=str(exc))
            return
        BATCHES.labels(group_id).inc()
