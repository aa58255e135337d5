"""Ticket use cases: open, converse, route, resolve; SLA and auto-close sweeps; queries."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.auth import Principal
from portal_chassis.blobs import BlobStore, CheckedUpload, check_uploads
from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner, Outcome
from portal_chassis.contract import FileIn, Page, paginate
from portal_chassis.decider import DomainError, Forbidden, NotFound
from portal_chassis.eventstore import CommitMetadata, EventStore
from portal_chassis.logging import get_logger
from portal_chassis.mongo import ensure_read_model_indexes, index
from portal_chassis.numbers import claim_number
from portal_chassis.projection import upsert_if_newer
from portal_chassis.reference import ReferenceList
from portal_contracts.events.tickets import Attachment, TicketOpened, TicketReplied
from portal_tickets import domain
from portal_tickets.codes import RelatedCodes
from portal_tickets.domain import Ticket
from portal_tickets.schemas import (
    MAX_FILE_BYTES,
    MAX_FILES,
    AssignIn,
    DepartmentIn,
    DepartmentOut,
    DepartmentsOut,
    OpenTicketIn,
    PriorityIn,
    RatingIn,
    RepliesOut,
    ReplyIn,
    StatusIn,
    TicketOut,
    TicketRowOut,
)
from portal_tickets.settings import TicketsSettings

log = get_logger(__name__)

STAFF_ROLES = frozenset({"support_agent", "billing_admin", "sales", "technician", "platform_admin"})
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


@dataclass(frozen=True)
class AttachmentFile:
    """A stored attachment to download: its type, the name to offer it as, its bytes."""

    content_type: str
    display_name: str
    data: bytes


def display_name(sent: str) -> str:
    """The name the client sent, fit to show: control and formatting characters (line
    breaks, bidirectional overrides that disguise an extension) become `_`."""
    return "".join("_" if unicodedata.category(ch).startswith("C") else ch for ch in sent)


class TicketsService:
    def __init__(
        self,
        store: EventStore,
        db: AsyncDatabase[dict[str, Any]],
        settings: TicketsSettings,
        clock: Clock,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        codes: RelatedCodes | None = None,
    ) -> None:
        self.store = store
        self.codes = codes
        self.runner: CommandRunner[domain.Command, Ticket] = CommandRunner(
            store, domain.ticket_decider, "ticket"
        )
        self.db = db
        self.settings = settings
        self.clock = clock
        self.new_id = new_id
        self.view = db["tickets_view"]
        self.departments = ReferenceList(db["departments"], "department", DEFAULT_DEPARTMENTS)
        self.numbers = db["ticket_numbers"]
        self.blobs = BlobStore(db, "attachments")
        self.policy = domain.SlaPolicy(
            first_response={
                k: timedelta(hours=v) for k, v in settings.first_response_hours.items()
            },
            resolution={k: timedelta(hours=v) for k, v in settings.resolution_hours.items()},
        )

    async def setup(self) -> None:
        await ensure_read_model_indexes(self.db, READ_MODEL_INDEXES)
        await self.blobs.setup()
        await self.departments.seed()

    @staticmethod
    def is_staff(principal: Principal) -> bool:
        return bool(principal.roles & STAFF_ROLES)

    def _require_staff(self, principal: Principal) -> None:
        if not self.is_staff(principal):
            raise Forbidden("forbidden", "this is done by support staff")

    def _meta(self, account_id: str, actor: str) -> CommitMetadata:
        return CommitMetadata.current(tenant=account_id, actor=actor)

    async def _department(self, department: str) -> None:
        await self.departments.require(department)

    @staticmethod
    def check_files(files: list[FileIn]) -> list[tuple[CheckedUpload, str]]:
        """Decode and check attachments on their bytes; each with the name it was sent as."""
        checked = check_uploads(files, max_files=MAX_FILES, max_bytes=MAX_FILE_BYTES)
        names = [display_name(f.filename) for f in files]
        return list(zip(checked, names, strict=True))

    async def _store_files(
        self, checked: list[tuple[CheckedUpload, str]], account_id: str
    ) -> tuple[Attachment, ...]:
        stored = []
        for upload, name in checked:
            # Stored under a name the server makes; the sent name is only shown.
            f = await self.blobs.put(
                upload.data, upload.content_type, upload.extension, account_id, self.clock.now()
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

    async def open(
        self, principal: Principal, data: OpenTicketIn, idempotency_key: str | None
    ) -> TicketOut:
        staff = self.is_staff(principal)
        if staff:
            if not data.account_id:
                raise DomainError(
                    "account_required", "staff opening a ticket name the customer's account"
                )
            account_id = data.account_id
        else:
            if data.account_id and data.account_id != principal.account_id:
                raise Forbidden("forbidden", "customers open their own tickets")
            account_id = principal.account_id
        await self._department(data.department)
        checked = self.check_files(data.attachments)
        ticket_id = self.new_id()
        command = domain.OpenTicket(
            actor=principal.user_id,
            now=self.clock.now(),
            ticket_id=ticket_id,
            ticket_number="pending",
            account_id=account_id,
            department=data.department,
            title=data.title,
            request_type=data.request_type,
            priority=data.priority,
            content=data.content,
            related_code=data.related_code,
            opened_by_staff=staff,
        )
        domain.decide(command, Ticket())  # refuse bad input before storing anything
        if data.related_code and self.codes is not None:
            await self.codes.check(principal, data.related_code, account_id)
        if idempotency_key:
            try:
                await self.db["openings"].insert_one(
                    {"_id": f"{account_id}|{idempotency_key}", "ticket_id": ticket_id}
                )
            except DuplicateKeyError:
                earlier = await self.db["openings"].find_one(
                    {"_id": f"{account_id}|{idempotency_key}"}
                )
                assert earlier is not None
                return await self.get(principal, earlier["ticket_id"])
        attachments = await self._store_files(checked, account_id)
        number = await claim_number(
            self.numbers, self.settings.number_prefix, self.clock.now().year
        )
        outcome = await self.runner.run(
            domain.stream_id(ticket_id),
            replace(command, ticket_number=number, attachments=attachments),
            metadata=self._meta(account_id, principal.user_id),
        )
        await self._refresh_view(outcome)
        return await self.get(principal, ticket_id)

    @staticmethod
    def staff_department(principal: Principal) -> str | None:
        """None: sees every department (support agents, platform admins); otherwise the
        one department this staff member works in."""
        if principal.roles & ALL_DEPARTMENTS_ROLES:
            return None
        if principal.department:
            return principal.department
        return next((d for role, d in ROLE_DEPARTMENT.items() if role in principal.roles), "-")

    def visible(self, principal: Principal, state: Ticket) -> bool:
        if not self.is_staff(principal):
            return state.account_id == principal.account_id
        department = self.staff_department(principal)
        return department is None or state.department == department

    async def _load_visible(self, principal: Principal, ticket_id: str) -> Ticket:
        state, _ = await self.runner.load(domain.stream_id(ticket_id))
        if state.status == "none" or not self.visible(principal, state):
            raise NotFound("ticket_not_found", "no such ticket")
        return state

    async def reply(self, principal: Principal, ticket_id: str, data: ReplyIn) -> TicketOut:
        state = await self._load_visible(principal, ticket_id)
        staff = self.is_staff(principal)
        checked = self.check_files(data.attachments)
        command = domain.ReplyToTicket(
            actor=principal.user_id,
            now=self.clock.now(),
            reply_id=self.new_id(),
            author_kind="staff" if staff else "customer",
            content=data.content,
            account_id=None if staff else principal.account_id,
            internal=data.internal,
            then_status=data.then_status if staff else None,
        )
        domain.decide(command, state)  # refuse before storing files
        attachments = await self._store_files(checked, state.account_id)
        await self._run(
            principal, ticket_id, replace(command, attachments=attachments), state.account_id
        )
        return await self.get(principal, ticket_id)

    async def assign(self, principal: Principal, ticket_id: str, data: AssignIn) -> TicketOut:
        self._require_staff(principal)
        return await self.staff_command(
            principal,
            ticket_id,
            domain.AssignTicket(
                actor=principal.user_id,
                now=self.clock.now(),
                department=data.department,
                agent_id=data.agent_id,
            ),
        )

    async def prioritise(self, principal: Principal, ticket_id: str, data: PriorityIn) -> TicketOut:
        self._require_staff(principal)
        return await self.staff_command(
            principal,
            ticket_id,
            domain.ChangePriority(
                actor=principal.user_id, now=self.clock.now(), priority=data.priority
            ),
        )

    async def set_status(self, principal: Principal, ticket_id: str, data: StatusIn) -> TicketOut:
        self._require_staff(principal)
        return await self.staff_command(
            principal,
            ticket_id,
            domain.ChangeStatus(actor=principal.user_id, now=self.clock.now(), status=data.status),
        )

    async def staff_command(
        self, principal: Principal, ticket_id: str, command: domain.Command
    ) -> TicketOut:
        self._require_staff(principal)
        state = await self._load_visible(principal, ticket_id)
        if isinstance(command, domain.AssignTicket):
            await self._department(command.department)
        await self._run(principal, ticket_id, command, state.account_id)
        return await self.get(principal, ticket_id)

    async def rate(self, principal: Principal, ticket_id: str, data: RatingIn) -> TicketOut:
        state = await self._load_visible(principal, ticket_id)
        await self._run(
            principal,
            ticket_id,
            domain.RateTicket(
                actor=principal.user_id,
                now=self.clock.now(),
                account_id=principal.account_id,
                rating=data.rating,
                comment=data.comment,
            ),
            state.account_id,
        )
        return await self.get(principal, ticket_id)

    async def _run(
        self, principal: Principal | None, ticket_id: str, command: domain.Command, account_id: str
    ) -> Outcome[Ticket]:
        actor = principal.user_id if principal else "system"
        outcome = await self.runner.run(
            domain.stream_id(ticket_id), command, metadata=self._meta(account_id, actor)
        )
        if outcome.commit is not None:
            await self._refresh_view(outcome)
        return outcome

    async def _refresh_view(self, outcome: Outcome[Ticket]) -> None:
        state = outcome.state
        events = await self.store.read_stream(domain.stream_id(state.ticket_id))
        opened = events[0].event
        assert isinstance(opened, TicketOpened)
        public = [
            e.event for e in events if isinstance(e.event, TicketReplied) and not e.event.internal
        ]
        text = " ".join([opened.content, *(r.content for r in public)])[:20_000]
        row = {
            "account_id": state.account_id,
            "ticket_number": state.ticket_number,
            "title": state.title,
            "status": state.status,
            "department": state.department,
            "agent_id": state.agent_id,
            "priority": state.priority,
            "opened_by": opened.actor,
            "created_at": state.opened_at,
            "updated_at": events[-1].event.occurred_at,
            "response_status": "awaiting_customer"
            if state.last_public_author == "staff"
            else "awaiting_staff",
            "search_text": f"{state.title} {text}".lower(),
            "sla_breached": state.breached,
            "version": outcome.version,
            "resolved_at": state.resolved_at,
        }
        await upsert_if_newer(self.view, state.ticket_id, outcome.version, row)

    async def get(self, principal: Principal, ticket_id: str) -> TicketOut:
        state = await self._load_visible(principal, ticket_id)
        staff = self.is_staff(principal)
        events = await self.store.read_stream(domain.stream_id(ticket_id))
        opened = events[0].event
        assert isinstance(opened, TicketOpened)
        messages = [
            {
                "id": "opening",
                "author_kind": "staff" if opened.opened_by_staff else "customer",
                "author": opened.actor,
                "content": opened.content,
                "at": opened.occurred_at,
                "internal": False,
                "attachments": _attachments(opened.attachments),
            }
        ]
        for stored in events:
            e = stored.event
            if isinstance(e, TicketReplied) and (staff or not e.internal):
                messages.append(
                    {
                        "id": e.reply_id,
                        "author_kind": e.author_kind,
                        "author": e.actor,
                        "content": e.content,
                        "at": e.occurred_at,
                        "internal": e.internal,
                        "attachments": _attachments(e.attachments),
                    }
                )
        view = domain.sla(state, self.policy, self.clock.now())
        return TicketOut.model_validate(
            {
                "id": state.ticket_id,
                "ticket_number": state.ticket_number,
                "account_id": state.account_id,
                "title": state.title,
                "status": state.status,
                "department": state.department,
                "agent_id": state.agent_id,
                "priority": state.priority,
                "request_type": opened.request_type,
                "related_code": opened.related_code,
                "created_at": state.opened_at,
                "response_status": "awaiting_customer"
                if state.last_public_author == "staff"
                else "awaiting_staff",
                "rating": state.rating,
                "sla": {
                    "first_response_due": view.first_response_due,
                    "first_response_at": view.first_response_at,
                    "first_response_breached": view.first_response_breached,
                    "resolution_elapsed_seconds": int(view.resolution_elapsed.total_seconds()),
                    "resolution_due": view.resolution_due,
                    "resolution_breached": view.resolution_breached,
                    "paused": view.paused,
                },
                "messages": messages,
            }
        )

    async def replies(self, principal: Principal, ticket_id: str) -> RepliesOut:
        ticket = await self.get(principal, ticket_id)
        items = ticket.messages[1:]
        return RepliesOut(items=items, total=len(items))

    async def attachment(
        self, principal: Principal, ticket_id: str, file_id: str
    ) -> AttachmentFile:
        ticket = await self.get(principal, ticket_id)  # internal notes already filtered
        visible = {a.file_id: a for m in ticket.messages for a in m.attachments}
        shown = visible.get(file_id)
        found = await self.blobs.get(file_id, ticket.account_id) if shown else None
        if shown is None or found is None:
            raise NotFound("attachment_not_found", "no such attachment")
        stored, data = found
        return AttachmentFile(stored.content_type, shown.display_name, data)

    async def departments_listing(self) -> DepartmentsOut:
        return DepartmentsOut.model_validate(await self.departments.listing())

    async def add_department(self, principal: Principal, data: DepartmentIn) -> DepartmentOut:
        return DepartmentOut.model_validate(
            await self.departments.put(principal, data.id, data.name)
        )

    async def list(
        self,
        principal: Principal,
        *,
        limit: int,
        offset: int,
        filters: dict[str, Any],
        q: str | None,
        mine: bool,
        unassigned: bool,
        my_department: bool = False,
    ) -> Page[TicketRowOut]:
        query: dict[str, Any] = {k: v for k, v in filters.items() if v}
        if not self.is_staff(principal):
            query["account_id"] = principal.account_id
            if mine:
                query["opened_by"] = principal.user_id
        elif (own := self.staff_department(principal)) is not None:
            query["department"] = own
        elif mine:
            query["agent_id"] = principal.user_id
        if my_department and self.is_staff(principal):
            query["department"] = principal.department or "-"
        if unassigned:
            query["agent_id"] = None
        if q:
            # The number too: staff look a ticket up by the number the customer quotes (rows
            # written before this have no number in their search text, so it is its own field).
            query["$or"] = [
                {"ticket_number": {"$regex": re.escape(q.strip().upper())}},
                {"search_text": {"$regex": re.escape(q.strip().lower())}},
            ]
        total = await self.view.count_documents(query)
        items = []
        cursor = (
            self.view.find(query, projection={"search_text": 0, "version": 0})
            .sort([("created_at", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        async for row in cursor:
            row["id"] = row.pop("_id")
            items.append(TicketRowOut.model_validate(row))
        return paginate(items, total, limit, offset)

    async def sweep(self) -> dict[str, int]:
        """Auto-close quiet resolved tickets and record SLA breaches (scheduler)."""
        now = self.clock.now()
        closed = breached = 0
        quiet = timedelta(seconds=self.settings.auto_close_seconds)
        async for row in self.view.find({"status": {"$ne": "closed"}}).sort(
            "created_at", ASCENDING
        ):
            stream = domain.stream_id(row["_id"])
            for command in (
                domain.CheckSla(actor="system:sla", now=now, policy=self.policy),
                domain.CloseIfQuiet(actor="system:auto-close", now=now, quiet_period=quiet),
            ):
                outcome = await self._run(None, row["_id"], command, row["account_id"])
                if outcome.commit and not outcome.replayed:
                    n = len(outcome.commit.events)
                    if isinstance(command, domain.CheckSla):
                        breached += n
                    else:
                        closed += n
            del stream
        return {"closed": closed, "breaches": breached}


def _attachments(attachments: tuple[Attachment, ...]) -> list[dict[str, Any]]:
    # Attachments stored before the sent name was kept show their storage name.
    return [{**a.model_dump(), "display_name": a.display_name or a.filename} for a in attachments]
