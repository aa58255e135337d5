"""What a command reads: nothing for a stream held in memory; the stored stream whenever
the state in memory may be behind (a lost race, a refusal, nothing to do)."""

import pytest

from portal_chassis.commands import CommandRunner
from portal_chassis.counting import CountingEventStore
from portal_chassis.eventstore import EventStore
from portal_tests.helpers import NOW
from portal_wallet import domain

pytestmark = pytest.mark.integration


def opening(account: str) -> domain.OpenAccountWallet:
    return domain.OpenAccountWallet(account_id=account, now=NOW, opening_currency="VND")


def crediting(account: str, transaction_id: str, amount: int) -> domain.CreditWallet:
    return domain.CreditWallet(
        account_id=account,
        now=NOW,
        opening_currency="VND",
        transaction_id=transaction_id,
        amount=amount,
        currency="VND",
        reason="adjustment",
        reference=transaction_id,
    )


def debiting(account: str, transaction_id: str, amount: int) -> domain.DebitWallet:
    return domain.DebitWallet(
        account_id=account,
        now=NOW,
        opening_currency="VND",
        transaction_id=transaction_id,
        amount=amount,
        currency="VND",
        reason="invoice_payment",
        reference=transaction_id,
    )


async def stores(mongo_db: object) -> tuple[CountingEventStore, CountingEventStore]:
    store = EventStore(mongo_db)  # type: ignore[arg-type]
    await store.setup()
    return CountingEventStore(store), CountingEventStore(store)


async def test_a_command_on_a_stream_in_memory_reads_nothing(mongo_db, unique):
    counted, _ = await stores(mongo_db)
    runner = CommandRunner(counted, domain.wallet_decider, "wallet")
    stream = domain.stream_id(unique)
    await runner.run(stream, opening(unique))
    assert counted.reads[stream] == 1  # not in memory yet: read once
    counted.reset()
    for n in range(3):
        await runner.run(stream, crediting(unique, f"t{n}", 100))
    state, version = await runner.current(stream)
    assert counted.reads[stream] == 0 and version == 4
    assert isinstance(state, domain.OpenWallet) and state.balance == 300
    await runner.load(stream)  # a load looks for what other processes appended
    assert counted.reads[stream] == 1


async def test_a_stream_moved_on_by_another_process_is_read_again(mongo_db, unique):
    counted, elsewhere = await stores(mongo_db)
    runner = CommandRunner(counted, domain.wallet_decider, "wallet")
    other = CommandRunner(elsewhere, domain.wallet_decider, "wallet")  # another replica
    stream = domain.stream_id(unique)
    await runner.run(stream, opening(unique))
    await other.run(stream, crediting(unique, "there", 500))
    counted.reset()
    outcome = await runner.run(stream, crediting(unique, "here", 1))  # the append conflicts
    assert isinstance(outcome.state, domain.OpenWallet) and outcome.state.balance == 501
    assert counted.reads[stream] == 1
    # Nothing to do on the state in memory (open already): read to be sure.
    counted.reset()
    again = await runner.run(stream, opening(unique))
    assert again.commit is None and counted.reads[stream] == 1


async def test_a_refusal_on_the_state_in_memory_is_checked_on_the_stored_stream(mongo_db, unique):
    counted, elsewhere = await stores(mongo_db)
    runner = CommandRunner(counted, domain.wallet_decider, "wallet")
    other = CommandRunner(elsewhere, domain.wallet_decider, "wallet")
    stream = domain.stream_id(unique)
    await runner.load(stream)  # no wallet yet: a debit would be refused
    await other.run(stream, opening(unique))
    await other.run(stream, crediting(unique, "funds", 500))
    outcome = await runner.run(stream, debiting(unique, "pay", 100))
    assert isinstance(outcome.state, domain.OpenWallet) and outcome.state.balance == 400
