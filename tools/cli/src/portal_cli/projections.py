"""Projections: where each one is (per partition) and their rebuilds.

A projection records itself in its service's `projection_status` collection (the
chassis' ProjectionStatus): its consumer group, events applied, the age of the newest
applied event, the collections readers use. Its position is its group's committed
offsets; its lag per partition is the topic's end offset minus that.

Rebuild is blue/green (portal_chassis.rebuild; only the dashboard projector has one): the
CLI requests it in the status document; a running projector replays beside its live read
models and switches readers over, and with no projector running the CLI does the same
here. Either way the CLI follows the progress from the status document.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.consumer import dlq_topic
from portal_chassis.rebuild import (
    STATUS,
    BlueGreenRebuild,
    claim,
    read_model_names,
    request_rebuild,
    withdraw_request,
)
from portal_cli import config, kafka
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope

Handler = Callable[[EventEnvelope, DomainEvent], Awaitable[None]]


@dataclass(frozen=True)
class Projection:
    name: str
    service: str
    """The process whose database holds the read models and the status."""
    topics: Callable[[], list[str]]
    default_group: str
    """The group when the status document names none (a projection never rebuilt)."""
    rebuild: Callable[[AsyncDatabase[dict[str, Any]]], BlueGreenRebuild] | None = None
    """The projection's blue/green rebuild, run here when no projector runs."""
    handler: Callable[[AsyncDatabase[dict[str, Any]]], Handler] | None = None


def _dashboard_topics() -> list[str]:
    from portal_gateway.projector import TOPICS

    return list(TOPICS)


def _dashboard_rebuild(db: AsyncDatabase[dict[str, Any]]) -> BlueGreenRebuild:
    from portal_gateway.projector import blue_green

    return blue_green(db, config.infra(), topics=_dashboard_topics())


def _dashboard_handler(db: AsyncDatabase[dict[str, Any]]) -> Handler:
    from portal_gateway.dashboard import DashboardProjection

    return DashboardProjection(db).handle


def _wallet_topics() -> list[str]:
    from portal_contracts.events.wallet import WalletEvent

    return [WalletEvent.topic()]


def _wallet_handler(db: AsyncDatabase[dict[str, Any]]) -> Handler:
    from portal_wallet.projections import TransactionsProjection

    return TransactionsProjection(db).handle


def _known() -> list[Projection]:
    from portal_gateway.dashboard import PROJECTION as DASHBOARD
    from portal_wallet.projections import PROJECTION as WALLET_TRANSACTIONS

    return [
        Projection(
            DASHBOARD,
            "gateway",
            _dashboard_topics,
            DASHBOARD,
            rebuild=_dashboard_rebuild,
            handler=_dashboard_handler,
        ),
        # The wallet subscribes under a fixed group named like the projection.
        Projection(
            WALLET_TRANSACTIONS,
            "wallet",
            _wallet_topics,
            WALLET_TRANSACTIONS,
            handler=_wallet_handler,
        ),
    ]


def known() -> dict[str, Projection]:
    return {p.name: p for p in _known()}


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    position: int | None
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.position or 0)


@dataclass(frozen=True)
class Status:
    projection: Projection
    group_id: str
    document: dict[str, Any]
    partitions: list[PartitionLag]

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)


async def group_of(db: AsyncDatabase[dict[str, Any]], projection: Projection) -> str:
    doc = await db[STATUS].find_one({"_id": projection.name}) or {}
    return str(doc.get("group_id") or projection.default_group)


async def lag_of(group_id: str, topics: list[str]) -> list[PartitionLag]:
    done = await kafka.committed(group_id)
    async with kafka.consumer() as client:
        tps = await kafka.partitions(client, topics)
        ends = await client.end_offsets(tps) if tps else {}
    return [PartitionLag(tp.topic, tp.partition, done.get(tp), ends[tp]) for tp in tps]


async def status(db: AsyncDatabase[dict[str, Any]], projection: Projection) -> Status:
    doc = await db[STATUS].find_one({"_id": projection.name}) or {}
    group = await group_of(db, projection)
    return Status(projection, group, doc, await lag_of(group, projection.topics()))


class Progress:
    """What the replay reports as it goes (a rich progress bar in the CLI)."""

    def start(self, total: int) -> None: ...

    def advance(self, done: int, total: int) -> None: ...


class RebuildRefused(Exception):
    """The rebuild could not start (one under way, or nobody to run it)."""


