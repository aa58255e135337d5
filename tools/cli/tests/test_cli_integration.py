"""The `portal` CLI against the real Kafka and MongoDB wire server (typer's CliRunner).

Each test points the services' database variables at databases of its own and uses
topics of its own where it can, so tests never see each other's data. Commands run
their own event loops (asyncio.run), so the tests are synchronous and prepare their
data with asyncio.run too.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient
from typer.testing import CliRunner

from portal_chassis.clock import ManualClock
from portal_chassis.eventstore import EventStore
from portal_chassis.rebuild import read_model_names
from portal_chassis.settings import InfraSettings
from portal_chassis.topics import ensure_topics
from portal_cli import kafka, projections
from portal_cli.main import app
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.billing import InvoicePaymentRecorded, InvoicePaymentStarted
from portal_contracts.events.wallet import WalletCredited, WalletDebited, WalletOpened
from portal_gateway.dashboard import READ_MODELS, DashboardProjection
from portal_tests.infra import Infra
from portal_wallet.handlers import WalletService
from portal_wallet.payments import SandboxProvider
from portal_wallet.settings import WalletSettings

pytestmark = pytest.mark.integration

runner = CliRunner()
DATABASES = ("WALLET", "BILLING", "GATEWAY", "IDENTITY", "PORTAL_OPS")


@pytest.fixture
def env(infra_env: Infra, unique: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every database the CLI reads is this test's own; wide output for assertions."""
    for name in DATABASES:
        monkeypatch.setenv(f"{name}_MONGODB_DATABASE", f"test_cli_{name.lower()}_{unique}")
    monkeypatch.setenv("COLUMNS", "250")
    yield unique

    async def drop() -> None:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra_env.mongodb_uri)
        for name in DATABASES:
            await client.drop_database(f"test_cli_{name.lower()}_{unique}")
        await client.close()

    asyncio.run(drop())


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def db(name: str) -> Any:
    """A database of the test (inside asyncio.run: the client is bound to its loop)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        InfraSettings().mongodb_uri, tz_aware=True
    )
    return client[os.environ[f"{name}_MONGODB_DATABASE"]]


def envelope(event: DomainEvent, subject: str, version: int, **extra: Any) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid.uuid4()),
        source=f"/portal/{event.context}",
        type=event.event_type,
        subject=subject,
        time=event.occurred_at,
        streamversion=version,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
        **extra,
    )


async def publish(topic: str, envelopes: list[EventEnvelope], **headers: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=InfraSettings().kafka_bootstrap_servers)
    await producer.start()
    try:
        for e in envelopes:
            key, hs, value = e.to_kafka()
            hs = {**hs, **headers}
            await producer.send_and_wait(
                topic, value=value, key=key, headers=[(k, v.encode()) for k, v in hs.items()]
            )
    finally:
        await producer.stop()


async def read_topic(topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=InfraSettings().kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = await kafka.partitions(consumer, [topic])
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[Any] = []
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                out.extend(records)
        return out
    finally:
        await consumer.stop()


def wallet_events(account: str, now: datetime) -> list[DomainEvent]:
    return [
        WalletOpened(account_id=account, currency="VND", occurred_at=now),
        WalletCredited(
            account_id=account,
            transaction_id="t1",
            amount=1000,
            currency="VND",
            balance_after=1000,
            reason="top_up",
            reference="r1",
            occurred_at=now + timedelta(seconds=1),
        ),
        WalletDebited(
            account_id=account,
            transaction_id="t2",
            amount=300,
            currency="VND",
            balance_after=700,
            reason="purchase",
            reference="r2",
            occurred_at=now + timedelta(seconds=2),
        ),
    ]


# ------------------------------------------------------------------ events tail


def test_events_tail_prints_one_decoded_line_per_event(env: str) -> None:
    topic = f"clitest-{env}.events"
    account = f"acc-{env}"
    events = wallet_events(account, datetime.now(UTC).replace(microsecond=0))

    async def setup() -> None:
        await ensure_topics(InfraSettings(), [topic])
        stream = f"wallet-{account}"
        await publish(topic, [envelope(e, stream, v) for v, e in enumerate(events, 1)])

    asyncio.run(setup())

    result = invoke("events", "tail", topic, "--from-beginning", "--no-follow")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3
    assert "WalletOpened" in lines[0] and f"wallet-{account}@1" in lines[0]
    assert "WalletCredited" in lines[1] and "amount=1000" in lines[1]
    assert "WalletDebited" in lines[2] and 'reason="purchase"' in lines[2]

    only = invoke(
        "events", "tail", topic, "--from-beginning", "--no-follow", "--type", "WalletDebited"
    )
    assert only.exit_code == 0
    assert only.output.strip().splitlines() == [lines[2]]

    first = invoke("events", "tail", topic, "--from-beginning", "--limit", "1")
    assert first.exit_code == 0
    assert len(first.output.strip().splitlines()) == 1

    assert invoke("events", "tail", f"nope-{env}", "--no-follow").exit_code == 1


# ------------------------------------------------------------------ stream show


def _wallet_service(database: Any) -> WalletService:
    provider = SandboxProvider(
        "secret", expiry=timedelta(minutes=15), bank_bin="970436", bank_account="1"
    )
    return WalletService(
        EventStore(database),
        database,
        WalletSettings(),
        {"sandbox": provider},
        ManualClock(datetime.now(UTC).replace(microsecond=0)),
    )


def test_stream_show_prints_the_stored_events_with_versions(env: str) -> None:
    account = f"acc-{env}"

    async def setup() -> None:
        service = _wallet_service(db("WALLET"))
        await service.store.setup()
        await service.open_wallet(account, cause="test")
        await service.credit(account, 2500, "VND", "adjustment", "gift", "k1", actor="test")

    asyncio.run(setup())

    result = invoke("stream", "show", "wallet", f"wallet-{account}")
    assert result.exit_code == 0, result.output
    assert f"wallet-{account} (2 events)" in result.output
    assert "WalletOpened" in result.output
    assert "WalletCredited" in result.output and "amount=2500" in result.output
    rows = [line for line in result.output.splitlines() if "Wallet" in line and "│" in line]
    assert [row.split("│")[1].strip() for row in rows] == ["1", "2"]

    full = invoke("stream", "show", "wallet", f"wallet-{account}", "--json")
    assert '"balance_after": 2500' in full.output

    assert invoke("stream", "show", "wallet", "wallet-nobody").exit_code == 1
    assert invoke("stream", "show", "nosuchservice", "x").exit_code == 2


# ------------------------------------------------------------------ dead letters


def test_dlq_list_show_and_redrive_once(env: str) -> None:
    topic = f"clitest-{env}.events"
    account = f"acc-{env}"
    event = wallet_events(account, datetime.now(UTC).replace(microsecond=0))[1]
    original = envelope(event, f"wallet-{account}", 2, correlationid="corr-1", actor="user-1")

    async def setup() -> None:
        await ensure_topics(InfraSettings(), [topic, f"{topic}.dlq"])
        await publish(
            f"{topic}.dlq",
            [original],
            dlq_error="Traceback...\nValueError: the projection broke",
            dlq_group="test-group",
            dlq_topic=topic,
        )

    asyncio.run(setup())

    listed = invoke("dlq", "list", topic)
    assert listed.exit_code == 0, listed.output
    assert original.id in listed.output
    assert "ValueError: the projection broke" in listed.output
    assert "test-group" in listed.output

    shown = invoke("dlq", "show", topic, "--id", original.id)
    assert shown.exit_code == 0, shown.output
    assert "ce_correlationid" in shown.output and "the projection broke" in shown.output
    assert invoke("dlq", "show", topic, "--id", "no-such-id").exit_code == 1

    redriven = invoke("dlq", "redrive", f"{topic}.dlq", "--id", original.id, "--actor", "alice")
    assert redriven.exit_code == 0, redriven.output
    assert "1 redriven, 0 skipped, by alice" in redriven.output

    again = invoke("dlq", "redrive", topic)  # everything: the one message was done already
    assert again.exit_code == 0, again.output
    assert "0 redriven, 1 skipped" in again.output
    assert "already redriven by alice" in again.output

    records = asyncio.run(read_topic(topic))
    assert len(records) == 1  # published once, never twice
    record = records[0]
    headers = {k: v.decode() for k, v in record.headers}
    assert record.key == f"wallet-{account}".encode()
    assert headers["redriven_by"] == "alice"
    assert datetime.fromisoformat(headers["redriven_at"]) <= datetime.now(UTC)
    assert not any(k.startswith("dlq_") for k in headers)
    again_envelope = EventEnvelope.from_kafka(headers, record.value)
    assert again_envelope == original  # the original key, headers and value

    assert "alice (redriven)" in invoke("dlq", "list", topic).output


# ------------------------------------------------------------------ money


def _ledger(env: str, *, dashboard_balance_off: int = 0, stray_debit: bool = False) -> None:
    """A wallet credited 1000 and debited 300 for an invoice payment billing recorded,
    with its dashboard fed by the gateway's own projection."""
    account = f"acc-{env}"
    now = datetime.now(UTC).replace(microsecond=0)

    async def setup() -> None:
        wallet_db, billing_db, gateway_db = db("WALLET"), db("BILLING"), db("GATEWAY")
        service = _wallet_service(wallet_db)
        await service.store.setup()
        await service.open_wallet(account, cause="test")
        await service.credit(account, 1000, "VND", "top_up", "top-up-1", "k-credit")
        await service.debit(account, 300, "VND", "invoice_payment", "PRO-1", "pay-1")
        if stray_debit:
            await service.debit(account, 50, "VND", "invoice_payment", "PRO-2", "pay-stray")
        billing = EventStore(billing_db)
        await billing.setup()
        common = {"account_id": account, "invoice_id": "inv-1", "payment_id": "pay-1"}
        await billing.append(
            "invoice-inv-1",
            0,
            [
                InvoicePaymentStarted(
                    **common,
                    channel="wallet",
                    amount=300,
                    currency="VND",
                    reference="PRO-1",
                    occurred_at=now,
                )
            ],
        )
        await billing.append(
            "invoice-inv-1",
            1,
            [
                InvoicePaymentRecorded(
                    **common,
                    channel="wallet",
                    amount=300,
                    applied=300,
                    amount_due_after=0,
                    currency="VND",
                    reference="PRO-1",
                    occurred_at=now,
                )
            ],
        )
        projection = DashboardProjection(gateway_db)
        stream = f"wallet-{account}"
        for stored in await service.store.read_stream(stream):
            await projection.handle(envelope(stored.event, stream, stored.version), stored.event)
        if dashboard_balance_off:
            await gateway_db["dashboards"].update_one(
                {"_id": account}, {"$inc": {"wallet.balance": dashboard_balance_off}}
            )

    asyncio.run(setup())


