"""The billing service's internal HTTP API (reached through the gateway).

Typed at the boundary (portal_chassis.contract): bodies are `Strict` models, answers are
`Out` models or pages of them (portal_billing.models), and each controller owns its guards
and its dependencies (the caller and the billing use cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post, put
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
)
from litestar.openapi.spec import RequestBody as OpenAPIRequestBody
from litestar.openapi.spec import Schema as OpenAPISchema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from portal_billing import catalogue, claims, orders, payments, queries, renewals
from portal_billing.claims import MAX_PROOF_BYTES, PROOF_TYPES
from portal_billing.deps import (
    ADMINS,
    Deps,
    PaymentInProgress,
)
from portal_billing.domain import Sector
from portal_billing.models import (
    AutoRenewIn,
    ClaimIn,
    ClaimOut,
    ClaimsPage,
    CodeOut,
    ContractOut,
    ExpiryCheckOut,
    InvoiceOut,
    InvoicesPage,
    OrderIn,
    OrdersPage,
    PayIn,
    PlanIn,
    PlanOut,
    PlansOut,
    PlanTermsIn,
    RefundIn,
    RejectIn,
    RenewIn,
    SettingsIn,
    SettingsOut,
    SubscriptionOut,
    SubscriptionsPage,
    UpgradeIn,
    UpgradePreviewOut,
)
from portal_chassis.auth import Principal, optional_principal, principal_from, verified_email
from portal_chassis.contract import PRINCIPAL, Limit, Offset, use_cases
from portal_chassis.problems import ProblemError
from portal_chassis.web import IdempotencyKey, download

Conn = ASGIConnection[Any, Any, Any, Any]
BillingDeps = NamedDependency[Deps]
Caller = NamedDependency[Principal]
DEPENDENCIES = {"principal": PRINCIPAL, "deps": use_cases("billing")}
PDF = "application/pdf"


async def payer_guard(connection: Conn, _: BaseRouteHandler) -> None:
    """Money matters: the account's owner and admins, or billing staff."""
    principal = await principal_from(connection)
    if not (principal.manages_account or ADMINS.held_by(principal)):
        raise ProblemError(403, "forbidden", "only the account owner or an admin handles billing")


async def _optional_principal(request: Request[Any, Any, Any]) -> Principal | None:
    return await optional_principal(request)


OPTIONAL_PRINCIPAL = Provide(_optional_principal)
"""Public reads: None without a token; a token that is sent must be valid."""


def _binary(*media_types: str) -> dict[str, OpenAPIMediaType]:
    schema = OpenAPISchema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
    return {m: OpenAPIMediaType(schema=schema) for m in media_types}


def _download(content: dict[str, OpenAPIMediaType]) -> type[Operation]:
    """An operation answering bytes of the given media types, which Litestar cannot tell
    from a `Response[bytes]` signature: the operation says so itself."""

    @dataclass
    class _Download(Operation):
        def __post_init__(self) -> None:
            if self.responses and "200" in self.responses:
                ok = self.responses["200"]
                assert isinstance(ok, OpenAPIResponse)
                ok.content = dict(content)

    return _Download