async def rebuild(
    db: AsyncDatabase[dict[str, Any]],
    projection: Projection,
    progress: Progress,
    *,
    run_here: bool,
    claim_timeout: float = 60.0,
    poll: float = 0.5,
) -> dict[str, str]:
    """Request a blue/green rebuild, run it here (`run_here`: no projector is running) or
    let the projector run it, and follow it to the switch; the new collections."""
    assert projection.rebuild is not None
    blue_green = projection.rebuild(db)
    requested = await request_rebuild(db, projection.name, blue_green.defaults)
    if requested is None:
        raise RebuildRefused("a rebuild is already requested or under way")
    group = requested["group_id"]
    task: asyncio.Task[dict[str, str]] | None = None
    if run_here:
        claimed = await claim(db, projection.name)
        if claimed is None or claimed["group_id"] != group:
            raise RebuildRefused("another process claimed the rebuild")
        task = asyncio.create_task(blue_green.run(claimed))
    asked = time.monotonic()
    started = False
    try:
        while True:
            current = ((await db[STATUS].find_one({"_id": projection.name})) or {}).get("rebuild")
            if not current or current.get("group_id") != group:
                break  # switched over
            if current["state"] == "requested":
                late = time.monotonic() - asked > claim_timeout
                if late and await withdraw_request(db, projection.name, group):
                    raise RebuildRefused(
                        f"no projector picked the rebuild up within {claim_timeout:.0f} s "
                        "(request withdrawn)"
                    )
            else:
                if not started:
                    progress.start(int(current.get("total", 0)))
                    started = True
                progress.advance(int(current.get("applied", 0)), int(current.get("total", 0)))
            if task is not None and task.done():
                task.result()  # its error, if it failed
            await asyncio.sleep(poll)
        if task is not None:
            await task  # the grace period, then the old collections are dropped
    except BaseException:
        if task is not None:
            task.cancel()
        raise
    doc = await db[STATUS].find_one({"_id": projection.name}) or {}
    names = read_model_names(doc, blue_green.defaults)
    if names != requested["read_models"]:
        raise RebuildRefused("the rebuild was abandoned before its switch")
    return names


async def replay(
    db: AsyncDatabase[dict[str, Any]],
    projection: Projection,
    group_id: str,
    progress: Progress,
    *,
    max_attempts: int = 3,
) -> list[PartitionLag]:
    """Consume the projection's topics into `group_id` until its lag is zero.

    Like the chassis' consumer: an unknown event type is skipped, a message that keeps
    failing goes to `<topic>.dlq` with the error, and offsets are committed only after
    the batch's effects are stored.
    """
    assert projection.handler is not None
    handle = projection.handler(db)
    topics = projection.topics()
    async with (
        kafka.consumer(group_id, auto_offset_reset="earliest") as client,
        kafka.producer() as dlq,
    ):
        tps = await kafka.partitions(client, topics)
        client.assign(tps)
        done = await kafka.committed(group_id)
        for tp in tps:
            client.seek(tp, done.get(tp, 0))
        ends = await client.end_offsets(tps)
        total = sum(ends.values())
        progress.start(total)
        while True:
            applied = sum(await asyncio.gather(*(client.position(tp) for tp in tps)))
            progress.advance(applied, total)
            if all([await client.position(tp) >= ends[tp] for tp in tps]):
                ends = await client.end_offsets(tps)  # new events arrived meanwhile?
                total = sum(ends.values())
                if all([await client.position(tp) >= ends[tp] for tp in tps]):
                    break
            batch = await client.getmany(timeout_ms=500, max_records=500)
            for records in batch.values():
                for record in records:
                    await _apply(record, handle, dlq, group_id, max_attempts)
            if batch:
                await client.commit()
    return await lag_of(group_id, topics)


async def _apply(
    record: Any, handle: Handler, producer: Any, group_id: str, max_attempts: int
) -> None:
    decoded = kafka.decode(record)
    if decoded.unknown:
        return  # a type this build does not know: skipped, as the chassis' consumer does
    if decoded.envelope is None or decoded.event is None:
        await _dead_letter(producer, record, f"undecodable: {decoded.error}", group_id)
        return
    for attempt in range(1, max_attempts + 1):
        try:
            await handle(decoded.envelope, decoded.event)
            return
        except Exception:
            if attempt == max_attempts:
                await _dead_letter(producer, record, traceback.format_exc(limit=5), group_id)
                return
            await asyncio.sleep(0.2 * attempt)


async def _dead_letter(producer: Any, record: Any, error: str, group_id: str) -> None:
    headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq_")]
    headers += [
        ("dlq_error", error[:2000].encode()),
        ("dlq_group", group_id.encode()),
        ("dlq_topic", record.topic.encode()),
    ]
    await producer.send_and_wait(
        dlq_topic(record.topic), value=record.value, key=record.key, headers=headers
    )
