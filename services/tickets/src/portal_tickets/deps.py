"""What the tickets use cases need, built once in main.py, and the rules they share:
who is staff, which tickets a caller sees, how attachments are checked and stored.

Every use-case module (opening, conversation, routing, sweeps, queries) is plain
functions that take this `Deps` first.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.auth import Principal
from portal_chassis.blobs import BlobStore, CheckedUpload, check_uploads
from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner
from portal_chassis.contract import FileIn
from portal_chassis.eventstore import EventStore
from portal_chassis.mongo import index
from portal_chassis.reference import ReferenceList
from portal_chassis.starts import StreamStarts
from portal_chassis.usecases import Roles, setup_storage
from portal_contracts.events.tickets import Attachment
from portal_tickets import domain
from portal_tickets.codes import RelatedCodes
from portal_tickets.domain import Ticket
from portal_tickets.schemas import MAX_FILE_BYTES, MAX_FILES
from portal_tickets.settings import TicketsSettings

Doc = dict[str, Any]
# every platform staff role: agents answer, the other teams in their own department
STAFF = Roles("this is done by support staff")
ALL_DEPARTMENTS_ROLES = frozenset({"support_agent", "platform_admin"})
ROLE_DEPARTMENT = {"billing_admin": "billing", "sales": "sales", "technician": "technical"}
DEFAULT_DEPARTMENTS = {"technical": "Technical", "billing": "Billing", "sales": "Sales"}
READ_MODEL_INDEXES = {
    # the list: a customer's own, a department's, an agent's; newest first
    "tickets_view": [
        index("account_created", "account_id", "-created_at"),
        index("department_created", "department", "-created_at"),
        index("agent_created", "agent_id", "-created_at"),
        index("status_created", "status", "created_at"),  # also the scheduler's sweep
    ],
}


@dataclass
class Deps:
    store: EventStore
    db: AsyncDatabase[Doc]
    settings: TicketsSettings
    clock: Clock
    new_id: Callable[[], str]
    codes: RelatedCodes | None
    runner: CommandRunner[domain.Command, Ticket]
    view: AsyncCollection[Doc]
    departments: ReferenceList
    numbers: AsyncCollection[Doc]
    starts: StreamStarts
    blobs: BlobStore
    policy: domain.SlaPolicy


def build_deps(
    store: EventStore,
    db: AsyncDatabase[Doc],
    settings: TicketsSettings,
    clock: Clock,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    codes: RelatedCodes | None = None,
) -> Deps:
    return Deps(
        store=store,
        db=db,
        settings=settings,
        clock=clock,
        new_id=new_id,
        codes=codes,
        runner=CommandRunner(store, domain.ticket_decider, "ticket"),
        view=db["tickets_view"],
        departments=ReferenceList(db["departments"], "department", DEFAULT_DEPARTMENTS),
        numbers=db["ticket_numbers"],
        starts=StreamStarts(db["openings"], id_field="ticket_id"),  # key -> ticket
        blobs=BlobStore(db, "attachments"),
        policy=domain.SlaPolicy(
            first_response={
                k: timedelta(hours=v) for k, v in settings.first_response_hours.items()
            },
            resolution={k: timedelta(hours=v) for k, v in settings.resolution_hours.items()},
        ),
    )


async def setup(deps: Deps) -> None:
    await setup_storage(deps.db, READ_MODEL_INDEXES, deps.blobs, deps.departments)


def staff_department(principal: Principal) -> str | None:
    """None: sees every department (support agents, platform admins); otherwise the
    one department this staff member works in."""
    if principal.roles & ALL_DEPARTMENTS_ROLES:
        return None
    if principal.department:
        return principal.department
    return next((d for role, d in ROLE_DEPARTMENT.items() if role in principal.roles), "-")


def visible(principal: Principal, state: Ticket) -> bool:
    if not STAFF.held_by(principal):
        return state.account_id == principal.account_id
    department = staff_department(principal)
    return department is None or state.department == department


def display_name(sent: str) -> str:
    """The name the client sent, fit to show: control and formatting characters (line
    breaks, bidirectional overrides that disguise an extension) become `_`."""
    return "".join("_" if unicodedata.category(ch).startswith("C") else ch for ch in sent)


def check_files(files: list[FileIn]) -> list[tuple[CheckedUpload, str]]:
    """Decode and check attachments on their bytes; each with the name it was sent as."""
    checked = check_uploads(files, max_files=MAX_FILES, max_bytes=MAX_FILE_BYTES)
    names = [display_name(f.filename) for f in files]
    return list(zip(checked, names, strict=True))


async def store_files(
    deps: Deps, checked: list[tuple[CheckedUpload, str]], account_id: str
) -> tuple[Attachment, ...]:
    stored = []
    for upload, name in checked:
        # Stored under a name the server makes; the sent name is only shown.
        f = await deps.blobs.put(
            upload.data, upload.content_type, upload.extension, account_id, deps.clock.now()
        )
        stored.append(
            Attachment(
                file_id=f.file_id,
                filename=f.filename,
                content_type=upload.content_type,
                size=f.length,
                display_name=name,
            )
        )
    return tuple(stored)
