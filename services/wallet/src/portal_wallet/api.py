"""The wallet's internal HTTP API (reached through the gateway or by other services).

Typed at the boundary (portal_chassis.contract): bodies are `Strict` models, answers are
`Out` models or pages of them, and each controller owns its guard and its dependencies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Operation
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from portal_chassis.auth import Principal, principal_from, verified_email
from portal_chassis.contract import PRINCIPAL, Limit, Offset, Out, Page, paginate, use_cases
from portal_chassis.problems import ProblemError
from portal_chassis.web import IdempotencyKey
from portal_wallet.handlers import WalletService
from portal_wallet.models import (
    BalanceAtOut,
    CreditIn,
    DebitIn,
    HoldOut,
    MoneyResultOut,
    TopUpIn,
    TopUpOut,
    TransactionsPage,
    WalletOut,
    WebhookOut,
)
from portal_wallet.payments import SIGNATURE_HEADER, WebhookPayload

MONEY_ROLES = frozenset({"service", "billing_admin", "platform_admin"})
HOLD_ROLES = frozenset({"billing_admin", "platform_admin"})
"""Staff who decide about payments held for review (people, never a service)."""

AnswerT = TypeVar("AnswerT", bound=Out)
Conn = ASGIConnection[Any, Any, Any, Any]
Wallet = NamedDependency[WalletService]
Caller = NamedDependency[Principal]


async def customer_guard(connection: Conn, _: BaseRouteHandler) -> None:
    """The wallet is billing: an account's owner and admins see it, its staff users don't."""
    if not (await principal_from(connection)).manages_account:
        raise ProblemError(403, "forbidden", "only the account owner or an admin sees the wallet")


async def hold_staff_guard(connection: Conn, _: BaseRouteHandler) -> None:
    if not (await principal_from(connection)).roles & HOLD_ROLES:
        raise ProblemError(403, "forbidden", "held payments need a billing or platform admin")


async def money_guard(connection: Conn, _: BaseRouteHandler) -> None:
    if not (await principal_from(connection)).roles & MONEY_ROLES:
        raise ProblemError(403, "forbidden", "moving money needs a service or billing role")


def _page(rows: dict[str, Any], item: type[AnswerT]) -> Page[AnswerT]:
    """A use case's page of rows as a page of typed answers."""
    return paginate(
        [item.model_validate(r) for r in rows["items"]],
        rows["total"],
        rows["limit"],
        rows["offset"],
    )


def _top_up_answer(view: dict[str, Any], created: bool) -> Response[TopUpOut]:
    # 201 when created now, 200 when an Idempotency-Key replays the first answer.
    return Response(TopUpOut.model_validate(view), status_code=201 if created else 200)


