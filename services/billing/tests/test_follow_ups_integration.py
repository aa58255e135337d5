"""What billing's facts call for runs once, right after the command that stored them:
billing.events delivering the same facts changes and runs nothing more, and takes over only
what a crash left undone."""

from __future__ import annotations

from typing import Any

import pytest

from portal_billing import domain, follow_ups
from portal_billing.models import PayIn
from portal_contracts.events.billing import InvoicePaid

pytestmark = pytest.mark.integration


async def fund(b: Any, amount: int) -> None:
    await b.wallet.service.credit(b.account, amount, "VND", "adjustment", "test", f"fund-{amount}")


async def balance(b: Any) -> int:
    return int((await b.wallet.balance(b.account))["balance"])


async def deliver_topic(b: Any, *invoice_ids: str) -> None:
    """billing.events as the consumer gets it: every stored event of these invoices."""
    for invoice_id in invoice_ids:
        for stored in await b.service.store.read_stream(domain.invoice_stream(invoice_id)):
            await b.service.on_own_event(stored, "billing")


async def subscriptions(b: Any) -> int:
    listed = await b.service.list_subscriptions(b.owner, status=None, limit=10, offset=0)
    return int(listed.total)


def count_follow_ups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = follow_ups.follow_up

    async def counted(deps: Any, event: Any, actor: str = "billing") -> None:
        calls.append(type(event).__name__)
        await real(deps, event, actor)

    monkeypatch.setattr(follow_ups, "follow_up", counted)
    return calls


async def test_a_fact_is_followed_up_by_its_command_and_not_again_from_the_topic(
    billing, monkeypatch
):
    b = billing
    calls = count_follow_ups(monkeypatch)
    await fund(b, 1_200_000)
    first = await b.service.place_order(b.owner, "host-sup", 12, None)  # 1,080,000
    await b.service.pay(b.owner, first.id, PayIn(method="wallet", amount=None), "p1")
    second = await b.service.place_order(b.owner, "host-sup", 1, None)
    await b.service.pay(b.owner, second.id, PayIn(method="wallet", amount=40_000), "p2")
    await b.service.cancel(b.owner, second.id)  # the 40,000 paid goes back to the wallet
    assert {"InvoiceCancelled", "InvoicePaid"} <= set(calls)  # inline, by their commands
    after = await balance(b)
    assert after == 1_200_000 - 1_080_000
    calls.clear()
    await deliver_topic(b, first.id, second.id)
    await deliver_topic(b, first.id, second.id)  # at least once
    assert calls == []  # the topic fed the lists only
    assert await balance(b) == after and await subscriptions(b) == 1


async def test_a_crash_before_the_follow_up_is_taken_over_by_the_topic(billing, monkeypatch):
    b = billing
    await fund(b, 1_080_000)
    invoice = await b.service.place_order(b.owner, "host-sup", 12, None)
    real = follow_ups.follow_up_once

    async def die(deps: Any, event: Any, actor: str = "billing") -> bool:
        if isinstance(event, InvoicePaid):
            raise ConnectionError("killed between the append and the follow-up")
        return await real(deps, event, actor)

    monkeypatch.setattr(follow_ups, "follow_up_once", die)
    with pytest.raises(ConnectionError):
        await b.service.pay(b.owner, invoice.id, PayIn(method="wallet", amount=None), "k")
    monkeypatch.setattr(follow_ups, "follow_up_once", real)  # the restarted process
    assert await subscriptions(b) == 0
    calls = count_follow_ups(monkeypatch)
    await deliver_topic(b, invoice.id)
    await deliver_topic(b, invoice.id)
    assert calls == ["InvoicePaid"] and await subscriptions(b) == 1


async def test_a_claimed_follow_up_left_by_a_crash_is_finished_by_the_sweep(billing, monkeypatch):
    b = billing
    await fund(b, 1_080_000)
    invoice = await b.service.place_order(b.owner, "host-sup", 12, None)
    real = follow_ups.follow_up

    async def die(deps: Any, event: Any, actor: str = "billing") -> None:
        if isinstance(event, InvoicePaid):
            raise ConnectionError("killed after claiming the follow-up")
        await real(deps, event, actor)

    monkeypatch.setattr(follow_ups, "follow_up", die)
    with pytest.raises(ConnectionError):
        await b.service.pay(b.owner, invoice.id, PayIn(method="wallet", amount=None), "k")
    monkeypatch.setattr(follow_ups, "follow_up", real)
    await deliver_topic(b, invoice.id)  # claimed: the topic leaves it to the sweep
    assert await b.service.resume_follow_ups() == 0  # its command may still be at it
    assert await subscriptions(b) == 0
    b.service.clock.advance(minutes=3)
    assert await b.service.resume_follow_ups() == 1
    assert await b.service.resume_follow_ups() == 0
    assert await subscriptions(b) == 1
