"""The tiny event-bus interface and its Kafka implementation (FastStream + aiokafka).

The relay publishes envelopes through `EventPublisher`; tests may use an in-memory one.
Topics: `<context>.events`, keyed by stream id; `<topic>.dlq` for poison messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from faststream.kafka import KafkaBroker

from portal_chassis.logging import FASTSTREAM_LOGGER
from portal_chassis.tracing import publish_spans
from portal_contracts.envelope import EventEnvelope


def make_broker(bootstrap_servers: str, client_id: str, **kwargs: Any) -> KafkaBroker:
    """A broker whose producer is idempotent with acks=all (no loss, no duplicates on retry)."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=30_000,
        graceful_timeout=10.0,
        # FastStream's own logger prints coloured text to stdout; this one goes through
        # the process's log pipeline, and a line per message received/processed is DEBUG.
        logger=logging.getLogger(FASTSTREAM_LOGGER),
        log_level=logging.DEBUG,
        **kwargs,
    )


class EventPublisher(Protocol):
    async def publish(self, messages: Sequence[tuple[str, EventEnvelope]]) -> None:
        """Publish (topic, envelope) pairs in order; return only once all are acknowledged."""
        ...


class KafkaEventPublisher:
    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker

    async def publish(self, messages: Sequence[tuple[str, EventEnvelope]]) -> None:
        with publish_spans(list(messages)) as traced:
            await self._publish(traced)

    async def _publish(self, messages: Sequence[tuple[str, EventEnvelope]]) -> None:
        futures = []
        for topic, envelope in messages:
            key, headers, value = envelope.to_kafka()
            # no_confirm: queue every send first (order kept per partition by the idempotent
            # producer), then wait for all acknowledgements at once.
            futures.append(
                await self.broker.publish(value, topic, key=key, headers=headers, no_confirm=True)
            )
        if futures:
            await asyncio.gather(*futures)


def declare_publications(broker: KafkaBroker, context: str, events: Sequence[type[Any]]) -> None:
    """Document what the relay publishes on `<context>.events` (AsyncAPI only: the relay
    itself publishes through `KafkaEventPublisher`)."""
    from typing import Union

    payload: Any = Union[tuple(events)] if len(events) > 1 else events[0]  # noqa: UP007
    broker.publisher(
        f"{context}.events",
        title=f"{context}.events",
        description=(
            f"Domain events of the {context} context, keyed by stream id, CloudEvents "
            "attributes in ce_* headers (binary mode). Kept forever."
        ),
        schema=payload,
    )
