"""Event store rules on the real MongoDB wire server (FerretDB here, MongoDB in Docker)."""

import asyncio

import pytest
from prometheus_client import REGISTRY

from portal_chassis.commands import CommandRunner
from portal_chassis.eventstore import ConcurrencyError, EventStore, IdempotencyKeyReused
from portal_tests.helpers import credit
from portal_wallet import domain

pytestmark = pytest.mark.integration


async def open_wallet(runner: CommandRunner, account: str) -> None:
    await runner.run(
        domain.stream_id(account),
        domain.OpenAccountWallet(
            account_id=account, now=credit(account, 1, 1).occurred_at, opening_currency="VND"
        ),
    )


async def test_fifty_concurrent_appends_at_the_same_version_exactly_one_wins(mongo_db, unique):
    store = EventStore(mongo_db)
    await store.setup()
    stream = f"wallet-{unique}"
    await store.append(stream, 0, [credit(unique, 10, 10)])

    async def attempt(i: int) -> str:
        try:
            await store.append(stream, 1, [credit(unique, 5, 15, i), credit(unique, 1, 16, i)])
            return "won"
        except ConcurrencyError:
            return "lost"

    results = await asyncio.gather(*(attempt(i) for i in range(50)))
    assert results.count("won") == 1 and results.count("lost") == 49
    events = await store.read_stream(stream)
    assert [e.version for e in events] == [1, 2, 3]


async def test_concurrent_commands_through_the_runner_all_land_in_order(mongo_db, unique):
    store = EventStore(mongo_db)
    await store.setup()
    runner = CommandRunner(store, domain.wallet_decider, "wallet")
    stream = domain.stream_id(unique)
    await open_wallet(runner, unique)

    async def credit_one(i: int) -> None:
        await runner.run(
            stream,
            domain.CreditWallet(
                account_id=unique,
                now=credit(unique, 1, 1).occurred_at,
                opening_currency="VND",
                transaction_id=f"t{i}",
                amount=100,
                currency="VND",
                reason="adjustment",
                reference=f"r{i}",
            ),
        )

    # Separate runners model separate replicas: no shared cache.
    others = [CommandRunner(store, domain.wallet_decider, "wallet") for _ in range(3)]
    await asyncio.gather(
        *(credit_one(i) for i in range(10)),
        *(
            CommandRunner.run(
                r,
                stream,
                domain.CreditWallet(
                    account_id=unique,
                    now=credit(unique, 1, 1).occurred_at,
                    opening_currency="VND",
                    transaction_id=f"o{j}",
                    amount=100,
                    currency="VND",
                    reason="adjustment",
                    reference=f"o{j}",
                ),
            )
            for j, r in enumerate(others)
        ),
    )
    state, version = await CommandRunner(store, domain.wallet_decider, "wallet").load(stream)
    assert state.balance == 1300
    events = await store.read_stream(stream)
    assert [e.version for e in events] == list(range(1, version + 1))
    balances = [e.event.balance_after for e in events if hasattr(e.event, "balance_after")]
    assert balances == [100 * i for i in range(1, 14)]


async def test_an_idempotency_key_returns_the_first_commit(mongo_db, unique):
    store = EventStore(mongo_db)
    await store.setup()
    stream = f"wallet-{unique}"
    first = await store.append(
        stream, 0, [credit(unique, 10, 10)], idempotency_key="k1", fingerprint="a"
    )
    again = await store.append(
        stream, 0, [credit(unique, 10, 10)], idempotency_key="k1", fingerprint="a"
    )
    assert again.replayed and again.commit_id == first.commit_id
    with pytest.raises(IdempotencyKeyReused):
        await store.append(
            stream, 1, [credit(unique, 99, 109)], idempotency_key="k1", fingerprint="b"
        )
    assert len(await store.read_stream(stream)) == 1