class WalletController(Controller):
    path = "/v1/wallet"
    tags = ["wallet"]
    guards = [customer_guard]
    dependencies = {"principal": PRINCIPAL, "wallet": use_cases("wallet")}

    @get("/")
    async def get_wallet(self, principal: Caller, wallet: Wallet) -> WalletOut:
        return WalletOut.model_validate(await wallet.wallet_view(principal.account_id))

    @post("/top-ups", status_code=201, guards=[verified_email])
    async def request_top_up(
        self,
        data: JSONBody[TopUpIn],
        principal: Caller,
        wallet: Wallet,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TopUpOut]:
        view, created = await wallet.request_top_up(
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
        return _top_up_answer(view, created)

    @get("/top-ups")
    async def list_top_ups(
        self, principal: Caller, wallet: Wallet, limit: Limit = 20, offset: Offset = 0
    ) -> Page[TopUpOut]:
        rows = await wallet.list_top_ups(principal.account_id, limit, offset)
        return _page(rows, TopUpOut)

    @get("/top-ups/{top_up_id:str}")
    async def get_top_up(
        self, principal: Caller, wallet: Wallet, top_up_id: FromPath[str]
    ) -> TopUpOut:
        return TopUpOut.model_validate(await wallet.get_top_up(principal.account_id, top_up_id))

    @get("/transactions")
    async def transactions(
        self,
        principal: Caller,
        wallet: Wallet,
        limit: Limit = 20,
        offset: Offset = 0,
        kind: FromQuery[Literal["credit", "debit", "held"] | None] = None,
        since: Annotated[datetime | None, QueryParameter(name="from")] = None,
        until: Annotated[datetime | None, QueryParameter(name="to")] = None,
    ) -> TransactionsPage:
        rows = await wallet.transactions(
            principal.account_id, limit=limit, offset=offset, kind=kind, since=since, until=until
        )
        return TransactionsPage.model_validate(rows)

    @get("/balance")
    async def balance_at(
        self,
        principal: Caller,
        wallet: Wallet,
        at: Annotated[datetime, QueryParameter(name="at")],
    ) -> BalanceAtOut:
        if at.tzinfo is None:
            raise ProblemError(400, "timezone_required", "give `at` with a time zone offset")
        return BalanceAtOut.model_validate(await wallet.balance_at(principal.account_id, at))


class MoneyController(Controller):
    """Credits and debits asked for by other contexts (billing pays invoices here)."""

    path = "/v1/wallets/{account_id:str}"
    tags = ["wallet-internal"]
    guards = [money_guard]
    dependencies = {"principal": PRINCIPAL, "wallet": use_cases("wallet")}

    @post("/credits", status_code=201)
    async def credit(
        self,
        account_id: FromPath[str],
        data: JSONBody[CreditIn],
        principal: Caller,
        wallet: Wallet,
        idempotency_key: IdempotencyKey = None,
    ) -> MoneyResultOut:
        if not idempotency_key:
            raise ProblemError(400, "idempotency_key_required", "credits need an Idempotency-Key")
        result = await wallet.credit(
            account_id,
            data.amount,
            data.currency,
            data.reason,
            data.reference,
            idempotency_key,
            actor=principal.user_id,
        )
        return MoneyResultOut.model_validate(result)

    @get("/")
    async def wallet_of(self, account_id: FromPath[str], wallet: Wallet) -> WalletOut:
        return WalletOut.model_validate(await wallet.wallet_view(account_id))

    @post("/top-ups", status_code=201)
    async def top_up_for(
        self,
        account_id: FromPath[str],
        data: JSONBody[TopUpIn],
        principal: Caller,
        wallet: Wallet,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TopUpOut]:
        """A top-up asked for by billing so a customer can pay an invoice by transfer."""
        view, created = await wallet.request_top_up(
            account_id,
            data.amount,
            data.currency,
            data.method,
            actor=principal.user_id,
            idempotency_key=idempotency_key,
        )
        return _top_up_answer(view, created)

    @post("/debits", status_code=201)
    async def debit(
        self,
        account_id: FromPath[str],
        data: JSONBody[DebitIn],
        principal: Caller,
        wallet: Wallet,
        idempotency_key: IdempotencyKey = None,
    ) -> MoneyResultOut:
        if not idempotency_key:
            raise ProblemError(400, "idempotency_key_required", "debits need an Idempotency-Key")
        result = await wallet.debit(
            account_id,
            data.amount,
            data.currency,
            data.reason,
            data.reference,
            idempotency_key,
            actor=principal.user_id,
        )
        return MoneyResultOut.model_validate(result)


class HeldPaymentsController(Controller):
    """Staff review of payments held instead of credited (see docs/operations.md)."""

    path = "/v1/wallet-holds"
    tags = ["wallet-staff"]
    guards = [hold_staff_guard]
    dependencies = {"principal": PRINCIPAL, "wallet": use_cases("wallet")}

    @get("/")
    async def list_holds(
        self,
        wallet: Wallet,
        status: FromQuery[Literal["held", "released", "refund"] | None] = "held",
        account_id: FromQuery[str | None] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[HoldOut]:
        rows = await wallet.list_holds(
            status=status, account_id=account_id, limit=limit, offset=offset
        )
        return _page(rows, HoldOut)

    @post("/{hold_id:str}/release", status_code=200)
    async def release(self, hold_id: FromPath[str], principal: Caller, wallet: Wallet) -> HoldOut:
        return HoldOut.model_validate(await wallet.release_hold(hold_id, principal.user_id))

    @post("/{hold_id:str}/refund", status_code=200)
    async def refund(self, hold_id: FromPath[str], principal: Caller, wallet: Wallet) -> HoldOut:
        return HoldOut.model_validate(await wallet.refund_hold(hold_id, principal.user_id))


class SignedJsonBody(Operation):
    """Documents the webhook's body, which the route reads as raw bytes (to check the
    signature over exactly those bytes) rather than as a decoded parameter."""

    def to_schema(self) -> dict[str, Any]:
        schema = super().to_schema()
        schema["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": WebhookPayload.model_json_schema()}},
        }
        return schema


class WebhookController(Controller):
    """Payment providers' callbacks: the signature covers the raw bytes, so this route
    reads the body itself instead of taking a decoded model (see payments.py)."""

    path = "/v1/payments/webhooks"
    tags = ["payments"]
    dependencies = {"wallet": use_cases("wallet")}

    @post("/{provider:str}", status_code=200, operation_class=SignedJsonBody)
    async def webhook(
        self, request: Request[Any, Any, Any], provider: FromPath[str], wallet: Wallet
    ) -> WebhookOut:
        raw = await request.body()
        if len(raw) > 64 * 1024:
            raise ProblemError(413, "payload_too_large", "webhook bodies are at most 64 KiB")
        result = await wallet.handle_webhook(provider, raw, request.headers.get(SIGNATURE_HEADER))
        return WebhookOut.model_validate(result)
