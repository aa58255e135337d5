"""Public routes under /api/v1. Entry points only: check, scope, forward or read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from portal_chassis.auth import authenticated, principal_from, staff_guard
from portal_chassis.problems import parse_json_body
from portal_chassis.web import IdempotencyKey
from portal_contracts.base import CurrencyCode
from portal_contracts.events.wallet import PaymentMethod
from portal_gateway.dashboard import DashboardQueries, live_dashboard
from portal_gateway.idempotency import IdempotencyStore
from portal_gateway.upstream import Upstream, seg


class TopUpRequest(BaseModel):
    """Shape of a top-up request; the wallet service applies the rules."""

    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(gt=0, description="Integer amount in minor units (VND has none)")
    currency: CurrencyCode = "VND"
    method: PaymentMethod = "sandbox"


class WebhookBody(BaseModel):
    """Documented shape of a provider webhook (the raw bytes are what gets verified)."""

    id: str
    type: Literal["payment.succeeded", "payment.failed"]
    reference: str
    amount: int
    currency: str


def _wallet(request: Request[Any, Any, Any]) -> Upstream:
    return request.app.state.upstreams["wallet"]  # type: ignore[no-any-return]


def _idempotency(request: Request[Any, Any, Any]) -> IdempotencyStore:
    return request.app.state.idempotency  # type: ignore[no-any-return]


class WalletController(Controller):
    path = "/api/v1/wallet"
    guards = [authenticated]
    tags = ["wallet"]

    @get("/", summary="My wallet: balance and total topped up")
    async def wallet(self, request: Request[Any, Any, Any]) -> Response[Any]:
        await principal_from(request)
        return await _wallet(request).forward(request, "/v1/wallet")

    @post("/top-ups", status_code=201, summary="Request a top-up (answers payment instructions)")
    async def top_up(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TopUpRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        principal = await principal_from(request)
        raw = await request.body()
        body = parse_json_body(raw, TopUpRequest).model_dump_json().encode()
        return await _idempotency(request).run(
            f"{principal.account_id}|wallet.top_up",
            idempotency_key,
            ("POST", request.url.path, raw),
            lambda: _wallet(request).forward(request, "/v1/wallet/top-ups", body=body),
        )

    @get("/top-ups", summary="My top-ups, newest first")
    async def top_ups(
        self,
        request: Request[Any, Any, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> Response[Any]:
        await principal_from(request)
        return await _wallet(request).forward(
            request, "/v1/wallet/top-ups", params={"limit": limit, "offset": offset}
        )

    @get("/top-ups/{top_up_id:str}", summary="One top-up and its payment status")
    async def top_up_status(
        self, request: Request[Any, Any, Any], top_up_id: FromPath[str]
    ) -> Response[Any]:
        await principal_from(request)
        return await _wallet(request).forward(request, f"/v1/wallet/top-ups/{seg(top_up_id)}")

    @get("/transactions", summary="My wallet transactions, newest first")
    async def transactions(
        self,
        request: Request[Any, Any, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
        kind: FromQuery[Literal["credit", "debit", "held"] | None] = None,
        since: Annotated[datetime | None, QueryParameter(name="from")] = None,
        until: Annotated[datetime | None, QueryParameter(name="to")] = None,
    ) -> Response[Any]:
        await principal_from(request)
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if kind:
            params["kind"] = kind
        if since:
            params["from"] = since.isoformat()
        if until:
            params["to"] = until.isoformat()
        return await _wallet(request).forward(request, "/v1/wallet/transactions", params=params)

    @get("/balance", summary="My balance at a past instant (audit)")
    async def balance_at(
        self, request: Request[Any, Any, Any], at: Annotated[datetime, QueryParameter(name="at")]
    ) -> Response[Any]:
        await principal_from(request)
        return await _wallet(request).forward(
            request, "/v1/wallet/balance", params={"at": at.isoformat()}
        )


class PaymentsController(Controller):
    path = "/api/v1/payments"
    tags = ["payments"]

    @post(
        "/webhooks/{provider:str}",
        status_code=200,
        summary="Payment provider webhook (signed with Portal-Signature)",
    )
    async def webhook(
        self, request: Request[Any, Any, Any], provider: FromPath[str]
    ) -> Response[Any]:
        # The wallet verifies the signature over the exact raw bytes.
        return await _wallet(request).forward(
            request, f"/v1/payments/webhooks/{seg(provider)}", body=await request.body(), params={}
        )


class StaffDashboardController(Controller):
    path = "/api/v1/staff/dashboard"
    tags = ["dashboard"]
    guards = [staff_guard]

    @get("/", summary="Staff dashboard: platform-wide figures of every context")
    async def dashboard(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        queries: DashboardQueries = request.app.state.dashboard
        return await queries.for_staff()


class DashboardController(Controller):
    path = "/api/v1/dashboard"
    guards = [authenticated]
    tags = ["dashboard"]

    @get("/", summary="My dashboard: balance, total topped up, recent transactions")
    async def dashboard(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        queries: DashboardQueries = request.app.state.dashboard
        return await queries.for_account(principal)

    @get(
        "/stream",
        summary="My dashboard, live (server-sent events)",
        description=(
            "An `event: dashboard` with the whole dashboard at once and whenever it changes; "
            "a comment line as a heartbeat. The stream ends after a while; EventSource "
            "reconnects by itself (`retry` is sent)."
        ),
    )
    async def stream(self, request: Request[Any, Any, Any]) -> ServerSentEvent:
        principal = await principal_from(request)
        queries: DashboardQueries = request.app.state.dashboard
        settings = request.app.state.settings
        return ServerSentEvent(
            live_dashboard(
                queries,
                principal,
                poll=settings.stream_poll_seconds,
                heartbeat=settings.stream_heartbeat_seconds,
                lifetime=settings.stream_lifetime_seconds,
            ),
            retry_duration=1000,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
