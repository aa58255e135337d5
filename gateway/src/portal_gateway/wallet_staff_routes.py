"""Staff routes of the wallet: payments held for review (the wallet checks the roles)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from portal_chassis.auth import staff_guard
from portal_gateway.upstream import forward_to, seg


class HeldPaymentsController(Controller):
    path = "/api/v1/staff/wallet/holds"
    tags = ["wallet-staff"]
    guards = [staff_guard]
    request_max_body_size = 64 * 1024

    @get(
        "/",
        summary="Billing admin: payments held for review (filters: status, account_id)",
    )
    async def list_holds(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await forward_to(request, "wallet", "/v1/wallet-holds")

    @post(
        "/{hold_id:str}/release",
        status_code=200,
        summary="Billing admin: credit a held payment to the customer's balance (once)",
    )
    async def release(
        self, request: Request[Any, Any, Any], hold_id: FromPath[str]
    ) -> Response[Any]:
        return await forward_to(request, "wallet", f"/v1/wallet-holds/{seg(hold_id)}/release")

    @post(
        "/{hold_id:str}/refund",
        status_code=200,
        summary="Billing admin: mark a held payment for refund to the payer (once)",
    )
    async def refund(
        self, request: Request[Any, Any, Any], hold_id: FromPath[str]
    ) -> Response[Any]:
        return await forward_to(request, "wallet", f"/v1/wallet-holds/{seg(hold_id)}/refund")
