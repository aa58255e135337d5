"""Consuming other contexts' events: commit only after the effect is stored.

Each message is decoded from its CloudEvents headers, handed to the handler and only
then acknowledged (the consumer offset is committed). Two kinds of failure:
- the infrastructure is away (the database, another service's 503, a network error):
  the event is fine, so it is retried with capped exponential back-off for as long as
  it takes; the partition waits and the offset is not committed. Dead-lettering it
  would silently drop a good event from every read model until someone redrives it.
- the event fails for its own reason (undecodable, a rule broken, a bug): after
  `max_attempts` it goes to `<topic>.dlq` with the error in its headers, and the
  consumer moves on.
Events of types this build does not know are acknowledged and skipped.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable, Sequence

import httpx
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from litestar.exceptions import HTTPException
from prometheus_client import Counter

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


def subscribe(
    broker: KafkaBroker,
    topics: Sequence[str],
    group_id: str,
    handler: EventHandler,
    *,
    max_attempts: int = 3,
    retry_delay: float = 0.2,
    max_retry_delay: float = 10.0,
) -> None:
    """Register `handler` for every event on `topics` in consumer group `group_id`."""
    # The series starts at 0, so the first dead letter is an increase an alert can see.
    DEAD_LETTERED.labels(group_id)
    handler = traced_handler(group_id, handler)

    async def dead_letter(msg: KafkaMessage, error: str) -> None:
        raw = msg.raw_message
        topic = raw.topic if not isinstance(raw, tuple) else raw[0].topic
        headers = {k: v for k, v in msg.headers.items() if isinstance(v, str)}
        headers.update({"dlq_error": error[:2000], "dlq_group": group_id, "dlq_topic": topic})
        while True:  # losing the message is worse than stalling this partition
            try:
                await broker.publish(msg.body, dlq_topic(topic), key=_key(msg), headers=headers)
                break
            except Exception as exc:
                log.error("could not publish to the DLQ, retrying", error=str(exc))
                await asyncio.sleep(1.0)
        DEAD_LETTERED.labels(group_id).inc()
        log.error("message sent to the DLQ", topic=topic, error=error)

    @broker.subscriber(
        *topics,
        group_id=group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        title=f"{group_id}:{','.join(topics)}",
    )
    async def consume(msg: KafkaMessage) -> None:
        headers = {k: v for k, v in msg.headers.items() if isinstance(v, str)}
        try:
            envelope = EventEnvelope.from_kafka(headers, msg.body)
            event = parse_event(envelope.type, envelope.schemaversion, envelope.data)
        except UnknownEventType:
            await msg.ack()
            return
        except Exception as exc:
            await dead_letter(msg, f"undecodable: {exc}")
            await msg.ack()
            return
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
                    await dead_letter(msg, traceback.format_exc(limit=5))
                    break
                await asyncio.sleep(retry_delay * failures)
        CONSUMED.labels(group_id, envelope.type).inc()
        await msg.ack()


def _key(msg: KafkaMessage) -> bytes | None:
    raw = msg.raw_message
    record = raw[0] if isinstance(raw, tuple) else raw
    key = record.key
    return key if isinstance(key, bytes) or key is None else str(key).encode()
