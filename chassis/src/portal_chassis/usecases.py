"""Small rules every service's use cases share: who may act, on whose account, under
which commit metadata, and what a service prepares in its database at start-up.

Each service keeps only its data (its role set, its wording, its indexes); the mechanism
lives here once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.auth import STAFF_ROLES, Principal
from portal_chassis.decider import DomainError, Forbidden
from portal_chassis.eventstore import CommitMetadata
from portal_chassis.mongo import ensure_read_model_indexes


def meta(tenant: str, actor: str) -> CommitMetadata:
    """The metadata of a command a use case runs now: whose account, who did it."""
    return CommitMetadata.current(tenant=tenant, actor=actor)


@dataclass(frozen=True)
class Roles:
    """Who counts as a service's staff (or its admins): anyone holding one of `names`.
    `refusal` is what everyone else is told."""

    refusal: str
    names: frozenset[str] = STAFF_ROLES

    def held_by(self, principal: Principal) -> bool:
        return bool(principal.roles & self.names)

    def require(self, principal: Principal) -> None:
        if not self.held_by(principal):
            raise Forbidden("forbidden", self.refusal)


def acting_account(
    principal: Principal, named: str | None, *, staff: bool, unnamed: str, not_own: str
) -> str:
    """The account a request acts on: staff name the customer's account (`unnamed` if they
    did not), customers act on their own (`not_own` if they named another)."""
    if staff:
        if not named:
            raise DomainError("account_required", unnamed)
        return named
    if named and named != principal.account_id:
        raise Forbidden("forbidden", not_own)
    return principal.account_id


class Prepared(Protocol):
    """Something a service sets up in its database before serving (files, a seeded list)."""

    async def setup(self) -> None: ...


async def setup_storage(
    db: AsyncDatabase[dict[str, Any]],
    indexes: Mapping[str, Sequence[IndexModel]],
    *parts: Prepared,
) -> None:
    """A service's start-up storage work: its read models' indexes, then each part."""
    await ensure_read_model_indexes(db, indexes)
    for part in parts:
        await part.setup()