def test_money_reconcile_is_clean_when_everything_agrees(env: str) -> None:
    _ledger(env)
    result = invoke("money", "reconcile")
    assert result.exit_code == 0, result.output
    assert "money reconciles" in result.output
    assert "1 wallets, 1 invoice debits, 1 billing payments, 1 dashboards" in result.output


def test_money_reconcile_fails_on_a_dashboard_that_differs(env: str) -> None:
    _ledger(env, dashboard_balance_off=5)
    result = invoke("money", "reconcile")
    assert result.exit_code == 1, result.output
    assert "dashboard = wallet" in result.output
    assert "700 (wallet)" in result.output and "705 (dashboard)" in result.output


def test_money_reconcile_fails_on_a_debit_without_a_payment(env: str) -> None:
    _ledger(env, stray_debit=True)
    result = invoke("money", "reconcile")
    assert result.exit_code == 1, result.output
    assert "debit = payment" in result.output and "pay-stray" in result.output
    assert "1 difference(s)" in result.output  # the wallet and its dashboard agree


def test_seed_demo_reports_an_unreachable_gateway(env: str) -> None:
    result = invoke("seed", "demo", "--url", "http://127.0.0.1:9", "--secret", "s")
    assert result.exit_code == 1
    assert "seeding failed" in result.output