@dataclass
class _OptionalBody(Operation):
    """A body that may be left out (a payment without one pays all that is due from the
    wallet); Litestar documents every `data` parameter as required."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, OpenAPIRequestBody):
            self.request_body.required = False


_HTML = OpenAPIMediaType(schema=OpenAPISchema(type=OpenAPIType.STRING))
PROOF_DOWNLOAD = _download(_binary(*PROOF_TYPES))
PDF_DOWNLOAD = _download(_binary(PDF))
DOCUMENT_DOWNLOAD = _download({**_binary(PDF), "text/html": _HTML})


class PlansController(Controller):
    path = "/v1/plans"
    tags = ["plans"]
    dependencies = {**DEPENDENCIES, "caller": OPTIONAL_PRINCIPAL}

    @get("/")
    async def list_plans(
        self,
        caller: NamedDependency[Principal | None],
        deps: BillingDeps,
        category: Annotated[str | None, QueryParameter(max_length=40)] = None,
        tier: Annotated[str | None, QueryParameter(max_length=20)] = None,
        include_retired: FromQuery[bool] = False,
        sector: FromQuery[Sector | None] = None,
    ) -> PlansOut:
        """The price list is public (anonymous callers see what is for sale); `sector`: the
        plans suited to that business sector."""
        return await catalogue.list_plans(
            deps,
            caller,
            include_retired=include_retired,
            category=category,
            tier=tier,
            sector=sector,
        )

    @get("/{plan_id:str}")
    async def get_plan(
        self, caller: NamedDependency[Principal | None], deps: BillingDeps, plan_id: FromPath[str]
    ) -> PlanOut:
        del caller  # public; a token that is sent must be valid
        return await catalogue.plan_view(deps, plan_id)

    @post("/", status_code=201)
    async def publish(
        self, data: JSONBody[PlanIn], principal: Caller, deps: BillingDeps
    ) -> PlanOut:
        return await catalogue.publish_plan(deps, principal, data)

    @put("/{plan_id:str}")
    async def change(
        self,
        plan_id: FromPath[str],
        data: JSONBody[PlanTermsIn],
        principal: Caller,
        deps: BillingDeps,
    ) -> PlanOut:
        return await catalogue.change_plan(deps, principal, plan_id, data)

    @post("/{plan_id:str}/retire", status_code=200)
    async def retire(self, plan_id: FromPath[str], principal: Caller, deps: BillingDeps) -> PlanOut:
        return await catalogue.retire_plan(deps, principal, plan_id)


class OrdersController(Controller):
    path = "/v1/orders"
    tags = ["orders"]
    guards = [payer_guard]
    dependencies = DEPENDENCIES

    @get("/")
    async def list_orders(
        self, principal: Caller, deps: BillingDeps, limit: Limit = 20, offset: Offset = 0
    ) -> OrdersPage:
        """The account's orders with their service setup status (newest first)."""
        return await queries.list_orders(deps, principal, limit=limit, offset=offset)

    @post("/", status_code=201)
    async def order(
        self,
        data: JSONBody[OrderIn],
        principal: Caller,
        deps: BillingDeps,
        idempotency_key: IdempotencyKey = None,
    ) -> InvoiceOut:
        if data.trial:
            return await orders.start_trial(
                deps, principal, data.plan_id, data.months, idempotency_key
            )
        return await orders.place_order(deps, principal, data.plan_id, data.months, idempotency_key)


class SubscriptionsController(Controller):
    path = "/v1/subscriptions"
    tags = ["subscriptions"]
    # Contracts and their amounts are the owner's and admins' (an account's staff user
    # sees only the expiry notice on the dashboard).
    guards = [payer_guard]
    dependencies = DEPENDENCIES

    @get("/")
    async def list_subscriptions(
        self,
        principal: Caller,
        deps: BillingDeps,
        limit: Limit = 20,
        offset: Offset = 0,
        status: FromQuery[Literal["active", "expired"] | None] = None,
    ) -> SubscriptionsPage:
        return await queries.list_subscriptions(
            deps, principal, status=status, limit=limit, offset=offset
        )

    @get("/{subscription_id:str}")
    async def get_subscription(
        self, subscription_id: FromPath[str], principal: Caller, deps: BillingDeps
    ) -> SubscriptionOut:
        return await queries.subscription(deps, principal, subscription_id)

    @post("/{subscription_id:str}/renew", status_code=201)
    async def renew(
        self,
        subscription_id: FromPath[str],
        data: JSONBody[RenewIn],
        principal: Caller,
        deps: BillingDeps,
        idempotency_key: IdempotencyKey = None,
    ) -> InvoiceOut:
        return await orders.renew(deps, principal, subscription_id, data, idempotency_key)

    @put("/{subscription_id:str}/auto-renew")
    async def auto_renew(
        self,
        subscription_id: FromPath[str],
        data: JSONBody[AutoRenewIn],
        principal: Caller,
        deps: BillingDeps,
    ) -> SubscriptionOut:
        return await renewals.set_auto_renew(
            deps, principal, subscription_id, data.enabled, data.months
        )

    @get("/{subscription_id:str}/upgrade-preview")
    async def upgrade_preview(
        self,
        subscription_id: FromPath[str],
        plan_id: Annotated[str, QueryParameter(min_length=1, max_length=60)],
        principal: Caller,
        deps: BillingDeps,
        months: Annotated[int, QueryParameter(ge=0, le=120)] = 0,
    ) -> UpgradePreviewOut:
        return await orders.upgrade_preview(deps, principal, subscription_id, plan_id, months)

    @post("/{subscription_id:str}/upgrade", status_code=201)
    async def upgrade(
        self,
        subscription_id: FromPath[str],
        data: JSONBody[UpgradeIn],
        principal: Caller,
        deps: BillingDeps,
        idempotency_key: IdempotencyKey = None,
    ) -> InvoiceOut:
        return await orders.upgrade(deps, principal, subscription_id, data, idempotency_key)


