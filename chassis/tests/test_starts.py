"""Starting a new stream once per Idempotency-Key (`StreamStarts`), on the real wire server:
a wallet opened by its first top-up request stands in for a new ticket, repair or invoice,
its payment reference for a document number or a stored file."""

import asyncio
import itertools
from dataclasses import replace

import pytest

from portal_chassis.commands import CommandRunner
from portal_chassis.decider import DomainError
from portal_chassis.eventstore import EventStore
from portal_chassis.starts import StreamStarts
from portal_tests.helpers import NOW
from portal_wallet import domain

pytestmark = pytest.mark.integration


class Fixture:
    def __init__(self, mongo_db: object) -> None:
        self.store = EventStore(mongo_db)  # type: ignore[arg-type]
        self.runner = CommandRunner(self.store, domain.wallet_decider, "wallet")
        self.starts = StreamStarts(mongo_db["starts"])  # type: ignore[index]
        self.allocated: list[str] = []
        self.ids = (f"w{n}" for n in itertools.count())

    async def allocate(self, command: domain.RequestTopUp) -> domain.RequestTopUp:
        number = f"N-{len(self.allocated) + 1}"
        self.allocated.append(number)
        await asyncio.sleep(0.01)  # a number or a file takes a round trip
        return replace(command, reference=number)

    async def start(self, unique: str, key: str | None, amount: int = 100):  # type: ignore[no-untyped-def]
        def command(stream_id: str) -> domain.RequestTopUp:
            return domain.RequestTopUp(
                account_id=f"{unique}-{stream_id}",
                now=NOW,
                opening_currency="VND",
                top_up_id=f"t-{stream_id}",
                amount=amount,
                currency="VND",
                method="bank_transfer",
                provider="sandbox",
                reference="pending",
                expires_at=NOW,
                limits=domain.TopUpLimits(10, 1_000, 10_000),
                open_if_missing=True,
            )

        return await self.starts.start(
            self.runner,
            new_id=next(self.ids),
            stream_of=lambda stream_id: domain.stream_id(f"{unique}-{stream_id}"),
            command=command,
            key=f"acc|{key}" if key else None,
            fingerprint=f"amount={amount}",
            allocate=self.allocate,
        )


@pytest.fixture
async def f(mongo_db):  # type: ignore[no-untyped-def]
    fixture = Fixture(mongo_db)
    await fixture.store.setup()
    return fixture


async def test_a_refused_start_allocates_nothing_and_leaves_its_key_free(f, unique):
    with pytest.raises(DomainError) as err:
        await f.start(unique, "k", amount=0)
    assert err.value.code == "amount_not_positive"
    assert await f.starts.collection.count_documents({}) == 0
    assert f.allocated == []
    started = await f.start(unique, "k", amount=100)  # corrected, under the same key
    assert started.created and f.allocated == ["N-1"]
    assert started.state.top_ups[f"t-{started.id}"].reference == "N-1"


async def test_the_same_request_again_starts_one_stream_and_allocates_once(f, unique):
    first = await f.start(unique, "k")
    again = await f.start(unique, "k")
    assert (first.created, again.created) == (True, False)
    assert first.id == again.id and again.state == first.state
    assert f.allocated == ["N-1"]
    with pytest.raises(DomainError) as err:
        await f.start(unique, "k", amount=200)  # another request under the same key
    assert err.value.code == "idempotency_key_reused"


async def test_concurrent_copies_of_one_request_append_once(f, unique):
    results = await asyncio.gather(*(f.start(unique, "k") for _ in range(8)))
    assert len({r.id for r in results}) == 1
    assert [r.created for r in results].count(True) == 1
    events = await f.store.read_stream(domain.stream_id(f"{unique}-{results[0].id}"))
    assert len(events) == 2  # WalletOpened, TopUpRequested: once


async def test_a_request_that_died_after_claiming_its_key_is_started_by_the_retry(f, unique):
    await f.starts.claim("acc|k", "amount=100", "w-first")  # then the process died
    started = await f.start(unique, "k")
    assert started.id == "w-first" and started.created
    assert list(started.state.top_ups) == ["t-w-first"]


async def test_without_a_key_every_request_starts_a_stream(f, unique):
    first = await f.start(unique, None)
    second = await f.start(unique, None)
    assert first.id != second.id and first.created and second.created
    assert f.allocated == ["N-1", "N-2"]
