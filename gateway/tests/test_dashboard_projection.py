"""The dashboard projection under the batch consumer's concurrency (real FerretDB)."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from portal_chassis.projection import BatchWrites, batch_scope
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.repairs import Condition, RepairReceived
from portal_contracts.events.wallet import TopUpCompleted
from portal_gateway.dashboard import DASHBOARDS, STAFF_DASHBOARDS, DashboardProjection
from portal_tests.helpers import credit

pytestmark = pytest.mark.integration


def received(repair_id: str, account_id: str) -> tuple[EventEnvelope, RepairReceived]:
    event = RepairReceived(
        repair_id=repair_id,
        account_id=account_id,
        actor="staff-1",
        branch_id="hq",
        condition=Condition(),
        condition_corrected=False,
        occurred_at=datetime.now(UTC),
    )
    envelope = EventEnvelope(
        id=str(uuid.uuid4()),
        source="/portal/repairs",
        type=event.event_type,
        subject=f"repair-{repair_id}",
        time=event.occurred_at,
        streamversion=2,
        tenant=account_id,
        data=event.model_dump(mode="json"),
    )
    return envelope, event


async def test_concurrent_accounts_never_lose_a_staff_update(mongo_db):
    """Different accounts' events are handled at once; the repairs part rewrites its
    staff document from what it read, so without the per-part lock all but one of
    these concurrent updates would be lost."""
    projection = DashboardProjection(mongo_db)
    events = [received(f"r{i}-{uuid.uuid4().hex[:6]}", f"acc-{i}") for i in range(12)]
    await asyncio.gather(*(projection.handle(env, event) for env, event in events))
    staff = await mongo_db[STAFF_DASHBOARDS].find_one({"_id": "repairs"})
    assert staff is not None
    assert sorted(staff["open"]) == sorted(event.repair_id for _, event in events)


class Commands(monitoring.CommandListener):
    """The write commands a client sends, by collection."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in {"update", "insert", "delete"}:
            self.writes.append((str(event.command.get(event.command_name)), event.command_name))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def top_up(account_id: str, n: int) -> list[tuple[EventEnvelope, DomainEvent]]:
    """Top-up n of an account: its completion (top-up stream) and the credit (wallet
    stream, version n), as the wallet relays them."""
    completed = TopUpCompleted(
        account_id=account_id,
        top_up_id=f"t{n}",
        provider="sandbox",
        reference=f"ref{n}",
        provider_event_id=f"pe{n}",
        amount_requested=1000,
        amount_received=1000,
        currency="VND",
        occurred_at=datetime.now(UTC),
    )
    credited = credit(account_id, 1000, 1000 * n, n)
    return [
        (wrap(completed, f"topup-{account_id}-{n}", 2, account_id), completed),
        (wrap(credited, f"wallet-{account_id}", n, account_id), credited),
    ]


def wrap(event: DomainEvent, stream: str, version: int, tenant: str) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid.uuid4()),
        source="/portal/wallet",
        type=event.event_type,
        subject=stream,
        time=event.occurred_at,
        streamversion=version,
        tenant=tenant,
        data=event.model_dump(mode="json"),
    )


async def test_a_batch_writes_once_per_read_model_and_a_redelivery_counts_nothing(infra, unique):
    """In a consumer batch the projector queues its writes: one bulk per collection at
    the end instead of a write per event, and the batch delivered again (with a
    duplicate inside it, as the relay may publish) changes nothing."""
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infra.mongodb_uri, tz_aware=True, event_listeners=[commands]
    )
    db = client[f"test_{unique}"]
    projection = DashboardProjection(db)
    accounts = [f"acc{i}-{unique}" for i in range(3)]
    events = [e for n in (1, 2, 3) for account in accounts for e in top_up(account, n)]

    async def deliver(batch_events: list[tuple[EventEnvelope, DomainEvent]]) -> list[Any]:
        commands.writes.clear()
        batch = BatchWrites()
        with batch_scope(batch):
            for envelope, event in batch_events:
                await projection.handle(envelope, event)
        queued = [w for w in commands.writes if w[0] != "projection_status"]
        assert queued == []  # nothing written until the batch is flushed
        assert await batch.flush() == []
        return sorted(w for w in commands.writes if w[0] != "projection_status")

    try:
        assert await deliver(events) == [(DASHBOARDS, "update"), (STAFF_DASHBOARDS, "update")]
        await deliver([*events, events[4]])  # delivered again, one of them twice over

        for account in accounts:
            doc = await db[DASHBOARDS].find_one({"_id": account})
            assert doc is not None
            assert doc["wallet"]["balance"] == 3000
            assert doc["wallet"]["top_ups_completed"] == 3
            assert doc["wallet"]["total_topped_up"] == 3000
            assert len(doc["recent_transactions"]) == 3
        staff = await db[STAFF_DASHBOARDS].find_one({"_id": "wallet"})
        assert staff is not None
        assert (staff["top_ups_completed"], staff["topped_up"]) == (9, {"VND": 9000})
    finally:
        await client.drop_database(db.name)
        await client.close()
