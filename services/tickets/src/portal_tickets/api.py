"""The tickets service's internal HTTP API (reached through the gateway)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from portal_chassis.auth import principal_from
from portal_chassis.problems import parse_json_body
from portal_chassis.web import IdempotencyKey, download
from portal_tickets import domain
from portal_tickets.handlers import MAX_FILE_BYTES, MAX_FILES, TicketsService

# Base64 grows bytes by 4/3; five 10 MB files plus the text fit in this.
MAX_BODY = MAX_FILES * (MAX_FILE_BYTES * 4 // 3 + 1024) + 256 * 1024
Priority = Literal["low", "normal", "high", "urgent"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FileIn(Strict):
    filename: Annotated[str, Field(min_length=1, max_length=200)]
    content_base64: str


class OpenTicketIn(Strict):
    account_id: Annotated[str, Field(max_length=100)] | None = None
    """Only for staff opening a ticket on a customer's behalf."""
    department: Annotated[str, Field(min_length=1, max_length=50)]
    title: Annotated[str, Field(max_length=200)]
    request_type: Annotated[str, Field(min_length=1, max_length=50)] = "question"
    priority: Priority = "normal"
    content: Annotated[str, Field(min_length=1, max_length=20_000)]
    related_code: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,40}$")] | None = None
    attachments: list[FileIn] = Field(default_factory=list, max_length=MAX_FILES + 1)


class ReplyIn(Strict):
    content: Annotated[str, Field(max_length=20_000)] = ""
    internal: bool = False
    then_status: Literal["open", "in_progress", "waiting_for_customer", "resolved"] | None = None
    attachments: list[FileIn] = Field(default_factory=list, max_length=MAX_FILES + 1)


class AssignIn(Strict):
    department: Annotated[str, Field(min_length=1, max_length=50)]
    agent_id: Annotated[str, Field(max_length=100)] | None = None


class PriorityIn(Strict):
    priority: Priority


class StatusIn(Strict):
    status: Literal["open", "in_progress", "waiting_for_customer", "resolved", "closed"]


class RatingIn(Strict):
    rating: StrictInt = Field(ge=1, le=5)
    comment: Annotated[str, Field(max_length=2000)] = ""


class DepartmentIn(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,49}$")]
    name: Annotated[str, Field(min_length=1, max_length=100)]


def _svc(request: Request[Any, Any, Any]) -> TicketsService:
    return request.app.state.tickets  # type: ignore[no-any-return]


class TicketsController(Controller):
    path = "/v1/tickets"
    tags = ["tickets"]
    request_max_body_size = MAX_BODY

    @post("/", status_code=201)
    async def open_ticket(
        self, request: Request[Any, Any, Any], idempotency_key: IdempotencyKey = None
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), OpenTicketIn)
        return await _svc(request).open(principal, data, idempotency_key)

    @get("/")
    async def list_tickets(
        self,
        request: Request[Any, Any, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
        status: Annotated[str | None, QueryParameter(max_length=30)] = None,
        department: Annotated[str | None, QueryParameter(max_length=50)] = None,
        priority: Annotated[str | None, QueryParameter(max_length=10)] = None,
        mine: Annotated[bool, QueryParameter()] = False,
        unassigned: Annotated[bool, QueryParameter()] = False,
        my_department: Annotated[bool, QueryParameter()] = False,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        return await _svc(request).list(
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
    async def departments(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        await principal_from(request)
        return await _svc(request).departments.listing()

    @post("/departments", status_code=201)
    async def add_department(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), DepartmentIn)
        return await _svc(request).departments.put(principal, data.id, data.name)

    @get("/{ticket_id:str}")
    async def get_ticket(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> dict[str, Any]:
        return await _svc(request).get(await principal_from(request), ticket_id)

    @get("/{ticket_id:str}/replies")
    async def replies(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> dict[str, Any]:
        return await _svc(request).replies(await principal_from(request), ticket_id)

    @post("/{ticket_id:str}/replies", status_code=201)
    async def reply(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), ReplyIn)
        return await _svc(request).reply(principal, ticket_id, data)

    @post("/{ticket_id:str}/assignment", status_code=200)
    async def assign(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        svc = _svc(request)
        svc._require_staff(principal)
        data = parse_json_body(await request.body(), AssignIn)
        return await svc.staff_command(
            principal,
            ticket_id,
            domain.AssignTicket(
                actor=principal.user_id,
                now=svc.clock.now(),
                department=data.department,
                agent_id=data.agent_id,
            ),
        )

    @post("/{ticket_id:str}/priority", status_code=200)
    async def priority(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        svc = _svc(request)
        svc._require_staff(principal)
        data = parse_json_body(await request.body(), PriorityIn)
        return await svc.staff_command(
            principal,
            ticket_id,
            domain.ChangePriority(
                actor=principal.user_id, now=svc.clock.now(), priority=data.priority
            ),
        )

    @post("/{ticket_id:str}/status", status_code=200)
    async def status(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        svc = _svc(request)
        svc._require_staff(principal)
        data = parse_json_body(await request.body(), StatusIn)
        return await svc.staff_command(
            principal,
            ticket_id,
            domain.ChangeStatus(actor=principal.user_id, now=svc.clock.now(), status=data.status),
        )

    @post("/{ticket_id:str}/rating", status_code=200)
    async def rate(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), RatingIn)
        return await _svc(request).rate(principal, ticket_id, data.rating, data.comment)

    @get("/{ticket_id:str}/attachments/{file_id:str}")
    async def attachment(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str], file_id: FromPath[str]
    ) -> Response[bytes]:
        content_type, filename, data = await _svc(request).attachment(
            await principal_from(request), ticket_id, file_id
        )
        return download(data, content_type, filename)
