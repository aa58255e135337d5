"""The tiny event-bus interface and its Kafka implementation (FastStream + aiokafka).

The relay publishes envelopes through `EventPublisher`; tests may use an in-memory one.
Topics: `<context>.events`, keyed by stream id; `<topic>.dlq` for poison messages.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber, ProducerFenced, UnknownProducerId
from faststream._internal.parser import DefaultCodec
from faststream.kafka import KafkaBroker

from portal_chassis.logging import FASTSTREAM_LOGGER, get_logger
from portal_chassis.tracing import publish_spans
from portal_contracts.envelope import EventEnvelope

log = get_logger(__name__)


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


_RENEWING: weakref.WeakKeyDictionary[KafkaBroker, asyncio.Lock] = weakref.WeakKeyDictionary()


def _producer_wrapper(broker: KafkaBroker) -> Any:
    return broker.config.broker_config.producer  # type: ignore[attr-defined]


BROKEN_PRODUCER_ERRORS = (OutOfOrderSequenceNumber, UnknownProducerId, ProducerFenced)
"""Errors after which an idempotent producer never sends to that partition again."""


def producer_is_broken(broker: KafkaBroker, error: BaseException | None = None) -> bool:
    """Whether the broker's aiokafka producer can never deliver again.

    A batch that failed while the broker shut down leaves a gap in the idempotent
    producer's sequence numbers; once the broker is back it answers every later batch for
    that partition with OutOfOrderSequenceNumber, for ever (the outbox stopped draining
    after a broker restart until the process was restarted). The same holds for a
    producer id the broker forgot or fenced, and for a producer whose sender task ended.
    """
    if error is not None and _caused_by(error, BROKEN_PRODUCER_ERRORS):
        return True
    task = getattr(getattr(_aiokafka_producer(broker), "_sender", None), "sender_task", None)
    return task is not None and task.done()


def _aiokafka_producer(broker: KafkaBroker) -> AIOKafkaProducer | None:
    return getattr(getattr(_producer_wrapper(broker), "_producer", None), "producer", None)


def _caused_by(error: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds):
            return True
        current = current.__cause__ or current.__context__
    return False


async def renew_broken_producer(broker: KafkaBroker, error: BaseException) -> bool:
    """Replace a broken producer (see `producer_is_broken`) with a new one: a new producer
    id, sequences from 0. What the old one had not confirmed is sent again by its caller
    (the relay re-publishes the commit; consumers are idempotent). True if renewed."""
    if not producer_is_broken(broker, error):
        return False
    broken = _aiokafka_producer(broker)
    async with _RENEWING.setdefault(broker, asyncio.Lock()):
        if _aiokafka_producer(broker) is not broken:
            return False  # a concurrent caller renewed it meanwhile
        wrapper = _producer_wrapper(broker)
        config = broker.config.broker_config  # type: ignore[attr-defined]
        try:
            await wrapper.disconnect()
        except Exception as exc:  # a broken producer may fail to close: dropped anyway
            log.debug("closing the broken kafka producer failed", error=str(exc))
        # The same settings FastStream's own start() gives its producer.
        await wrapper.connect(
            AIOKafkaProducer(**broker._connection_kwargs),
            serializer=config.fd_config._serializer,
            codec=config.broker_codec or DefaultCodec(),
        )
        log.warning("kafka producer renewed", error=f"{type(error).__name__}: {error}"[:300])
        return True


class EventPublisher(Protocol):
    async def publish(self, messages: Sequence[tuple[str, EventEnvelope]]) -> None:
        """Publish (topic, envelope) pairs in order; return only once all are acknowledged."""
        ...


class KafkaEventPublisher:
    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker

    async def publish(self, messages: Sequence[tuple[str, EventEnvelope]]) -> None:
        with publish_spans(list(messages)) as traced:
            try:
                await self._publish(traced)
            except Exception as exc:
                # The caller retries; with a broken producer every retry would fail too.
                await renew_broken_producer(self.broker, exc)
                raise

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