async def test_a_retried_debit_is_applied_once(mongo_db, unique):
    store = EventStore(mongo_db)
    await store.setup()
    stream = domain.stream_id(unique)
    runner = CommandRunner(store, domain.wallet_decider, "wallet")
    await open_wallet(runner, unique)
    now = credit(unique, 1, 1).occurred_at
    await runner.run(
        stream,
        domain.CreditWallet(
            account_id=unique,
            now=now,
            opening_currency="VND",
            transaction_id="c",
            amount=1000,
            currency="VND",
            reason="adjustment",
            reference="seed",
        ),
    )
    debit = domain.DebitWallet(
        account_id=unique,
        now=now,
        opening_currency="VND",
        transaction_id="d",
        amount=400,
        currency="VND",
        reason="invoice_payment",
        reference="INV-1",
    )
    results = await asyncio.gather(
        *(
            CommandRunner(store, domain.wallet_decider, "wallet").run(
                stream, debit, idempotency_key="pay-INV-1", fingerprint="same"
            )
            for _ in range(8)
        )
    )
    assert sum(not r.replayed for r in results) == 1
    state, _ = await CommandRunner(store, domain.wallet_decider, "wallet").load(stream)
    assert state.balance == 600


async def test_appended_events_are_counted_once_and_a_replayed_command_not_again(mongo_db, unique):
    def appended() -> float:
        labels = {"topic": "wallet.events", "type": "WalletCredited"}
        return REGISTRY.get_sample_value("portal_events_appended_total", labels) or 0.0

    store = EventStore(mongo_db)
    await store.setup()
    stream = f"wallet-{unique}"
    before = appended()
    await store.append(
        stream, 0, [credit(unique, 5, 5), credit(unique, 5, 10)], idempotency_key="k"
    )
    await store.append(
        stream, 0, [credit(unique, 5, 5), credit(unique, 5, 10)], idempotency_key="k"
    )
    assert appended() - before == 2


async def test_snapshots_keep_loading_independent_of_stream_length(mongo_db, unique):
    store = EventStore(mongo_db)
    await store.setup()
    stream = domain.stream_id(unique)
    runner = CommandRunner(store, domain.wallet_decider, "wallet", snapshot_every=20)
    await open_wallet(runner, unique)
    now = credit(unique, 1, 1).occurred_at
    for i in range(45):
        await runner.run(
            stream,
            domain.CreditWallet(
                account_id=unique,
                now=now,
                opening_currency="VND",
                transaction_id=f"c{i}",
                amount=10,
                currency="VND",
                reason="adjustment",
                reference=f"r{i}",
            ),
        )
    snap = await store.load_snapshot(stream, "wallet", domain.wallet_decider.state_version)
    assert snap is not None and snap[0] >= 40
    # A fresh replica (empty cache) starts from the snapshot and reads only the tail.
    fresh = CommandRunner(store, domain.wallet_decider, "wallet")
    tail = await store.read_stream(stream, after_version=snap[0])
    assert len(tail) < 10
    state, version = await fresh.load(stream)
    assert version == 46 and state.balance == 450


async def test_setup_runs_again_on_restart(mongo_db):
    # FerretDB v1.24 drops the connection when createIndexes lists several existing
    # indexes at once; every service restart calls setup() on existing collections.
    for _ in range(3):
        await EventStore(mongo_db).setup()
    names = {i["name"] async for i in await mongo_db["commits"].list_indexes()}
    assert "idempotency_unique" in names


async def test_a_commit_is_announced_to_the_outbox_before_it_is_written(mongo_db, unique):
    store = EventStore(mongo_db)
    await store.setup()
    stream = f"wallet-{unique}"
    commit = await store.append(stream, 0, [credit(unique, 10, 10)])
    assert await mongo_db["outbox"].find_one({"_id": commit.commit_id}) is not None
    assert [c.commit_id for c in await store.unpublished(10)] == [commit.commit_id]
    await store.mark_published([commit.commit_id])
    assert await store.unpublished_count() == 0


