"""What the repairs use cases need, built once in main.py, and the rules they share.

Every use-case module (intake, workflow, queries) is plain functions taking this `Deps`
first; `streams` runs a repair's commands and keeps its list row.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.blobs import BlobStore
from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner
from portal_chassis.eventstore import EventStore
from portal_chassis.mongo import index
from portal_chassis.numbers import claim_number
from portal_chassis.reference import ReferenceList
from portal_chassis.starts import StreamStarts
from portal_chassis.usecases import Roles, setup_storage
from portal_repairs import domain
from portal_repairs.domain import Repair
from portal_repairs.settings import RepairsSettings

Doc = dict[str, Any]
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PhotoStage = Literal["intake", "receive", "return"]
STAFF = Roles(
    "this step is done by repair staff",
    frozenset({"technician", "support_agent", "platform_admin"}),
)
DEFAULT_BRANCHES = {"HCM-Q1": "Ho Chi Minh City, District 1", "HN-CG": "Ha Noi, Cau Giay"}
_SERIAL_SPACE = re.compile(r"\s+")
READ_MODEL_INDEXES = {
    "repairs_view": [
        index("account_updated", "account_id", "-updated_at"),
        index("status_updated", "status", "-updated_at"),
        index("branch_updated", "branch_id", "-updated_at"),
        index("technician_updated", "technician_id", "-updated_at"),
        index("serial", "serial"),
    ],
}


def serial_key(serial: str) -> str:
    return _SERIAL_SPACE.sub("", serial).upper()


@dataclass
class Deps:
    store: EventStore
    db: AsyncDatabase[Doc]
    settings: RepairsSettings
    clock: Clock
    new_id: Callable[[], str]
    runner: CommandRunner[domain.Command, Repair]
    view: AsyncCollection[Doc]
    branches: ReferenceList
    numbers: AsyncCollection[Doc]
    starts: StreamStarts
    serials: AsyncCollection[Doc]
    blobs: BlobStore


def build_deps(
    store: EventStore,
    db: AsyncDatabase[Doc],
    settings: RepairsSettings,
    clock: Clock,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> Deps:
    return Deps(
        store=store,
        db=db,
        settings=settings,
        clock=clock,
        new_id=new_id,
        runner=CommandRunner(store, domain.repair_decider, "repair"),
        view=db["repairs_view"],
        branches=ReferenceList(db["branches"], "branch", DEFAULT_BRANCHES),
        numbers=db["repair_numbers"],
        starts=StreamStarts(db["registrations"], id_field="repair_id"),  # key -> repair
        serials=db["serials"],
        blobs=BlobStore(db, "photos"),
    )


async def setup(deps: Deps) -> None:
    await setup_storage(deps.db, READ_MODEL_INDEXES, deps.blobs, deps.branches)


async def allocate_number(deps: Deps) -> str:
    """RP-<year>-<6 digits>, unique under concurrency."""
    return await claim_number(deps.numbers, deps.settings.number_prefix, deps.clock.now().year)


async def warranty_of(deps: Deps, serial: str) -> str | None:
    doc = await deps.serials.find_one({"_id": serial_key(serial)})
    if doc is None:
        return None
    window = timedelta(days=deps.settings.warranty_days)
    return str(doc["repair_id"]) if deps.clock.now() - doc["returned_at"] <= window else None
