"""The contacts list's orders on the real wire server: rows with equal keys (one clock
instant for all) follow their id, so walking the pages gives every row exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

import pytest

from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_chassis.eventstore import EventStore
from portal_crm.deps import build_deps
from portal_crm.schemas import ContactIn
from portal_crm.settings import CrmSettings
from portal_crm.sorting import ContactSort

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)
STAFF = Principal("staff-1", "platform", frozenset({"platform_admin"}), "s", "t")
# Ids not in the order of creation: a tie left to the engine would come out as created.
IDS = ["c5", "c2", "c7", "c1", "c6", "c3", "c4"]
PEOPLE = [  # name, group
    ("Em", "hot"),
    ("đào", "cold"),
    ("Dan", "cold"),
    ("Ánh", "new_from_ads"),
    ("an", "warm"),
    ("Dan", "warm"),
    ("Em", "not_customer"),
]
BY_ID = dict(zip(IDS, PEOPLE, strict=True))


@pytest.fixture
async def crm(mongo_db: Any, bind: Any) -> Any:
    store = EventStore(mongo_db)
    await store.setup()
    ids = iter(IDS)
    service = bind(build_deps(store, mongo_db, CrmSettings(), ManualClock(NOW), lambda: next(ids)))
    await service.setup()
    for name, group in PEOPLE:
        await service.create_contact(STAFF, ContactIn(name=name, group=group))
    return service


async def walk(crm: Any, sort: str, page: int) -> list[str]:
    seen: list[str] = []
    while True:
        listed = await crm.list_contacts(
            STAFF,
            kind=None,
            group=None,
            scope="all",
            label=None,
            q=None,
            deleted=False,
            limit=page,
            offset=len(seen),
            sort=sort,
        )
        seen += [row.id for row in listed.items]
        if not listed.items or len(seen) >= listed.total:
            return seen


@pytest.mark.parametrize("sort", get_args(ContactSort))
async def test_paging_gives_every_row_once_in_one_order_whatever_the_ties(
    crm: Any, sort: str
) -> None:
    whole = await walk(crm, sort, 50)
    assert sorted(whole) == sorted(IDS)
    assert await walk(crm, sort, 2) == whole
    assert await walk(crm, sort, 3) == whole


async def test_equal_keys_follow_the_id_in_the_direction_asked(crm: Any) -> None:
    # Every row was written at the same instant: the id alone orders them.
    assert await walk(crm, "-updated_at", 2) == sorted(IDS, reverse=True)
    assert await walk(crm, "created_at", 2) == sorted(IDS)
    assert await walk(crm, "level", 2) == sorted(IDS)  # nobody has spent anything yet


async def test_names_sort_without_case_or_accents_and_groups_in_the_funnels_order(
    crm: Any,
) -> None:
    names = [BY_ID[i][0] for i in await walk(crm, "name", 2)]
    assert names == ["an", "Ánh", "Dan", "Dan", "đào", "Em", "Em"]
    groups = [BY_ID[i][1] for i in await walk(crm, "-group", 2)]
    assert groups == ["hot", "warm", "warm", "cold", "cold", "not_customer", "new_from_ads"]


async def test_rows_written_before_the_sort_keys_get_them_at_start_up(
    crm: Any, mongo_db: Any
) -> None:
    await mongo_db["contacts_view"].update_many({}, {"$unset": {"name_key": "", "group_rank": ""}})
    await crm.setup()
    names = [BY_ID[i][0] for i in await walk(crm, "-name", 3)]
    assert names == ["Em", "Em", "đào", "Dan", "Dan", "Ánh", "an"]
