"""The tickets service's internal HTTP API (reached through the gateway)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from portal_chassis.auth import Principal
from portal_chassis.contract import PRINCIPAL, Limit, Offset, Page, use_cases
from portal_chassis.web import IdempotencyKey, download
from portal_tickets import conversation, opening, queries, routing
from portal_tickets.deps import Deps
from portal_tickets.queries import AttachmentFile
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

TicketsDeps = NamedDependency[Deps]
# Base64 grows bytes by 4/3; five 10 MB files plus the text fit in this.
MAX_BODY = MAX_FILES * (MAX_FILE_BYTES * 4 // 3 + 1024) + 256 * 1024


class TicketsController(Controller):
    path = "/v1/tickets"
    tags = ["tickets"]
    request_max_body_size = MAX_BODY
    dependencies = {"principal": PRINCIPAL, "deps": use_cases("tickets")}

    @post("/", status_code=201)
    async def open_ticket(
        self,
        data: JSONBody[OpenTicketIn],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
        idempotency_key: IdempotencyKey = None,
    ) -> TicketOut:
        return await opening.open(deps, principal, data, idempotency_key)

    @get("/")
    async def list_tickets(
        self,
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
        limit: Limit = 20,
        offset: Offset = 0,
        status: Annotated[str | None, QueryParameter(max_length=30)] = None,
        department: Annotated[str | None, QueryParameter(max_length=50)] = None,
        priority: Annotated[str | None, QueryParameter(max_length=10)] = None,
        mine: Annotated[bool, QueryParameter()] = False,
        unassigned: Annotated[bool, QueryParameter()] = False,
        my_department: Annotated[bool, QueryParameter()] = False,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Page[TicketRowOut]:
        return await queries.list_tickets(
            deps,
            principal,
            limit=limit,
            offset=offset,
            q=q,
            mine=mine,
            unassigned=unassigned,
            my_department=my_department,
            filters={"status": status, "department": department, "priority": priority},
        )

    @get("/departments")
    async def departments(
        self, principal: NamedDependency[Principal], deps: TicketsDeps
    ) -> DepartmentsOut:
        del principal  # signed in callers only
        return await queries.departments_listing(deps)

    @post("/departments", status_code=201)
    async def add_department(
        self,
        data: JSONBody[DepartmentIn],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
    ) -> DepartmentOut:
        return await queries.add_department(deps, principal, data)

    @get("/{ticket_id:str}")
    async def get_ticket(
        self,
        ticket_id: FromPath[str],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
    ) -> TicketOut:
        return await queries.get(deps, principal, ticket_id)

    @get("/{ticket_id:str}/replies")
    async def replies(
        self,
        ticket_id: FromPath[str],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
    ) -> RepliesOut:
        return await queries.replies(deps, principal, ticket_id)

    @post("/{ticket_id:str}/replies", status_code=201)
    async def reply(
        self,
        ticket_id: FromPath[str],
        data: JSONBody[ReplyIn],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
    ) -> TicketOut:
        return await conversation.reply(deps, principal, ticket_id, data)

    @post("/{ticket_id:str}/assignment", status_code=200)
    async def assign(
        self,
        ticket_id: FromPath[str],
        data: JSONBody[AssignIn],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
    ) -> TicketOut:
        return await routing.assign(deps, principal, ticket_id, data)

    @post("/{ticket_id:str}/priority", status_code=200)
    async def priority(
        self,
        ticket_id: FromPath[str],
        data: JSONBody[PriorityIn],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
    ) -> TicketOut:
        return await routing.prioritise(deps, principal, ticket_id, data)

    @post("/{ticket_id:str}/status", status_code=200)
    async def status(
        self,
        ticket_id: FromPath[str],
        data: JSONBody[StatusIn],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
    ) -> TicketOut:
        return await routing.set_status(deps, principal, ticket_id, data)

    @post("/{ticket_id:str}/rating", status_code=200)
    async def rate(
        self,
        ticket_id: FromPath[str],
        data: JSONBody[RatingIn],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
    ) -> TicketOut:
        return await conversation.rate(deps, principal, ticket_id, data)

    @get(
        "/{ticket_id:str}/attachments/{file_id:str}",
        media_type="application/octet-stream",
        description="The file's bytes, typed from its content, named as it was sent.",
    )
    async def attachment(
        self,
        ticket_id: FromPath[str],
        file_id: FromPath[str],
        principal: NamedDependency[Principal],
        deps: TicketsDeps,
    ) -> Response[bytes]:
        found = await queries.attachment(deps, principal, ticket_id, file_id)
        return download(
            found.data,
            found.content_type,
            found.display_name,
            headers={"Content-Disposition": content_disposition(found)},
        )


def content_disposition(found: AttachmentFile) -> str:
    """RFC 6266: an ASCII fallback name for old clients, the exact name as `filename*`."""
    name = found.display_name
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