class ContractsController(Controller):
    path = "/v1/contracts"
    tags = ["contracts"]
    guards = [payer_guard]  # as the subscriptions: not an account's staff user
    dependencies = DEPENDENCIES

    @get("/")
    async def list_contracts(
        self, principal: Caller, deps: BillingDeps, limit: Limit = 20, offset: Offset = 0
    ) -> SubscriptionsPage:
        return await queries.list_subscriptions(
            deps, principal, status=None, limit=limit, offset=offset
        )

    @get("/{subscription_id:str}")
    async def get_contract(
        self, subscription_id: FromPath[str], principal: Caller, deps: BillingDeps
    ) -> ContractOut:
        return await queries.contract(deps, principal, subscription_id)

    @get(
        "/{subscription_id:str}/documents/{document:str}",
        operation_class=DOCUMENT_DOWNLOAD,
        description="terms.pdf, terms.html, confirmation.pdf or confirmation.html: the PDFs "
        "are sent as attachments, the HTML pages shown.",
    )
    async def document(
        self,
        subscription_id: FromPath[str],
        document: FromPath[str],
        principal: Caller,
        deps: BillingDeps,
    ) -> Response[Any]:
        found = await queries.contract_document(deps, principal, subscription_id, document)
        if found.filename is None:
            return Response(
                found.content,
                media_type=found.media_type,  # Litestar adds "; charset=utf-8" to text/*
                headers={"X-Content-Type-Options": "nosniff"},
            )
        return download(found.content, found.media_type, found.filename)


