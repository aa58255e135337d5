"""Public repair routes, forwarded to the repairs service (which checks roles and tenancy)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from portal_chassis.auth import authenticated
from portal_gateway.upstream import forward_to, seg

ACTIONS = {
    "receive": "Staff: received at a branch, intake check of the condition",
    "diagnose": "Staff: diagnosis started by a technician",
    "quote": "Staff: quote with parts and labour",
    "approve": "Customer: approve the quote",
    "reject": "Customer: reject the quote (the device comes back unrepaired)",
    "start": "Staff: repair started (only after an approved quote)",
    "ready": "Staff: ready for return",
    "return": "Staff: returned at the counter or shipped (carrier, tracking number)",
    "cancel": "Customer or staff: cancel before the repair starts",
    "transfer": "Staff: transfer to another branch",
}


async def _forward(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    return await forward_to(request, "repairs", path)


def _action_route(action: str, summary: str) -> Any:
    @post(
        f"/{{repair_id:str}}/{action}",
        status_code=200,
        summary=summary,
        operation_id=f"repair_{action}",
        name=f"repair_{action}",
    )
    async def handler(
        self: Any, request: Request[Any, Any, Any], repair_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/repairs/{seg(repair_id)}/{seg(action)}")

    return handler


class RepairsController(Controller):
    path = "/api/v1/repairs"
    tags = ["repairs"]
    guards = [authenticated]
    request_max_body_size = 64 * 1024

    @get("/", summary="Repairs (customers: their own; staff: all), filterable, paginated")
    async def list_repairs(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/repairs")

    @post("/", status_code=201, summary="Register a device for repair")
    async def register(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/repairs")

    @get("/branches", summary="Branches that take devices in")
    async def branches(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/repairs/branches")

    @post("/branches", status_code=201, summary="Add a branch (platform admin)")
    async def add_branch(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/repairs/branches")

    @get("/{repair_id:str}", summary="A repair with its chain of custody")
    async def get_repair(
        self, request: Request[Any, Any, Any], repair_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/repairs/{seg(repair_id)}")

    @get("/{repair_id:str}/label", summary="Printable label with a QR code (SVG)")
    async def label(
        self, request: Request[Any, Any, Any], repair_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/repairs/{seg(repair_id)}/label")

    @post(
        "/{repair_id:str}/photos",
        status_code=201,
        request_max_body_size=5 * 1024 * 1024 + 1,
        summary="Add a photo of the condition (raw PNG/JPEG/WebP, <= 5 MB; ?stage=)",
    )
    async def add_photo(
        self, request: Request[Any, Any, Any], repair_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/repairs/{seg(repair_id)}/photos")

    @get("/{repair_id:str}/photos/{file_id:str}", summary="Download a photo of a repair")
    async def photo(
        self, request: Request[Any, Any, Any], repair_id: FromPath[str], file_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/repairs/{seg(repair_id)}/photos/{seg(file_id)}")

    receive = _action_route("receive", ACTIONS["receive"])
    diagnose = _action_route("diagnose", ACTIONS["diagnose"])
    quote = _action_route("quote", ACTIONS["quote"])
    approve = _action_route("approve", ACTIONS["approve"])
    reject = _action_route("reject", ACTIONS["reject"])
    start = _action_route("start", ACTIONS["start"])
    ready = _action_route("ready", ACTIONS["ready"])
    return_device = _action_route("return", ACTIONS["return"])
    cancel = _action_route("cancel", ACTIONS["cancel"])
    transfer = _action_route("transfer", ACTIONS["transfer"])
