"""CRM reactions in-process on the real wire server: out-of-order and repeated deliveries
of other contexts' events count money exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_chassis.eventstore import EventStore
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.identity import AccountRegistered
from portal_contracts.events.wallet import TopUpCompleted
from portal_crm.deps import PLACEHOLDER, build_deps
from portal_crm.schemas import CareActionIn, LevelIn
from portal_crm.settings import CrmSettings

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)
STAFF = Principal("staff-1", "platform", frozenset({"platform_admin"}), "s", "t")


@pytest.fixture
async def crm(mongo_db, bind):  # type: ignore[no-untyped-def]
    store = EventStore(mongo_db)
    await store.setup()
    service = bind(build_deps(store, mongo_db, CrmSettings(), ManualClock(NOW)))
    await service.setup()
    return service


def registered(account_id: str) -> AccountRegistered:
    return AccountRegistered(
        occurred_at=NOW,
        account_id=account_id,
        kind="organisation",
        name="Acme Hosting",
        owner_user_id="u1",
        email="owner@example.com",
    )


async def test_a_payment_seen_before_the_registration_is_counted_once(crm, unique):
    await crm.count_spending(unique, f"invoice:{unique}", 6_000_000, "VND", "invoice_paid", NOW)
    early = await crm.contact(STAFF, unique)
    assert early.general.source == PLACEHOLDER and early.loyalty.level == "silver"
    await crm.on_account_registered(registered(unique))
    await crm.on_account_registered(registered(unique))  # delivered again
    detail = await crm.contact(STAFF, unique)
    assert detail.general.name == "Acme Hosting"
    assert detail.loyalty.accumulated == 6_000_000
    listed = await crm.list_contacts(
        STAFF,
        kind="customer",
        group=None,
        scope="all",
        label=None,
        q="owner@example.com",
        deleted=False,
        limit=10,
        offset=0,
    )
    assert [i.id for i in listed.items] == [unique]


async def test_concurrent_redeliveries_of_one_invoice_count_once(crm, unique):
    await crm.on_account_registered(registered(unique))
    await asyncio.gather(
        *(
            crm.count_spending(unique, "invoice:1", 2_000_000, "VND", "invoice_paid", NOW)
            for _ in range(5)
        )
    )
    await crm.count_spending(unique, "refund:1", -500_000, "VND", "invoice_refunded", NOW)
    await crm.count_spending(unique, "refund:1", -500_000, "VND", "invoice_refunded", NOW)
    why = await crm.why_level(STAFF, unique)
    assert why.accumulated == 1_500_000
    assert [b.delta for b in why.because or []] == [-500_000, 2_000_000]


async def test_the_timeline_keeps_one_entry_per_event(crm, unique):
    event = TopUpCompleted(
        occurred_at=NOW,
        account_id=unique,
        top_up_id="t1",
        provider="sandbox",
        reference="R1",
        provider_event_id="e1",
        amount_requested=100_000,
        amount_received=100_000,
        currency="VND",
    )
    envelope = EventEnvelope(
        id="evt-1",
        source="wallet",
        type="TopUpCompleted",
        subject=f"wallet-{unique}",
        time=NOW,
        tenant=unique,
        streamversion=3,
        data=event.model_dump(mode="json"),
    )
    for _ in range(3):
        await crm.on_any_event(envelope, event)
    timeline = await crm.timeline_of(unique, 10, 0)
    assert [i.title for i in timeline.items] == ["Top-up of 100.000 VND completed"]


async def test_new_thresholds_are_applied_by_the_background_job_in_batches(
    crm, unique, monkeypatch, bind
):
    from portal_crm import loyalty

    monkeypatch.setattr(loyalty, "RECOMPUTE_BATCH", 2)  # several batches for 5 customers
    accounts = [f"{unique}-{i}" for i in range(5)]
    for n, account in enumerate(accounts):
        await crm.on_account_registered(registered(account))
        await crm.count_spending(
            account, f"invoice:{n}", 1_000_000 * (n + 1), "VND", "invoice_paid", NOW
        )
    levels = [LevelIn(name="member", min_accumulated=0)]
    levels.append(LevelIn(name="silver", min_accumulated=2_500_000))
    answer = await crm.set_levels(STAFF, levels)
    assert answer.recompute is not None and answer.recompute.status == "running"
    assert (await crm.contact(STAFF, accounts[4])).loyalty.level == "silver"  # 5M
    assert (await crm.contact(STAFF, accounts[2])).loyalty.level == "member"  # not yet

    # two replicas wake at once: the lease lets one run, the counts stay exact
    replica = bind(build_deps(crm.store, crm.db, CrmSettings(), ManualClock(NOW)))
    batches = await asyncio.gather(crm.recompute_levels(), replica.recompute_levels())
    assert sorted(batches)[0] == 0
    status = (await crm.levels_view()).recompute
    assert status is not None and status.status == "done" and status.customers_checked == 5
    assert [(await crm.contact(STAFF, a)).loyalty.level for a in accounts] == [
        "member",
        "member",
        "silver",
        "silver",
        "silver",
    ]
    assert await crm.recompute_levels() == 0  # nothing left to do


async def test_concurrent_deductions_never_take_points_below_zero(crm, unique):
    from portal_chassis.decider import DomainError

    await crm.on_account_registered(registered(unique))

    def care(type_id: str, value: int) -> CareActionIn:
        return CareActionIn(care_type_id=type_id, value=value, note="")

    await crm.record_care_action(STAFF, unique, care("give-points", 500))
    results = await asyncio.gather(
        *(crm.record_care_action(STAFF, unique, care("deduct-points", 200)) for _ in range(3)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1, results
    assert (await crm.contact(STAFF, unique)).loyalty.points == 100
