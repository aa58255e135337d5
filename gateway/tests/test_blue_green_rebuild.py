"""Blue/green rebuild of the dashboards under a steady stream of top-ups (real Kafka and
FerretDB): the live projection keeps serving and updating while the rebuild replays
beside it, and a dashboard read in a loop all along never comes back empty or older
than the read before it; afterwards the read models equal a fresh projection's."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from portal_chassis.auth import Principal
from portal_chassis.bus import KafkaEventPublisher, make_broker
from portal_chassis.consumer import subscribe
from portal_chassis.rebuild import STATUS, claim, read_model_names, request_rebuild
from portal_chassis.settings import InfraSettings
from portal_chassis.topics import ensure_topics
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.wallet import TopUpCompleted, WalletCredited
from portal_gateway.dashboard import (
    DASHBOARDS,
    PROJECTION,
    READ_MODELS,
    STAFF_DASHBOARDS,
    DashboardProjection,
    DashboardQueries,
)
from portal_gateway.projector import blue_green

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 1, tzinfo=UTC)
AMOUNT = 1_000


def top_up(account: str, n: int) -> list[EventEnvelope]:
    """Top-up n of the account (from 1): completed, then the credit; versions 2n-1, 2n."""
    at = T0 + timedelta(seconds=n)
    completed = TopUpCompleted(
        account_id=account,
        top_up_id=f"t{n}",
        provider="sandbox",
        reference=f"r{n}",
        provider_event_id=f"p{n}",
        amount_requested=AMOUNT,
        amount_received=AMOUNT,
        currency="VND",
        occurred_at=at,
    )
    credited = WalletCredited(
        account_id=account,
        transaction_id=f"tx{n}",
        amount=AMOUNT,
        currency="VND",
        balance_after=AMOUNT * n,
        reason="top_up",
        reference=f"r{n}",
        occurred_at=at,
    )
    return [
        EventEnvelope(
            id=str(uuid.uuid4()),
            source="/portal/wallet",
            type=event.event_type,
            subject=f"wallet-{account}",
            time=at,
            streamversion=2 * n - 1 + i,
            tenant=account,
            data=event.model_dump(mode="json"),
        )
        for i, event in enumerate((completed, credited))
    ]


async def settled(db: Any, accounts: list[str], balance: int, timeout: float = 120) -> None:
    """Wait until every account's dashboard shows `balance`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        names = read_model_names(await db[STATUS].find_one({"_id": PROJECTION}), READ_MODELS)
        docs = db[names[DASHBOARDS]].find({"_id": {"$in": accounts}})
        balances = [d.get("wallet", {}).get("balance", 0) async for d in docs]
        if balances == [balance] * len(accounts):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"dashboards of {db.name} not settled at {balance}")


async def read_models(db: Any) -> dict[str, list[dict[str, Any]]]:
    names = read_model_names(await db[STATUS].find_one({"_id": PROJECTION}), READ_MODELS)
    return {
        name: [doc async for doc in db[names[name]].find({}).sort("_id", 1)] for name in READ_MODELS
    }


async def test_rebuild_under_top_ups_never_serves_an_empty_or_older_dashboard(
    infra_env, unique, mongo_db
):
    topic = f"test-{unique}.events"
    infra = InfraSettings()
    await ensure_topics(infra, [topic])
    accounts = [f"acc-{unique}-{i}" for i in range(2)]
    watched = accounts[0]
    history = 10
    publisher_broker = make_broker(infra.kafka_bootstrap_servers, client_id="test")
    await publisher_broker.start()
    publisher = KafkaEventPublisher(publisher_broker)
    published = 0
    switched = asyncio.Event()

    async def top_ups(first: int, last: int | None = None) -> int:
        """Top-ups `first`..`last`, or on until 10 after the readers were switched."""
        nonlocal published
        n, after_switch = first, 0
        while n <= last if last is not None else after_switch < 10:
            await publisher.publish(
                [(topic, e) for account in accounts for e in top_up(account, n)]
            )
            published = n
            n += 1
            after_switch += switched.is_set()
            await asyncio.sleep(0.5)  # ~8 events/s: what a loaded CI machine projects
        return published

    # The live projection runs as the projector runs it (chassis consumer, own group).
    live = DashboardProjection(mongo_db)
    consumer = KafkaBroker(infra.kafka_bootstrap_servers, graceful_timeout=5)
    subscribe(consumer, [topic], f"live-{unique}", live.handle)
    await consumer.start()
    queries = DashboardQueries(mongo_db)
    principal = Principal("u1", watched, frozenset({"owner"}), None, "")
    reads: list[tuple[int, str]] = []
    try:
        await top_ups(1, history)  # some history before the rebuild
        await settled(mongo_db, accounts, AMOUNT * history)

        async def balance() -> int:
            board = await queries.for_account(principal)
            return int(board["wallet"]["balance"])

        stream = asyncio.create_task(top_ups(history + 1))

        rebuild = blue_green(mongo_db, infra, live, topics=[topic])
        rebuild.GRACE = 0.5
        requested = await request_rebuild(mongo_db, PROJECTION, READ_MODELS)
        assert requested is not None
        claimed = await claim(mongo_db, PROJECTION)
        assert claimed is not None and claimed["group_id"] == requested["group_id"]
        rebuilding = asyncio.create_task(rebuild.run(claimed))
        while not stream.done() or await balance() < AMOUNT * published:
            status = await mongo_db[STATUS].find_one({"_id": PROJECTION}) or {}
            collection = read_model_names(status, READ_MODELS)[DASHBOARDS]
            if collection != DASHBOARDS:
                switched.set()
            reads.append((await balance(), collection))
            await asyncio.sleep(0.01)
        names = await rebuilding
        last = await stream
        await settled(mongo_db, accounts, AMOUNT * last)
    finally:
        await consumer.stop()
        await publisher_broker.stop()

    balances = [b for b, _ in reads]
    # Every read shows a prefix of the account's events (its balance after top-up k), never
    # an empty dashboard, and never less than the read before it.
    assert all(b % AMOUNT == 0 and AMOUNT * history <= b <= AMOUNT * last for b in balances)
    assert balances == sorted(balances), balances
    # Top-ups came all along (the stream went on after the switch), and reads saw both
    # sides of the switch.
    assert [c for _, c in reads] == sorted((c for _, c in reads), key=lambda c: c != DASHBOARDS), (
        "reads went back to the old collection"
    )
    assert {c for _, c in reads} == {DASHBOARDS, names[DASHBOARDS]}
    assert names == requested["read_models"]
    collections = await mongo_db.list_collection_names()
    assert DASHBOARDS not in collections and STAFF_DASHBOARDS not in collections  # dropped

    # The end state is a fresh projection's: replay everything into another database.
    fresh_db = mongo_db.client[f"{mongo_db.name}_fresh"]
    try:
        fresh = DashboardProjection(fresh_db)
        again = KafkaBroker(infra.kafka_bootstrap_servers, graceful_timeout=5)
        subscribe(again, [topic], f"fresh-{unique}", fresh.handle)
        await again.start()
        try:
            await settled(fresh_db, accounts, AMOUNT * last)
        finally:
            await again.stop()
        rebuilt, expected = await read_models(mongo_db), await read_models(fresh_db)
        assert len(rebuilt[DASHBOARDS]) == len(accounts)
        assert rebuilt == expected
    finally:
        await mongo_db.client.drop_database(fresh_db.name)
