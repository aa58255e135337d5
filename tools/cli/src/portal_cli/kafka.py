"""Plain aiokafka clients with the services' connection settings (and security)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CoordinatorLoadInProgressError, GroupCoordinatorNotAvailableError

from portal_chassis.topics import client_options, topic_partitions
from portal_cli.config import infra
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.registry import UnknownEventType, parse_event

T = TypeVar("T")


def _common() -> dict[str, Any]:
    settings = infra()
    return {"bootstrap_servers": settings.kafka_bootstrap_servers, **client_options(settings)}


@asynccontextmanager
async def consumer(group_id: str | None = None, **options: Any) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer with no subscription; assign partitions yourself (or subscribe)."""
    client = AIOKafkaConsumer(
        group_id=group_id, enable_auto_commit=False, client_id="portal-cli", **_common(), **options
    )
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


@asynccontextmanager
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(
        enable_idempotence=True, acks="all", client_id="portal-cli", **_common()
    )
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


@asynccontextmanager
async def admin() -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(client_id="portal-cli", **_common())
    await client.start()
    try:
        yield client
    finally:
        await client.close()


async def partitions(client: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    """Every partition of the topics that exist (none of an absent topic)."""
    return await topic_partitions(infra(), topics)


async def _coordinated(call: Callable[[AIOKafkaAdminClient], Awaitable[T]]) -> T:
    """Run a group request; a fresh broker has no group coordinator for a few seconds
    (until `__consumer_offsets` exists), which is a wait, not an error."""
    async with admin() as client:
        for attempt in range(20):
            try:
                return await call(client)
            except (GroupCoordinatorNotAvailableError, CoordinatorLoadInProgressError):
                if attempt == 19:
                    raise
                await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def committed(group_id: str) -> dict[TopicPartition, int]:
    """The group's committed offsets (what it has finished), by partition."""
    offsets = await _coordinated(lambda c: c.list_consumer_group_offsets(group_id))
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def active_members(group_id: str) -> int:
    """How many consumers are in the group now (0: nobody is consuming with it)."""
    responses = await _coordinated(lambda c: c.describe_consumer_groups([group_id]))
    count = 0
    for response in responses:
        for group in getattr(response, "groups", []):
            # (error_code, group_id, state, protocol_type, protocol, members, ...)
            if group[1] == group_id:
                count += len(group[5])
    return count


def headers_of(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in (record.headers or ())}


@dataclass(frozen=True)
class Decoded:
    envelope: EventEnvelope | None
    event: DomainEvent | None
    error: str | None = None
    unknown: bool = False
    """An event type this build does not know (consumers skip it)."""


def decode(record: ConsumerRecord[Any, Any]) -> Decoded:
    """The envelope and the event model, as the chassis' consumer reads them."""
    try:
        envelope = EventEnvelope.from_kafka(headers_of(record), record.value or b"")
    except ValueError as exc:
        return Decoded(None, None, str(exc))
    try:
        event = parse_event(envelope.type, envelope.schemaversion, envelope.data)
    except UnknownEventType:
        return Decoded(envelope, None, f"unknown event type {envelope.type}", unknown=True)
    except Exception as exc:  # unknown type or a payload this build rejects
        return Decoded(envelope, None, f"{type(exc).__name__}: {exc}")
    return Decoded(envelope, event)


def record_time(record: ConsumerRecord[Any, Any]) -> datetime:
    return datetime.fromtimestamp(record.timestamp / 1000, UTC)


def summary(data: dict[str, Any], width: int = 90) -> str:
    """A short `key=value` line of an event's scalar fields (ids and timestamps last)."""
    skip = {"occurred_at", "event_type", "schema_version"}
    items = [(k, v) for k, v in data.items() if k not in skip and not isinstance(v, dict | list)]
    items.sort(key=lambda kv: kv[0].endswith("_id") or kv[0] == "id")
    text = " ".join(f"{k}={json.dumps(v) if isinstance(v, str) else v}" for k, v in items)
    return text if len(text) <= width else text[: width - 1] + "…"
