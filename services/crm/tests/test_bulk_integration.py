"""Bulk actions on the real wire server: a selected contact deleted since the list was shown
is reported as refused, the others are acted on, and it takes no turn of a round robin."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_chassis.decider import DomainError
from portal_chassis.eventstore import EventStore
from portal_crm.deps import build_deps
from portal_crm.schemas import BulkAssignIn, BulkDeleteIn, BulkLabelsIn, ContactIn
from portal_crm.settings import CrmSettings

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)
STAFF = Principal("staff-1", "platform", frozenset({"platform_admin"}), "s", "t")
GONE = {"id": "c2", "code": "contact_not_found"}


@pytest.fixture
async def crm(mongo_db: Any, bind: Any) -> Any:
    store = EventStore(mongo_db)
    await store.setup()
    ids = itertools.count(1)
    clock = ManualClock(NOW)
    service = bind(build_deps(store, mongo_db, CrmSettings(), clock, lambda: f"c{next(ids)}"))
    await service.setup()
    for name in ("An", "Bình", "Chi"):
        await service.create_contact(STAFF, ContactIn(name=name))
    for member in ("s1", "s2"):
        await service.staff.insert_one({"_id": member, "department": "leads", "active": True})
    await service.delete(STAFF, "c2", True)
    return service


async def test_a_contact_gone_since_it_was_listed_is_refused_and_the_others_go_ahead(
    crm: Any,
) -> None:
    every = ["c1", "c2", "c3"]
    labelled = await crm.bulk_labels(STAFF, BulkLabelsIn(ids=every, add=["hot"]))
    assert labelled.model_dump() == {"updated": 2, "refused": [GONE]}
    assert (await crm.contact(STAFF, "c3")).labels == ["hot"]
    turns = await crm.bulk_assign(
        STAFF, BulkAssignIn(ids=every, method="round_robin", department="leads")
    )
    # The refused contact took no turn: the two others went to the two members in turn.
    assert [(i.id, i.caretaker_id) for i in turns.items] == [("c1", "s1"), ("c3", "s2")]
    assert turns.total == 2 and [r.model_dump() for r in turns.refused] == [GONE]
    deleted = await crm.bulk_delete(STAFF, BulkDeleteIn(ids=every, confirm=True))
    assert deleted.model_dump() == {"deleted": 2, "refused": [GONE]}


async def test_a_request_wrong_as_a_whole_changes_nothing(crm: Any) -> None:
    with pytest.raises(DomainError) as refused:
        await crm.bulk_labels(STAFF, BulkLabelsIn(ids=["c1", "c3"], add=["no-such-label"]))
    assert refused.value.code == "unknown_label"
    with pytest.raises(DomainError):
        await crm.bulk_delete(STAFF, BulkDeleteIn(ids=["c1", "c3"]))
    assert (await crm.contact(STAFF, "c1")).labels == []
    assert (await crm.contact(STAFF, "c3")).status == "active"