def test_admin_create_makes_a_platform_admin_once(env: str) -> None:
    first = invoke("admin", "create", "root@example.com", "--password", "a-long-passphrase-1")
    assert first.exit_code == 0, first.output
    assert "created (owner)" in first.output
    second = invoke("admin", "create", "ops@example.com", "--password", "a-long-passphrase-2")
    assert second.exit_code == 0, second.output
    assert "created (staff)" in second.output
    again = invoke("admin", "create", "ops@example.com", "--password", "a-long-passphrase-2")
    assert again.exit_code == 1
    assert "registered already" in again.output

    async def roles() -> dict[str, Any]:
        from portal_identity.domain import user_stream

        identity = db("IDENTITY")
        emails = {d["_id"]: d async for d in identity["emails"].find({})}
        store = EventStore(identity)
        out = {}
        for email, doc in emails.items():
            events = await store.read_stream(user_stream(doc["user_id"]))
            out[email] = json.loads(events[0].event.model_dump_json())["platform_roles"]
        return out

    assert asyncio.run(roles()) == {
        "root@example.com": ["platform_admin"],
        "ops@example.com": ["platform_admin"],
    }


# ------------------------------------------------------------------ projections


def _hold_group(group: str, topic: str, joined: threading.Event, stop: threading.Event) -> None:
    """A consumer sitting in `group` (a projector that was not stopped)."""

    async def main() -> None:
        consumer = AIOKafkaConsumer(
            topic,
            group_id=group,
            bootstrap_servers=InfraSettings().kafka_bootstrap_servers,
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=200)
            joined.set()
            while not stop.is_set():
                await consumer.getmany(timeout_ms=200)
        finally:
            await consumer.stop()

    asyncio.run(main())


