"""Replay with duplicates: 10% of every topic's messages are published again (copies with
the same key, headers and value, as a producer retry or a redrive makes them), then every
projection is rebuilt from offset 0 under a new consumer group into fresh collections. The
rebuilt read models equal the live ones, and the live ones did not move on the copies.

It runs on the fault suite's platform after the outage tests (file order), whose load
left events of every kind a top-up makes in the topics.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from portal_cli import projections
from portal_tests.e2e import Customer, eventually, paid, webhook

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DUPLICATED = 0.10


def _comparable(value: Any) -> Any:
    """A read-model document without its timestamps (the rest must match exactly)."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if not isinstance(v, datetime)}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


async def _dump(db: AsyncDatabase[dict[str, Any]], collection: str) -> dict[Any, Any]:
    return {doc["_id"]: _comparable(doc) async for doc in db[collection].find({})}


async def _read_all(bootstrap: str, topics: list[str]) -> list[Any]:
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        tps = list(consumer.assignment())
        while not tps:
            await asyncio.sleep(0.1)
            tps = list(consumer.assignment())
        ends = await consumer.end_offsets(tps)
        records: list[Any] = []
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            batch = await consumer.getmany(timeout_ms=1000, max_records=1000)
            for part in batch.values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()


async def _publish_copies(bootstrap: str, records: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send(r.topic, value=r.value, key=r.key, headers=list(r.headers))
            for r in records
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


class Quiet(projections.Progress):
    pass


def _caught_up(group: str, topics: list[str]) -> bool:
    lag = asyncio.run(projections.lag_of(group, topics))
    return all(p.lag == 0 for p in lag)


def test_rebuild_from_offset_zero_with_duplicates_gives_identical_read_models(
    platform, monkeypatch
):
    # Every projection's events in the topics: a customer who topped up and paid.
    customer = Customer(platform["url"])
    top_up = customer.top_up(30_000)
    assert top_up.status_code == 201, top_up.text
    r = webhook(customer.base_url, paid(top_up.json()["payment"]["reference"], 30_000))
    assert r.status_code == 200, r.text
    customer.wait_for_balance(30_000, timeout=120)

    bootstrap = platform["kafka_bootstrap_servers"]
    prefix = platform["db_prefix"]
    # The CLI's replay reads its settings from the environment, as in production.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("MONGODB_URI", platform["mongodb_uri"])
    known = projections.known()
    dashboard, wallet = known["gateway-dashboard"], known["wallet-transactions"]
    collections = {
        dashboard.name: ["dashboards", "staff_dashboards"],
        wallet.name: ["transactions"],
    }
    databases = {dashboard.name: f"{prefix}_gateway", wallet.name: f"{prefix}_wallet"}

    async def live_groups() -> dict[str, str]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform["mongodb_uri"])
        try:
            return {
                p.name: await projections.group_of(client[databases[p.name]], p)
                for p in (dashboard, wallet)
            }
        finally:
            await client.close()

    groups = asyncio.run(live_groups())

    def everything_applied() -> bool:
        return all(_caught_up(groups[p.name], p.topics()) for p in (dashboard, wallet))

    eventually(everything_applied, timeout=120, what="the live projections caught up")

    async def snapshot(suffix: str = "") -> dict[str, dict[str, dict[Any, Any]]]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            platform["mongodb_uri"], tz_aware=True
        )
        try:
            return {
                name: {c: await _dump(client[databases[name] + suffix], c) for c in cols}
                for name, cols in collections.items()
            }
        finally:
            await client.close()

    before = asyncio.run(snapshot())
    assert before[dashboard.name]["dashboards"], "no dashboard to compare"
    assert before[wallet.name]["transactions"], "no transaction to compare"
    # The wallet's group is fixed: on a broker kept from earlier runs, their events sit
    # in the topic unconsumed by this run's wallet (and their copies are new to it).
    # Its rows are compared for this run's accounts; the dashboard's group started at 0.
    accounts = {row.get("account_id") for row in before[wallet.name]["transactions"].values()}

    def ours(models: dict[str, dict[str, dict[Any, Any]]]) -> dict[str, dict[str, Any]]:
        rows = models[wallet.name]["transactions"]
        mine = {k: v for k, v in rows.items() if v.get("account_id") in accounts}
        return {**models, wallet.name: {"transactions": mine}}

    # 10% of every topic's messages again, at the end of their partitions.
    topics = sorted(set(dashboard.topics()) | set(wallet.topics()))
    records = asyncio.run(_read_all(bootstrap, topics))
    copies = random.Random(20).sample(records, max(1, int(len(records) * DUPLICATED)))
    asyncio.run(_publish_copies(bootstrap, copies))
    eventually(everything_applied, timeout=120, what="the live projections took the copies")
    assert ours(asyncio.run(snapshot())) == before, "the live read models moved on duplicates"

    # Rebuild each from offset 0 into fresh collections under a new group.
    async def rebuild() -> None:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            platform["mongodb_uri"], tz_aware=True
        )
        try:
            for p in (dashboard, wallet):
                db = client[databases[p.name] + "_replay"]
                lag = await projections.replay(db, p, f"replay-{uuid.uuid4().hex[:8]}", Quiet())
                assert all(part.lag == 0 for part in lag), lag
        finally:
            await client.close()

    asyncio.run(rebuild())
    print(
        f"\nreplay: {len(records)} messages, {len(copies)} copies re-published; "
        f"{len(before[dashboard.name]['dashboards'])} dashboards, "
        f"{len(before[wallet.name]['transactions'])} wallet transactions compared"
    )
    after = ours(asyncio.run(snapshot("_replay")))
    for name, cols in collections.items():
        for c in cols:
            live, rebuilt = before[name][c], after[name][c]
            assert rebuilt.keys() == live.keys(), (name, c, rebuilt.keys() ^ live.keys())
            for key in live:
                assert rebuilt[key] == live[key], (name, c, key)
