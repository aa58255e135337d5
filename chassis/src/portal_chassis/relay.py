"""Outbox relay: publishes every unpublished commit to Kafka, at least once, in order.

Only the holder of the service's lease relays, so many replicas never interleave. A
crash between publish and mark re-publishes the commit on the next run (consumers are
idempotent by stream version). The relay wakes at once after a local append and polls
otherwise, which also picks up commits written by other replicas.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Gauge
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.bus import EventPublisher
from portal_chassis.eventstore import Commit, EventStore
from portal_chassis.logging import get_logger
from portal_contracts.envelope import EventEnvelope

log = get_logger(__name__)

RELAYED = Counter("portal_outbox_relayed_events_total", "Events relayed to Kafka", ["service"])
PENDING = Gauge(
    "portal_outbox_pending_commits",
    "Commits not yet relayed (reported by the relay leader; 0 on the other replicas)",
    ["service"],
)
LEADER = Gauge(
    "portal_outbox_relay_leader", "1 while this replica holds the relay lease", ["service"]
)


class Lease:
    """A named lease in MongoDB: one owner at a time, taken over once it expires."""

    def __init__(
        self, db: AsyncDatabase[dict[str, Any]], name: str, owner: str, ttl: float
    ) -> None:
        self.collection = db["leases"]
        self.name = name
        self.owner = owner
        self.ttl = ttl

    async def acquire(self) -> bool:
        now = datetime.now(UTC)
        try:
            await self.collection.update_one(
                {"_id": self.name, "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + timedelta(seconds=self.ttl)}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # somebody else holds a live lease
        doc = await self.collection.find_one({"_id": self.name})
        return doc is not None and doc.get("owner") == self.owner

    async def release(self) -> None:
        await self.collection.delete_one({"_id": self.name, "owner": self.owner})


def envelope_for(commit: Commit, source: str, index: int) -> EventEnvelope:
    stored = commit.events[index]
    meta = commit.metadata
    event = stored.event
    return EventEnvelope(
        id=stored.event_id,
        source=source,
        type=event.event_type,
        subject=commit.stream_id,
        time=event.occurred_at,
        schemaversion=event.schema_version,
        streamversion=stored.version,
        correlationid=meta.correlation_id,
        causationid=meta.causation_id,
        actor=meta.actor,
        tenant=meta.tenant or getattr(event, "account_id", None),
        traceparent=meta.traceparent,
        data=event.model_dump(mode="json"),
    )


class OutboxRelay:
    def __init__(
        self,
        store: EventStore,
        publisher: EventPublisher,
        *,
        service: str,
        lease_seconds: float = 10.0,
        poll_seconds: float = 0.5,
        batch_size: int = 500,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.service = service
        self.source = f"/portal/{service}"
        self.lease = Lease(store.db, f"relay:{service}", owner or str(uuid.uuid4()), lease_seconds)
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self._stopping = asyncio.Event()

    async def relay_once(self) -> int:
        """Publish one batch of unpublished commits; returns how many events went out."""
        commits, pending = await self.store.unpublished_batch(self.batch_size)
        # Set before publishing, so the gauge keeps growing while Kafka is away. A batch
        # that is not full is all there is: counting costs a round trip only past that.
        if pending >= self.batch_size:
            pending = await self.store.unpublished_count()
        PENDING.labels(self.service).set(pending)
        if not commits:
            return 0
        messages = [
            (commit.events[i].event.topic(), envelope_for(commit, self.source, i))
            for commit in commits
            for i in range(len(commit.events))
        ]
        await self.publisher.publish(messages)
        await self.store.mark_published([c.commit_id for c in commits])
        RELAYED.labels(self.service).inc(len(messages))
        return len(messages)

    async def run(self) -> None:
        renew_every = self.lease.ttl / 3
        last_renewal = 0.0
        leader = False
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                if loop.time() - last_renewal >= renew_every or not leader:
                    leader = await self.lease.acquire()
                    last_renewal = loop.time()
                    LEADER.labels(self.service).set(1 if leader else 0)
                    if not leader:
                        PENDING.labels(self.service).set(0)  # only the leader reports it
                if leader:
                    sent = await self.relay_once()
                    if sent:
                        continue  # drain without waiting
                await self.store.notifier.wait(self.poll_seconds if leader else renew_every)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka or Mongo down: keep trying, never lose events
                log.warning("relay iteration failed", error=str(exc))
                await asyncio.sleep(min(self.poll_seconds * 4, 2.0))
        if leader:
            await self.lease.release()

    def stop(self) -> None:
        self._stopping.set()
        self.store.notifier.notify()