async def test_a_writer_that_died_before_its_insert_blocks_nothing_for_long(mongo_db, unique):
    from datetime import UTC, datetime, timedelta

    from portal_chassis.eventstore import commit_key

    store = EventStore(mongo_db)
    await store.setup()
    dead = f"wallet-dead-{unique}"
    # The marker of a commit that never came (its writer died), older than the grace.
    await mongo_db["outbox"].insert_one(
        {
            "_id": commit_key(dead, 1),
            "stream_id": dead,
            "first_version": 1,
            "at": datetime.now(UTC) - timedelta(minutes=5),
        }
    )
    fresh = f"wallet-fresh-{unique}"
    await mongo_db["outbox"].insert_one(
        {
            "_id": commit_key(fresh, 1),
            "stream_id": fresh,
            "first_version": 1,
            "at": datetime.now(UTC),
        }
    )
    live = await store.append(f"wallet-live-{unique}", 0, [credit(unique, 1, 1)])
    pending = await store.unpublished(10)
    assert [c.commit_id for c in pending] == [live.commit_id]
    # The stale marker is gone; the fresh one (a writer mid-append) is kept.
    assert await mongo_db["outbox"].find_one({"_id": commit_key(dead, 1)}) is None
    assert await mongo_db["outbox"].find_one({"_id": commit_key(fresh, 1)}) is not None
    # When that writer's insert lands, the commit is relayed like any other.
    await store.append(fresh, 0, [credit(unique, 2, 2)])
    assert commit_key(fresh, 1) in {c.commit_id for c in await store.unpublished(10)}


async def test_reading_a_stream_uses_point_lookups_only(mongo_db, unique):
    store = EventStore(mongo_db)
    await store.setup()
    stream = f"wallet-{unique}"
    for v in range(5):
        await store.append(stream, v, [credit(unique, 1, v + 1)])
    assert [e.version for e in await store.read_stream(stream, after_version=3)] == [4, 5]
    assert await store.stream_version(stream) == 5
    assert await EventStore(mongo_db).stream_version(stream) == 5


async def test_numbers_are_unique_under_concurrency(mongo_db):
    from portal_chassis.numbers import claim_number

    numbers = await asyncio.gather(
        *(claim_number(mongo_db["numbers"], "TK", 2026) for _ in range(20))
    )
    assert len(set(numbers)) == 20
    assert sorted(numbers)[0] == "TK-2026-000001"
    assert await claim_number(mongo_db["numbers"], "TK", 2026) == "TK-2026-000021"


async def test_concurrent_upserts_of_one_new_id_all_succeed(mongo_db, unique):
    """The CI failure of 2026-11-22: two deliveries wrote the same lookup row at once."""
    from portal_chassis.mongo import replace_by_id, update_by_id

    collection = mongo_db["lookups"]
    await asyncio.gather(
        *(update_by_id(collection, unique, {"$set": {"by": i}}) for i in range(12))
    )
    row = await collection.find_one({"_id": unique})
    assert row is not None and row["by"] in range(12)

    other = f"{unique}-whole"
    await asyncio.gather(*(replace_by_id(collection, other, {"by": i}) for i in range(12)))
    assert await collection.count_documents({"_id": other}) == 1


async def test_prepare_gives_each_attempt_its_inputs_for_the_state_it_decides_on(mongo_db, unique):
    """`prepare` runs before every decision (again after a lost race), on that state."""
    store = EventStore(mongo_db)
    await store.setup()
    stream = domain.stream_id(unique)
    runner = CommandRunner(store, domain.wallet_decider, "wallet")
    await open_wallet(runner, unique)
    other = CommandRunner(store, domain.wallet_decider, "wallet")  # another replica
    seen: list[int] = []

    def credit_command(transaction_id: str, amount: int) -> domain.CreditWallet:
        return domain.CreditWallet(
            account_id=unique,
            now=credit(unique, 1, 1).occurred_at,
            opening_currency="VND",
            transaction_id=transaction_id,
            amount=amount,
            currency="VND",
            reason="adjustment",
            reference=transaction_id,
        )

    async def prepare(command: domain.CreditWallet, state: object) -> domain.CreditWallet:
        balance = getattr(state, "balance", 0)
        seen.append(balance)
        if len(seen) == 1:  # another replica appends before this attempt's append
            await other.run(stream, credit_command("meanwhile", 500))
        return credit_command("mine", balance + 1)

    outcome = await runner.run(stream, credit_command("mine", 1), prepare=prepare)
    assert seen == [0, 500]  # the second attempt was prepared on the state it lost to
    assert outcome.state.balance == 500 + 501
