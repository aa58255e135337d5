"""The ticket list's free-text search in-process: staff find a ticket by the number the
customer quotes, as well as by words of its title and conversation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_chassis.eventstore import EventStore
from portal_tests.use_cases import UseCases
from portal_tickets import conversation, opening, queries, routing, sweeps
from portal_tickets.deps import build_deps, setup
from portal_tickets.schemas import OpenTicketIn
from portal_tickets.settings import TicketsSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def tickets(mongo_db) -> UseCases:
    store = EventStore(mongo_db)
    await store.setup()
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    deps = build_deps(store, mongo_db, TicketsSettings(), clock)
    await setup(deps)
    return UseCases(deps, (opening, conversation, routing, sweeps, queries))


async def search(tickets: UseCases, principal: Principal, q: str) -> list[str]:
    page = await tickets.list_tickets(
        principal, limit=20, offset=0, filters={}, q=q, mine=False, unassigned=False
    )
    return [row.ticket_number for row in page.items]


async def test_staff_find_a_ticket_by_its_number_title_or_content(tickets, unique) -> None:
    customer = Principal("u1", unique, frozenset({"owner"}), "s1", "token")
    agent = Principal("a1", "platform", frozenset({"support_agent"}), "s2", "token")
    opened = [
        await tickets.open(
            customer,
            OpenTicketIn(department="technical", title=title, content=content),
            None,
        )
        for title, content in (("Site down", "Answers 502"), ("Invoice", "VAT for November"))
    ]
    first, second = (t.ticket_number for t in opened)

    assert await search(tickets, agent, first) == [first]
    assert await search(tickets, agent, first.lower()) == [first]
    assert await search(tickets, customer, second) == [second]
    assert await search(tickets, agent, "site DOWN") == [first]
    assert await search(tickets, agent, "vat for") == [second]
    assert await search(tickets, agent, "nothing like it") == []
