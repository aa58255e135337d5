"""The staff dashboard's live stream reads only the parts' change counters on each tick
and the board only when one moved (real FerretDB, every command counted)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from portal_chassis.auth import Principal
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.wallet import TopUpCompleted
from portal_gateway.dashboard import (
    BELLS,
    STAFF_DASHBOARDS,
    DashboardProjection,
    DashboardQueries,
    live_dashboard,
)

pytestmark = pytest.mark.integration


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        target = event.command.get(name)
        self.seen.append((name, target if isinstance(target, str) else "", event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def finds(self) -> list[Any]:
        return [command for name, _, command in self.seen if name == "find"]


def completed(account: str, n: int) -> tuple[EventEnvelope, TopUpCompleted]:
    event = TopUpCompleted(
        account_id=account,
        top_up_id=f"t{n}",
        provider="sandbox",
        reference=f"r{n}",
        provider_event_id=f"p{n}",
        amount_requested=1000,
        amount_received=1000,
        currency="VND",
        occurred_at=datetime.now(UTC),
    )
    envelope = EventEnvelope(
        id=str(uuid.uuid4()),
        source="/portal/wallet",
        type=event.event_type,
        subject=f"wallet-{account}",
        time=event.occurred_at,
        streamversion=n,
        tenant=account,
        data=event.model_dump(mode="json"),
    )
    return envelope, event


async def test_each_tick_reads_the_change_counters_and_the_board_only_when_one_moved(infra, unique):
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infra.mongodb_uri, tz_aware=True, event_listeners=[commands]
    )
    db = client[f"test_{unique}"]
    try:
        projection = DashboardProjection(db)
        # Many accounts' streams: the staff document's per-stream markers grow with them.
        for i in range(20):
            await projection.handle(*completed(f"acc-{i}", 1))
        queries = DashboardQueries(db)
        agent = Principal("agent", "platform", frozenset({"support_agent"}), "s", "t")
        stream = live_dashboard(queries, agent, poll=0.02, heartbeat=60, lifetime=60, staff=True)
        first = json.loads(str((await anext(stream)).data))
        assert first["wallet"]["top_ups_completed"] == 20
        assert (await anext(stream)).event == "notifications"  # the agent's bell

        commands.seen.clear()
        following = asyncio.create_task(anext(stream))
        await asyncio.sleep(1.0)  # ~50 ticks with nothing new
        ticks = commands.finds()
        assert len(ticks) >= 5
        for command in ticks:
            # Only the counters of the staff collection and of the user's bell, never a
            # whole document.
            assert command["find"] in (STAFF_DASHBOARDS, BELLS)
            assert command.get("projection") == {"_v": 1}, command
        assert not following.done()

        commands.seen.clear()
        await projection.handle(*completed("acc-new", 1))  # a staff event moves a counter
        second = json.loads(str((await asyncio.wait_for(following, timeout=10)).data))
        assert second["wallet"]["top_ups_completed"] == 21
        # The board once: the status, then one read of each part's document.
        finds = commands.finds()
        parts = [c for c in finds if c["find"] == STAFF_DASHBOARDS and not c.get("projection")]
        assert not [c for c in finds if c["find"] == BELLS and not c.get("projection")], finds
        assert len(parts) == len(projection.parts), finds
        assert len([c for c in finds if c["find"] == "projection_status"]) == 1, finds
        await stream.aclose()
    finally:
        await client.drop_database(db.name)
        await client.close()