class InvoicesController(Controller):
    path = "/v1/invoices"
    tags = ["invoices"]
    dependencies = DEPENDENCIES
    request_max_body_size = MAX_PROOF_BYTES * 4 // 3 + 64 * 1024

    @get("/", guards=[payer_guard])
    async def list_invoices(
        self,
        principal: Caller,
        deps: BillingDeps,
        limit: Limit = 20,
        offset: Offset = 0,
        status: FromQuery[Literal["unpaid", "partially_paid", "paid", "cancelled"] | None] = None,
        kind: FromQuery[Literal["new", "renewal", "upgrade"] | None] = None,
    ) -> InvoicesPage:
        return await queries.list_invoices(
            deps, principal, status=status, kind=kind, limit=limit, offset=offset
        )

    @get("/{invoice_id:str}", guards=[payer_guard])
    async def get_invoice(
        self, invoice_id: FromPath[str], principal: Caller, deps: BillingDeps
    ) -> InvoiceOut:
        return await queries.invoice(deps, principal, invoice_id)

    @get(
        "/{invoice_id:str}/pdf",
        guards=[payer_guard],
        media_type=PDF,
        operation_class=PDF_DOWNLOAD,
        description="The invoice as a PDF file, sent as an attachment.",
    )
    async def invoice_pdf(
        self, invoice_id: FromPath[str], principal: Caller, deps: BillingDeps
    ) -> Response[bytes]:
        pdf, filename = await queries.invoice_pdf(deps, principal, invoice_id)
        return download(pdf, PDF, filename)

    @post(
        "/{invoice_id:str}/pay",
        status_code=200,
        guards=[payer_guard, verified_email],
        operation_class=_OptionalBody,
        responses={
            202: ResponseSpec(
                InvoiceOut,
                description="The wallet's answer is pending: the invoice lists the payment "
                "under `payments_in_progress` until billing finishes it.",
            )
        },
    )
    async def pay(
        self,
        invoice_id: FromPath[str],
        principal: Caller,
        deps: BillingDeps,
        data: JSONBody[PayIn | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[InvoiceOut]:
        """200 with the invoice; 202 while the wallet's answer is pending. A Response
        because the status depends on how the payment went. No body: pay all that is due
        from the wallet."""
        try:
            view = await payments.pay(deps, principal, invoice_id, data or PayIn(), idempotency_key)
        except PaymentInProgress:
            return Response(await queries.invoice(deps, principal, invoice_id), status_code=202)
        return Response(view, status_code=200)

    @post("/{invoice_id:str}/cancel", status_code=200, guards=[payer_guard])
    async def cancel(
        self, invoice_id: FromPath[str], principal: Caller, deps: BillingDeps
    ) -> InvoiceOut:
        return await payments.cancel(deps, principal, invoice_id)

    @post("/{invoice_id:str}/refund", status_code=200)  # billing admins: the use case checks
    async def refund(
        self,
        invoice_id: FromPath[str],
        data: JSONBody[RefundIn],
        principal: Caller,
        deps: BillingDeps,
    ) -> InvoiceOut:
        return await payments.refund(deps, principal, invoice_id, data)

    @post(
        "/{invoice_id:str}/payment-confirmation",
        status_code=201,
        guards=[payer_guard, verified_email],
    )
    async def claim(
        self,
        invoice_id: FromPath[str],
        data: JSONBody[ClaimIn],
        principal: Caller,
        deps: BillingDeps,
        idempotency_key: IdempotencyKey = None,
    ) -> ClaimOut:
        return await claims.file_claim(deps, principal, invoice_id, data, idempotency_key)


class PurchasesController(Controller):
    path = "/v1/purchases"
    tags = ["invoices"]
    guards = [payer_guard]
    dependencies = DEPENDENCIES

    @get("/")
    async def purchases(
        self, principal: Caller, deps: BillingDeps, limit: Limit = 20, offset: Offset = 0
    ) -> InvoicesPage:
        """Purchase history: every paid order, newest first."""
        return await queries.list_invoices(
            deps, principal, status="paid", kind=None, limit=limit, offset=offset
        )


class ClaimsController(Controller):
    path = "/v1/payment-claims"
    tags = ["payment-claims"]
    dependencies = DEPENDENCIES

    @get("/", guards=[payer_guard])
    async def list_claims(
        self,
        principal: Caller,
        deps: BillingDeps,
        limit: Limit = 20,
        offset: Offset = 0,
        status: FromQuery[Literal["under_review", "approved", "rejected"] | None] = None,
        overdue: FromQuery[bool] = False,
    ) -> ClaimsPage:
        return await claims.list_claims(deps, principal, status, overdue, limit, offset)

    @get("/{claim_id:str}", guards=[payer_guard])
    async def get_claim(
        self, claim_id: FromPath[str], principal: Caller, deps: BillingDeps
    ) -> ClaimOut:
        return await claims.claim(deps, principal, claim_id)

    @get(
        "/{claim_id:str}/proof",
        guards=[payer_guard],
        operation_class=PROOF_DOWNLOAD,
        description="The proof file as it was sent (PNG, JPEG or PDF), as an attachment.",
    )
    async def proof(
        self, claim_id: FromPath[str], principal: Caller, deps: BillingDeps
    ) -> Response[bytes]:
        content_type, filename, data = await claims.proof(deps, principal, claim_id)
        return download(data, content_type, filename)

    @post("/{claim_id:str}/approve", status_code=200)
    async def approve(
        self, claim_id: FromPath[str], principal: Caller, deps: BillingDeps
    ) -> ClaimOut:
        return await claims.decide_claim(deps, principal, claim_id, True, "")

    @post("/{claim_id:str}/reject", status_code=200)
    async def reject(
        self,
        claim_id: FromPath[str],
        data: JSONBody[RejectIn],
        principal: Caller,
        deps: BillingDeps,
    ) -> ClaimOut:
        return await claims.decide_claim(deps, principal, claim_id, False, data.reason)


class BillingAccountController(Controller):
    path = "/v1/billing"
    tags = ["billing"]
    dependencies = DEPENDENCIES

    @get("/settings", guards=[payer_guard])
    async def get_settings(self, principal: Caller, deps: BillingDeps) -> SettingsOut:
        return await queries.settings_of(deps, principal)

    @put("/settings", guards=[payer_guard])
    async def put_settings(
        self, data: JSONBody[SettingsIn], principal: Caller, deps: BillingDeps
    ) -> SettingsOut:
        if data.sector is not None:
            await payments.set_sector(deps, principal, data.sector)
        if data.auto_pay is not None:
            return await payments.set_auto_pay(deps, principal, data.auto_pay)
        return await queries.settings_of(deps, principal)

    @get("/codes/{code:str}")
    async def code(self, code: FromPath[str], principal: Caller, deps: BillingDeps) -> CodeOut:
        """Internal: lets tickets check a related order/invoice/contract code."""
        return await queries.code(deps, principal, code[:60])

    @post("/expiry-check", status_code=200)
    async def expiry_check(self, principal: Caller, deps: BillingDeps) -> ExpiryCheckOut:
        return await renewals.expiry_check(deps, principal)
