"""What the CRM's use cases need, built once in main.py, and the checks they all share.

Every use-case module (contacts, loyalty, care, directory, queries) is plain functions that
take this `Deps` first: the wiring names each dependency once, a test builds its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.blobs import BlobStore
from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner
from portal_chassis.eventstore import EventStore
from portal_chassis.mongo import index, update_by_id
from portal_chassis.reference import ReferenceList
from portal_chassis.relay import Lease
from portal_chassis.usecases import Roles, setup_storage
from portal_crm import domain, sorting
from portal_crm.domain import Activity, Contact, Level
from portal_crm.settings import CrmSettings

Doc = dict[str, Any]
ADMIN = "platform_admin"
STAFF = Roles("the CRM is for platform staff")
ADMINS = Roles("only a platform admin does this", frozenset({ADMIN}))
PLATFORM = "platform"  # the tenant of commits on no customer's account
# The source of a customer made from a payment seen before its registration.
PLACEHOLDER = "billing_before_registration"
DEFAULT_LABELS = {
    "reputable": "Reputable",
    "regular": "Regular",
    "premium": "Premium",
    "hot": "Hot",
}
DEFAULT_CARE_TYPES = [
    ("give-points", "Give points", "give_points"),
    ("deduct-points", "Deduct points", "deduct_points"),
    ("give-money", "Give accumulated money", "give_money"),
    ("deduct-money", "Deduct accumulated money", "deduct_money"),
    ("call", "Call", "call"),
    ("message", "Message", "message"),
    ("email", "Email", "email"),
    ("receive-call", "Receive a call", "receive_call"),
]

READ_MODEL_INDEXES = {
    # lists are filtered by status first (active / deleted) and sorted by last change, or
    # by the order asked for (`sorting`)
    "contacts_view": [
        index("status_updated", "status", "-updated_at"),
        index("status_name", "status", "name_key", "_id"),
        index("status_created", "status", "created_at", "_id"),
        index("status_group", "status", "group_rank", "_id"),
        index("status_accumulated", "status", "accumulated", "_id"),
        index("status_owner", "status", "owner_id", "-updated_at"),
        index("status_caretaker", "status", "caretaker_id", "-updated_at"),
        index("status_unit", "status", "unit", "-updated_at"),
        index("status_level", "status", "level"),
    ],
    "activities_view": [
        index("due", "due_at"),
        index("caretaker_due", "caretaker_id", "due_at"),
        index("department_due", "department", "due_at"),
    ],
    "timeline": [index("account_at", "account_id", "-at")],
    "staff_directory": [index("department_active", "department", "active")],
}


@dataclass
class Deps:
    store: EventStore
    db: AsyncDatabase[Doc]
    settings: CrmSettings
    clock: Clock
    new_id: Callable[[], str]
    contacts: CommandRunner[domain.ContactCommandT, Contact]
    activities: CommandRunner[domain.ActivityCommand, Activity]
    contacts_view: AsyncCollection[Doc]
    activities_view: AsyncCollection[Doc]
    timeline: AsyncCollection[Doc]
    care_types: AsyncCollection[Doc]
    care_reasons: AsyncCollection[Doc]
    staff: AsyncCollection[Doc]
    config: AsyncCollection[Doc]
    jobs: AsyncCollection[Doc]
    round_robin: AsyncCollection[Doc]
    recompute_lease: Lease
    labels: ReferenceList
    blobs: BlobStore
    wake_recompute: Callable[[], None] = field(default=lambda: None)
    """Set by the wiring: runs the recompute job now instead of at its next tick."""


def build_deps(
    store: EventStore,
    db: AsyncDatabase[Doc],
    settings: CrmSettings,
    clock: Clock,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> Deps:
    every = settings.snapshot_every
    return Deps(
        store=store,
        db=db,
        settings=settings,
        clock=clock,
        new_id=new_id,
        contacts=CommandRunner(store, domain.contact_decider, "contact", snapshot_every=every),
        activities=CommandRunner(store, domain.activity_decider, "care", snapshot_every=every),
        contacts_view=db["contacts_view"],
        activities_view=db["activities_view"],
        timeline=db["timeline"],
        care_types=db["care_types"],
        care_reasons=db["care_reasons"],
        staff=db["staff_directory"],
        config=db["config"],
        jobs=db["jobs"],
        round_robin=db["round_robin"],
        recompute_lease=Lease(db, "crm:levels-recompute", uuid.uuid4().hex, ttl=30.0),
        labels=ReferenceList(db["labels"], "label", DEFAULT_LABELS),
        blobs=BlobStore(db, "files"),
    )


async def setup(deps: Deps) -> None:
    await setup_storage(deps.db, READ_MODEL_INDEXES, deps.blobs, deps.labels)
    await sorting.backfill(deps.contacts_view)
    now = deps.clock.now()
    for type_id, name, action in DEFAULT_CARE_TYPES:
        await update_by_id(
            deps.care_types,
            type_id,
            {
                "$setOnInsert": {
                    "name": name,
                    "action": action,
                    "created_by": "seed",
                    "created_at": now,
                }
            },
        )


async def current_levels(deps: Deps) -> tuple[Level, ...]:
    doc = await deps.config.find_one({"_id": "levels"})
    if doc is None:
        return domain.DEFAULT_LEVELS
    return tuple(Level(lv["name"], lv["min_accumulated"]) for lv in doc["levels"])
