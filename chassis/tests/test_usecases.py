"""The rules every service's use cases share (`portal_chassis.usecases`): who counts as
staff, whose account a request acts on, commit metadata and start-up storage."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.contextvars import clear_contextvars

from portal_chassis.auth import STAFF_ROLES, Principal
from portal_chassis.decider import DomainError, Forbidden
from portal_chassis.logging import bind_ids
from portal_chassis.mongo import index
from portal_chassis.usecases import Roles, acting_account, meta, setup_storage


def principal(*roles: str, account_id: str = "acc-1") -> Principal:
    return Principal("u-1", account_id, frozenset(roles), None, "token")


REPAIR_STAFF = Roles("this step is done by repair staff", frozenset({"technician"}))


def test_roles_default_to_every_platform_staff_role() -> None:
    staff = Roles("no")
    assert staff.names == STAFF_ROLES
    assert all(staff.held_by(principal(role)) for role in STAFF_ROLES)
    assert not staff.held_by(principal("owner", "admin"))


def test_a_service_narrows_its_staff_and_refuses_everyone_else_with_its_words() -> None:
    assert REPAIR_STAFF.held_by(principal("technician"))
    assert not REPAIR_STAFF.held_by(principal("billing_admin"))
    REPAIR_STAFF.require(principal("customer", "technician"))
    with pytest.raises(Forbidden) as refused:
        REPAIR_STAFF.require(principal("billing_admin"))
    assert (refused.value.code, refused.value.detail) == (
        "forbidden",
        "this step is done by repair staff",
    )


WORDING: dict[str, Any] = {"unnamed": "name the account", "not_own": "your own only"}


def test_staff_act_on_the_account_they_name() -> None:
    assert acting_account(principal("technician"), "acc-9", staff=True, **WORDING) == "acc-9"


@pytest.mark.parametrize("named", [None, ""])
def test_staff_who_name_no_account_are_told_to(named: str | None) -> None:
    with pytest.raises(DomainError) as refused:
        acting_account(principal("technician"), named, staff=True, **WORDING)
    assert not isinstance(refused.value, Forbidden)
    assert (refused.value.code, refused.value.detail) == ("account_required", "name the account")


@pytest.mark.parametrize("named", [None, "", "acc-1"])
def test_customers_act_on_their_own_account(named: str | None) -> None:
    assert acting_account(principal("owner"), named, staff=False, **WORDING) == "acc-1"


def test_a_customer_naming_another_account_is_forbidden() -> None:
    with pytest.raises(Forbidden) as refused:
        acting_account(principal("owner"), "acc-2", staff=False, **WORDING)
    assert (refused.value.code, refused.value.detail) == ("forbidden", "your own only")


def test_meta_carries_the_ids_bound_by_the_entrypoint() -> None:
    try:
        bind_ids("corr-1", "cause-1")
        m = meta("acc-1", "u-1")
    finally:
        clear_contextvars()
    assert (m.tenant, m.actor, m.correlation_id, m.causation_id) == (
        "acc-1",
        "u-1",
        "corr-1",
        "cause-1",
    )


class Part:
    def __init__(self, calls: list[str], name: str) -> None:
        self.calls, self.name = calls, name

    async def setup(self) -> None:
        self.calls.append(self.name)


@pytest.mark.integration
async def test_setup_storage_builds_the_indexes_then_sets_up_each_part(mongo_db: Any) -> None:
    calls: list[str] = []
    indexes = {"things_view": [index("account_created", "account_id", "-created_at")]}
    await setup_storage(mongo_db, indexes, Part(calls, "files"), Part(calls, "branches"))
    await setup_storage(mongo_db, indexes, Part(calls, "again"))  # idempotent
    names = {i["name"] async for i in await mongo_db["things_view"].list_indexes()}
    assert "account_created" in names
    assert calls == ["files", "branches", "again"]
