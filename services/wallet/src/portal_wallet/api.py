"""The wallet's internal HTTP API (reached through the gateway or by other services)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from portal_chassis.auth import Principal, principal_from
from portal_chassis.problems import ProblemError, parse_json_body
from portal_chassis.web import IdempotencyKey
from portal_contracts.base import CurrencyCode
from portal_contracts.events.wallet import CreditReason, DebitReason, PaymentMethod
from portal_wallet.handlers import WalletService
from portal_wallet.payments import MAX_PAYMENT_AMOUNT, SIGNATURE_HEADER

MONEY_ROLES = frozenset({"service", "billing_admin", "platform_admin"})
HOLD_ROLES = frozenset({"billing_admin", "platform_admin"})
"""Staff who decide about payments held for review (people, never a service)."""


class TopUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(gt=0, description="Minor units of the currency (VND has none)")
    currency: CurrencyCode = "VND"
    method: PaymentMethod = "sandbox"


class MoneyMovement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(gt=0, le=MAX_PAYMENT_AMOUNT)
    currency: CurrencyCode
    reference: str = Field(min_length=1, max_length=200)


class CreditRequest(MoneyMovement):
    reason: CreditReason


class DebitRequest(MoneyMovement):
    reason: DebitReason


def _service(request: Request[Any, Any, Any]) -> WalletService:
    return request.app.state.wallet  # type: ignore[no-any-return]


async def _customer(request: Request[Any, Any, Any]) -> Principal:
    """The wallet is billing: an account's owner and admins see it, its staff users don't."""
    principal = await principal_from(request)
    if not principal.manages_account:
        raise ProblemError(403, "forbidden", "only the account owner or an admin sees the wallet")
    return principal


async def _hold_staff(request: Request[Any, Any, Any]) -> Principal:
    principal = await principal_from(request)
    if not principal.roles & HOLD_ROLES:
        raise ProblemError(403, "forbidden", "held payments need a billing or platform admin")
    return principal


async def _money_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = await principal_from(request)
    if not principal.roles & MONEY_ROLES:
        raise ProblemError(403, "forbidden", "moving money needs a service or billing role")
    return principal


class WalletController(Controller):
    path = "/v1/wallet"
    tags = ["wallet"]

    @get("/")
    async def get_wallet(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _customer(request)
        return await _service(request).wallet_view(principal.account_id)

    @post("/top-ups", status_code=201)
    async def request_top_up(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TopUpRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[dict[str, Any]]:
        principal = await _customer(request)
        data = parse_json_body(await request.body(), TopUpRequest)
        view, created = await _service(request).request_top_up(
            principal.account_id,
            data.amount,
            data.currency,
            data.method,
            actor=principal.user_id,
            idempotency_key=idempotency_key,
            # The signed token proves the customer's account exists; platform accounts
            # (staff) have no wallet by design.
            open_if_missing=not principal.is_staff,
        )
        return Response(view, status_code=201 if created else 200)

    @get("/top-ups")
    async def list_top_ups(
        self,
        request: Request[Any, Any, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> dict[str, Any]:
        principal = await _customer(request)
        return await _service(request).list_top_ups(principal.account_id, limit, offset)

    @get("/top-ups/{top_up_id:str}")
    async def get_top_up(
        self, request: Request[Any, Any, Any], top_up_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await _customer(request)
        return await _service(request).get_top_up(principal.account_id, top_up_id)

    @get("/transactions")
    async def transactions(
        self,
        request: Request[Any, Any, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
        kind: FromQuery[Literal["credit", "debit", "held"] | None] = None,
        since: Annotated[datetime | None, QueryParameter(name="from")] = None,
        until: Annotated[datetime | None, QueryParameter(name="to")] = None,
    ) -> dict[str, Any]:
        principal = await _customer(request)
        return await _service(request).transactions(
            principal.account_id, limit=limit, offset=offset, kind=kind, since=since, until=until
        )

    @get("/balance")
    async def balance_at(
        self,
        request: Request[Any, Any, Any],
        at: Annotated[datetime, QueryParameter(name="at")],
    ) -> dict[str, Any]:
        principal = await _customer(request)
        if at.tzinfo is None:
            raise ProblemError(400, "timezone_required", "give `at` with a time zone offset")
        return await _service(request).balance_at(principal.account_id, at)


class MoneyController(Controller):
    """Credits and debits asked for by other contexts (billing pays invoices here)."""

    path = "/v1/wallets/{account_id:str}"
    tags = ["wallet-internal"]

    @post("/credits", status_code=201)
    async def credit(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[str],
        data: JSONBody[CreditRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        principal = await _money_principal(request)
        data = parse_json_body(await request.body(), CreditRequest)
        if not idempotency_key:
            raise ProblemError(400, "idempotency_key_required", "credits need an Idempotency-Key")
        return await _service(request).credit(
            account_id,
            data.amount,
            data.currency,
            data.reason,
            data.reference,
            idempotency_key,
            actor=principal.user_id,
        )

    @get("/")
    async def wallet_of(
        self, request: Request[Any, Any, Any], account_id: FromPath[str]
    ) -> dict[str, Any]:
        await _money_principal(request)
        return await _service(request).wallet_view(account_id)

    @post("/top-ups", status_code=201)
    async def top_up_for(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[str],
        data: JSONBody[TopUpRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[dict[str, Any]]:
        """A top-up asked for by billing so a customer can pay an invoice by transfer."""
        principal = await _money_principal(request)
        data = parse_json_body(await request.body(), TopUpRequest)
        view, created = await _service(request).request_top_up(
            account_id,
            data.amount,
            data.currency,
            data.method,
            actor=principal.user_id,
            idempotency_key=idempotency_key,
        )
        return Response(view, status_code=201 if created else 200)

    @post("/debits", status_code=201)
    async def debit(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[str],
        data: JSONBody[DebitRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        principal = await _money_principal(request)
        data = parse_json_body(await request.body(), DebitRequest)
        if not idempotency_key:
            raise ProblemError(400, "idempotency_key_required", "debits need an Idempotency-Key")
        return await _service(request).debit(
            account_id,
            data.amount,
            data.currency,
            data.reason,
            data.reference,
            idempotency_key,
            actor=principal.user_id,
        )


class HeldPaymentsController(Controller):
    """Staff review of payments held instead of credited (see docs/operations.md)."""

    path = "/v1/wallet-holds"
    tags = ["wallet-staff"]

    @get("/")
    async def list_holds(
        self,
        request: Request[Any, Any, Any],
        status: FromQuery[Literal["held", "released", "refund"] | None] = "held",
        account_id: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> dict[str, Any]:
        await _hold_staff(request)
        return await _service(request).list_holds(
            status=status, account_id=account_id, limit=limit, offset=offset
        )

    @post("/{hold_id:str}/release", status_code=200)
    async def release(
        self, request: Request[Any, Any, Any], hold_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await _hold_staff(request)
        return await _service(request).release_hold(hold_id, principal.user_id)

    @post("/{hold_id:str}/refund", status_code=200)
    async def refund(
        self, request: Request[Any, Any, Any], hold_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await _hold_staff(request)
        return await _service(request).refund_hold(hold_id, principal.user_id)


class WebhookController(Controller):
    path = "/v1/payments/webhooks"
    tags = ["payments"]

    @post("/{provider:str}", status_code=200)
    async def webhook(
        self, request: Request[Any, Any, Any], provider: FromPath[str]
    ) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > 64 * 1024:
            raise ProblemError(413, "payload_too_large", "webhook bodies are at most 64 KiB")
        return await _service(request).handle_webhook(
            provider, raw, request.headers.get(SIGNATURE_HEADER)
        )
