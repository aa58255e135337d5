"""The operational gauges the dashboard and the alerts read are set where the relay already
knows the value (no I/O here: a fake outbox)."""

import asyncio
from typing import Any

from prometheus_client import REGISTRY
from pymongo.errors import DuplicateKeyError

from portal_chassis.bus import make_broker
from portal_chassis.consumer import subscribe
from portal_chassis.relay import OutboxRelay


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


class FakeNotifier:
    async def wait(self, timeout: float) -> None:
        await asyncio.sleep(0.01)

    def notify(self) -> None:
        return None


class FakeLeases:
    def __init__(self, granted: bool) -> None:
        self.granted = granted
        self.owner: str | None = None

    async def update_one(self, query: Any, update: dict[str, Any], **kwargs: Any) -> None:
        if not self.granted:
            raise DuplicateKeyError("held by another replica")
        self.owner = update["$set"]["owner"]

    async def find_one(self, query: Any) -> dict[str, Any]:
        return {"owner": self.owner}

    async def delete_one(self, query: Any) -> None:
        self.owner = None


class FakeStore:
    """An outbox of `pending` commits none of which can be read yet (as while a writer is
    between its marker and its insert), so the relay publishes nothing."""

    def __init__(self, pending: int, *, leases: FakeLeases) -> None:
        self.pending = pending
        self.db = {"leases": leases}
        self.notifier = FakeNotifier()

    async def unpublished_count(self) -> int:
        return self.pending

    async def unpublished_batch(self, limit: int) -> tuple[list[Any], int]:
        return [], min(self.pending, limit)


class DownPublisher:
    async def publish(self, messages: Any) -> None:
        raise ConnectionError("Kafka is away")


async def test_the_leader_reports_the_outbox_backlog_even_when_nothing_can_be_relayed():
    store = FakeStore(7, leases=FakeLeases(granted=True))
    relay = OutboxRelay(store, DownPublisher(), service="metrics-a")  # type: ignore[arg-type]
    assert await relay.relay_once() == 0
    assert sample("portal_outbox_pending_commits", service="metrics-a") == 7
    store.pending = 9
    await relay.relay_once()
    assert sample("portal_outbox_pending_commits", service="metrics-a") == 9


async def test_a_backlog_larger_than_a_batch_is_counted():
    store = FakeStore(7, leases=FakeLeases(granted=True))
    relay = OutboxRelay(store, DownPublisher(), service="metrics-d", batch_size=5)  # type: ignore[arg-type]
    await relay.relay_once()
    assert sample("portal_outbox_pending_commits", service="metrics-d") == 7


async def test_the_relay_reports_whether_it_holds_the_lease():
    for service, granted, expected in (("metrics-b", True, 1), ("metrics-c", False, 0)):
        store = FakeStore(3, leases=FakeLeases(granted=granted))
        relay = OutboxRelay(store, DownPublisher(), service=service)  # type: ignore[arg-type]
        task = asyncio.create_task(relay.run())
        for _ in range(200):
            if sample("portal_outbox_relay_leader", service=service) is not None:
                break
            await asyncio.sleep(0.01)
        relay.stop()
        await asyncio.wait_for(task, 10)
        assert sample("portal_outbox_relay_leader", service=service) == expected
        # only the leader reports the backlog, so max() over replicas is the backlog
        assert sample("portal_outbox_pending_commits", service=service) == (3 if granted else 0)


def test_a_consumer_group_counts_its_dead_letters_from_zero():
    """A series born at 1 would hide the first dead letter from increase() in the alert."""

    async def handler(envelope: Any, event: Any) -> None:
        return None

    broker = make_broker("127.0.0.1:9", client_id="metrics-test")  # never started
    subscribe(broker, ["metrics.events"], "metrics-dlq-group", handler)
    assert sample("portal_events_dead_lettered_total", group="metrics-dlq-group") == 0
