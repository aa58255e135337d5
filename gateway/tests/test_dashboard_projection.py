"""The dashboard projection under the batch consumer's concurrency (real FerretDB)."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.repairs import Condition, RepairReceived
from portal_gateway.dashboard import STAFF_DASHBOARDS, DashboardProjection

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
