"""Public ticket routes, forwarded to the tickets service (which checks roles and tenancy)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from portal_chassis.auth import authenticated
from portal_gateway.upstream import forward_to, seg

SMALL = 64 * 1024
# Five attachments of 10 MB, base64-encoded, plus text.
WITH_FILES = 5 * (10 * 1024 * 1024 * 4 // 3 + 1024) + 256 * 1024


async def _forward(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    return await forward_to(request, "tickets", path)


class TicketsController(Controller):
    path = "/api/v1/tickets"
    tags = ["tickets"]
    guards = [authenticated]
    request_max_body_size = SMALL

    @get(
        "/",
        summary="Tickets (customers: their account's; staff: all), filterable",
        description="Filters: status, department, priority, mine, unassigned, q; limit/offset.",
    )
    async def list_tickets(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/tickets")

    @post(
        "/",
        status_code=201,
        request_max_body_size=WITH_FILES,
        summary="Open a ticket (attachments as base64: images or PDF, <= 10 MB, <= 5)",
    )
    async def open_ticket(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/tickets")

    @get("/departments", summary="Ticket departments")
    async def departments(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/tickets/departments")

    @post("/departments", status_code=201, summary="Add a department (platform admin)")
    async def add_department(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/tickets/departments")

    @get("/{ticket_id:str}", summary="A ticket with its conversation and SLA clocks")
    async def get_ticket(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/tickets/{seg(ticket_id)}")

    @get("/{ticket_id:str}/replies", summary="The conversation (internal notes: staff only)")
    async def replies(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/tickets/{seg(ticket_id)}/replies")

    @post(
        "/{ticket_id:str}/replies",
        status_code=201,
        request_max_body_size=WITH_FILES,
        summary="Reply (staff: internal notes and a next status too)",
    )
    async def reply(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/tickets/{seg(ticket_id)}/replies")

    @post("/{ticket_id:str}/assignment", status_code=200, summary="Staff: assign")
    async def assign(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/tickets/{seg(ticket_id)}/assignment")

    @post("/{ticket_id:str}/priority", status_code=200, summary="Staff: change the priority")
    async def priority(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/tickets/{seg(ticket_id)}/priority")

    @post("/{ticket_id:str}/status", status_code=200, summary="Staff: change the status")
    async def status(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/tickets/{seg(ticket_id)}/status")

    @post("/{ticket_id:str}/rating", status_code=200, summary="Customer: rate after resolution")
    async def rate(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/tickets/{seg(ticket_id)}/rating")

    @get("/{ticket_id:str}/attachments/{file_id:str}", summary="Download an attachment")
    async def attachment(
        self, request: Request[Any, Any, Any], ticket_id: FromPath[str], file_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/tickets/{seg(ticket_id)}/attachments/{seg(file_id)}")