def test_projection_rebuild_replays_to_lag_zero_and_refuses_while_consumed(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = f"acc-{env}"
    events = wallet_events(account, datetime.now(UTC).replace(microsecond=0))
    # The projector's topics, but of this test only: other sessions' platforms consume
    # the real ones.
    topic = f"clitest-{env}.events"
    monkeypatch.setattr(projections, "_dashboard_topics", lambda: [topic])

    async def setup() -> None:
        await ensure_topics(InfraSettings(), [topic])
        stream = f"wallet-{account}"
        await publish(topic, [envelope(e, stream, v) for v, e in enumerate(events, 1)])

    asyncio.run(setup())

    async def dashboard() -> dict[str, Any] | None:
        gateway = db("GATEWAY")
        status = await gateway["projection_status"].find_one({"_id": "gateway-dashboard"})
        names = read_model_names(status, READ_MODELS)
        found: dict[str, Any] | None = await gateway[names["dashboards"]].find_one({"_id": account})
        return found

    async def group() -> str:
        doc = await db("GATEWAY")["projection_status"].find_one({"_id": "gateway-dashboard"})
        assert doc is not None
        return str(doc["group_id"])

    before = invoke("projections", "status")
    assert before.exit_code == 0, before.output
    assert "gateway-dashboard (gateway) group gateway-dashboard:" in before.output
    assert "wallet-transactions (wallet)" in before.output

    rebuilt = invoke("projections", "rebuild", "gateway-dashboard", "--yes")
    assert rebuilt.exit_code == 0, rebuilt.output
    # No projector runs: the CLI rebuilds here, beside the (empty) live read models.
    assert "rebuilding beside the live read models (here)" in rebuilt.output
    assert "readers switched to dashboards_" in rebuilt.output
    assert "events/s" in rebuilt.output
    assert "lag 0 events" in rebuilt.output
    board = asyncio.run(dashboard())
    assert board is not None and board["wallet"]["balance"] == 700
    # The money checks read the dashboards readers use now (this test has no wallet).
    books = invoke("money", "reconcile", "--account", account)
    assert books.exit_code == 1 and "700 (dashboard)" in books.output, books.output

    status = invoke("projections", "status", "gateway-dashboard")
    assert status.exit_code == 0
    current = asyncio.run(group())
    assert f"group {current}:" in status.output and "lag 0 events" in status.output

    joined, stop = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_group, args=(current, topic, joined, stop))
    holder.start()
    try:
        assert joined.wait(60)
        # Something consumes in the group but it is no projector: nobody picks the
        # request up, and it is withdrawn.
        refused = invoke(
            "projections", "rebuild", "gateway-dashboard", "--yes", "--claim-timeout", "2"
        )
    finally:
        stop.set()
        holder.join(60)
    assert refused.exit_code == 1
    assert "no projector picked the rebuild up" in refused.output
    assert asyncio.run(group()) == current  # nothing switched, no new group
    assert asyncio.run(dashboard()) is not None

    no_rebuild = invoke("projections", "rebuild", "wallet-transactions", "--yes")
    assert no_rebuild.exit_code == 2
    assert "no rebuild mechanism" in no_rebuild.output


def test_money_reconcile_can_be_limited_to_accounts(env: str) -> None:
    _ledger(env, dashboard_balance_off=5)
    other = invoke("money", "reconcile", "--account", "someone-else")
    assert other.exit_code == 0, other.output
    assert "0 wallets" in other.output
    mine = invoke("money", "reconcile", "--account", f"acc-{env}")
    assert mine.exit_code == 1
