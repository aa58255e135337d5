"""The billing service's internal HTTP API (reached through the gateway)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from portal_billing.documents import render_html, render_invoice_pdf, render_pdf
from portal_billing.handlers import (
    MAX_PROOF_BYTES,
    BillingService,
    PaymentInProgress,
    is_billing_admin,
)
from portal_billing.views import plan_row
from portal_chassis.auth import Principal, optional_principal, principal_from
from portal_chassis.problems import ProblemError, parse_json_body
from portal_chassis.web import IdempotencyKey, download

Months = Annotated[StrictInt, Field(ge=1, le=120)]
PlanId = Annotated[str, Field(min_length=1, max_length=60)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PeriodIn(Strict):
    months: Literal[1, 3, 6, 12, 24]
    discount_percent: StrictInt = Field(0, ge=0, le=99)


class PlanTermsIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    monthly_price: StrictInt = Field(gt=0, le=10_000_000_000)
    periods: list[PeriodIn] = Field(min_length=1, max_length=5)
    description: Annotated[str, Field(max_length=2000)] = ""


class PlanIn(PlanTermsIn):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{1,30}$")]
    category: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
    tier: Literal["support", "professional", "premium"]


class OrderIn(Strict):
    plan_id: PlanId
    months: Months


class RenewIn(Strict):
    months: Months
    pay_from_wallet: StrictBool = True


class AutoRenewIn(Strict):
    enabled: StrictBool
    months: Months | None = None
    """Default: the period of the purchase or the latest renewal."""


class UpgradeIn(Strict):
    plan_id: PlanId
    pay_from_wallet: StrictBool = True
    expected_charge: StrictInt | None = Field(None, ge=0)
    """The previewed charge; if the price moved since (a day passed), the upgrade stops."""


class PayIn(Strict):
    method: Literal["wallet", "sandbox", "bank_transfer"] = "wallet"
    amount: StrictInt | None = Field(None, gt=0)
    """Less than what is due is a partial payment; omitted: everything due."""


class ProofIn(Strict):
    filename: Annotated[str, Field(min_length=1, max_length=200)]
    content_base64: Annotated[str, Field(max_length=MAX_PROOF_BYTES * 4 // 3 + 8)]


class ClaimIn(Strict):
    reference: Annotated[str, Field(min_length=3, max_length=100)]
    amount: StrictInt = Field(gt=0)
    paid_on: date | None = None
    proof: ProofIn | None = None


class RejectIn(Strict):
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class RefundIn(Strict):
    amount: StrictInt = Field(gt=0)
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class SettingsIn(Strict):
    auto_pay: StrictBool


Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]


def _svc(request: Request[Any, Any, Any]) -> BillingService:
    return request.app.state.billing  # type: ignore[no-any-return]


async def _payer(request: Request[Any, Any, Any]) -> Principal:
    """Money matters: the account's owner and admins, or billing staff."""
    principal = await principal_from(request)
    if not (principal.manages_account or is_billing_admin(principal)):
        raise ProblemError(403, "forbidden", "only the account owner or an admin handles billing")
    return principal


class PlansController(Controller):
    path = "/v1/plans"
    tags = ["plans"]

    @get("/")
    async def list_plans(
        self,
        request: Request[Any, Any, Any],
        category: Annotated[str | None, QueryParameter(max_length=40)] = None,
        tier: Annotated[str | None, QueryParameter(max_length=20)] = None,
        include_retired: FromQuery[bool] = False,
    ) -> dict[str, Any]:
        """The price list is public (anonymous callers see what is for sale)."""
        principal = await optional_principal(request)
        return await _svc(request).list_plans(
            include_retired=include_retired
            and principal is not None
            and is_billing_admin(principal),
            category=category,
            tier=tier,
        )

    @get("/{plan_id:str}")
    async def get_plan(self, request: Request[Any, Any, Any], plan_id: FromPath[str]) -> Any:
        await optional_principal(request)  # public; a token that is sent must be valid
        return plan_row(await _svc(request).plan(plan_id))

    @post("/", status_code=201)
    async def publish(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), PlanIn)
        return await _svc(request).publish_plan(principal, data)

    @put("/{plan_id:str}")
    async def change(self, request: Request[Any, Any, Any], plan_id: FromPath[str]) -> Any:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), PlanTermsIn)
        return await _svc(request).change_plan(principal, plan_id, data)

    @post("/{plan_id:str}/retire", status_code=200)
    async def retire(self, request: Request[Any, Any, Any], plan_id: FromPath[str]) -> Any:
        return await _svc(request).retire_plan(await principal_from(request), plan_id)


class OrdersController(Controller):
    path = "/v1/orders"
    tags = ["orders"]

    @post("/", status_code=201)
    async def order(
        self, request: Request[Any, Any, Any], idempotency_key: IdempotencyKey = None
    ) -> dict[str, Any]:
        principal = await _payer(request)
        data = parse_json_body(await request.body(), OrderIn)
        return await _svc(request).place_order(
            principal, data.plan_id, data.months, idempotency_key
        )


class SubscriptionsController(Controller):
    path = "/v1/subscriptions"
    tags = ["subscriptions"]

    @get("/")
    async def list_subscriptions(
        self,
        request: Request[Any, Any, Any],
        limit: Limit = 20,
        offset: Offset = 0,
        status: FromQuery[Literal["active", "expired"] | None] = None,
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        return await _svc(request).list_subscriptions(
            principal, status=status, limit=limit, offset=offset
        )

    @get("/{subscription_id:str}")
    async def get_subscription(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[str]
    ) -> dict[str, Any]:
        return await _svc(request).subscription(await principal_from(request), subscription_id)

    @post("/{subscription_id:str}/renew", status_code=201)
    async def renew(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        principal = await _payer(request)
        data = parse_json_body(await request.body(), RenewIn)
        return await _svc(request).renew(principal, subscription_id, data, idempotency_key)

    @put("/{subscription_id:str}/auto-renew")
    async def auto_renew(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await _payer(request)
        data = parse_json_body(await request.body(), AutoRenewIn)
        return await _svc(request).set_auto_renew(
            principal, subscription_id, data.enabled, data.months
        )

    @get("/{subscription_id:str}/upgrade-preview")
    async def upgrade_preview(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[str],
        plan_id: Annotated[str, QueryParameter(min_length=1, max_length=60)],
    ) -> dict[str, Any]:
        principal = await _payer(request)
        return await _svc(request).upgrade_preview(principal, subscription_id, plan_id)

    @post("/{subscription_id:str}/upgrade", status_code=201)
    async def upgrade(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        principal = await _payer(request)
        data = parse_json_body(await request.body(), UpgradeIn)
        return await _svc(request).upgrade(principal, subscription_id, data, idempotency_key)


class ContractsController(Controller):
    path = "/v1/contracts"
    tags = ["contracts"]

    @get("/")
    async def list_contracts(
        self, request: Request[Any, Any, Any], limit: Limit = 20, offset: Offset = 0
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        return await _svc(request).list_subscriptions(
            principal, status=None, limit=limit, offset=offset
        )

    @get("/{subscription_id:str}")
    async def get_contract(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[str]
    ) -> dict[str, Any]:
        return await _svc(request).contract(await principal_from(request), subscription_id)

    @get("/{subscription_id:str}/documents/{document:str}")
    async def document(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[str],
        document: FromPath[str],
    ) -> Response[Any]:
        principal = await principal_from(request)
        kinds = {
            "terms.pdf": ("terms", "pdf"),
            "terms.html": ("terms", "html"),
            "confirmation.pdf": ("confirmation", "pdf"),
            "confirmation.html": ("confirmation", "html"),
        }
        if document not in kinds:
            raise ProblemError(
                404,
                "document_not_found",
                "documents are terms.pdf, terms.html, confirmation.pdf, confirmation.html",
            )
        kind, fmt = kinds[document]
        service = _svc(request)
        contract = await service.contract(principal, subscription_id)
        company = service.settings.company_name
        if fmt == "html":
            return Response(
                render_html(kind, contract, company),  # type: ignore[arg-type]
                media_type="text/html",  # Litestar adds "; charset=utf-8" to text/*
                headers={"X-Content-Type-Options": "nosniff"},
            )
        # fpdf2 is CPU-bound (tens of ms with a TrueType font): off the event loop
        pdf = await asyncio.to_thread(
            render_pdf,
            kind,  # type: ignore[arg-type]
            contract,
            company,
            service.pdf_fonts,
        )
        return download(pdf, "application/pdf", f"{contract['contract_number']}-{kind}.pdf")


class InvoicesController(Controller):
    path = "/v1/invoices"
    tags = ["invoices"]
    request_max_body_size = MAX_PROOF_BYTES * 4 // 3 + 64 * 1024

    @get("/")
    async def list_invoices(
        self,
        request: Request[Any, Any, Any],
        limit: Limit = 20,
        offset: Offset = 0,
        status: FromQuery[Literal["unpaid", "partially_paid", "paid", "cancelled"] | None] = None,
        kind: FromQuery[Literal["new", "renewal", "upgrade"] | None] = None,
    ) -> dict[str, Any]:
        principal = await _payer(request)
        return await _svc(request).list_invoices(
            principal, status=status, kind=kind, limit=limit, offset=offset
        )

    @get("/{invoice_id:str}")
    async def get_invoice(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> dict[str, Any]:
        return await _svc(request).invoice(await _payer(request), invoice_id)

    @get("/{invoice_id:str}/pdf")
    async def invoice_pdf(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> Response[bytes]:
        service = _svc(request)
        invoice = await service.invoice(await _payer(request), invoice_id)
        number = invoice["invoice_number"] or invoice["proforma_number"]
        pdf = await asyncio.to_thread(
            render_invoice_pdf, invoice, service.settings.company_name, service.pdf_fonts
        )
        return download(pdf, "application/pdf", f"{number}.pdf")

    @post("/{invoice_id:str}/pay", status_code=200)
    async def pay(
        self,
        request: Request[Any, Any, Any],
        invoice_id: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[dict[str, Any]]:
        """200 with the invoice; 202 while the wallet's answer is pending (the invoice
        lists the payment under `payments_in_progress` until billing finishes it)."""
        principal = await _payer(request)
        data = parse_json_body(await request.body() or b"{}", PayIn)
        service = _svc(request)
        try:
            view = await service.pay(principal, invoice_id, data, idempotency_key)
        except PaymentInProgress:
            return Response(await service.invoice(principal, invoice_id), status_code=202)
        return Response(view, status_code=200)

    @post("/{invoice_id:str}/cancel", status_code=200)
    async def cancel(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> dict[str, Any]:
        return await _svc(request).cancel(await _payer(request), invoice_id)

    @post("/{invoice_id:str}/refund", status_code=200)
    async def refund(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), RefundIn)
        return await _svc(request).refund(principal, invoice_id, data)

    @post("/{invoice_id:str}/payment-confirmation", status_code=201)
    async def claim(
        self,
        request: Request[Any, Any, Any],
        invoice_id: FromPath[str],
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        principal = await _payer(request)
        data = parse_json_body(await request.body(), ClaimIn)
        return await _svc(request).file_claim(principal, invoice_id, data, idempotency_key)


class PurchasesController(Controller):
    path = "/v1/purchases"
    tags = ["invoices"]

    @get("/")
    async def purchases(
        self, request: Request[Any, Any, Any], limit: Limit = 20, offset: Offset = 0
    ) -> dict[str, Any]:
        """Purchase history: every paid order, newest first."""
        principal = await _payer(request)
        return await _svc(request).list_invoices(
            principal, status="paid", kind=None, limit=limit, offset=offset
        )


class ClaimsController(Controller):
    path = "/v1/payment-claims"
    tags = ["payment-claims"]

    @get("/")
    async def list_claims(
        self,
        request: Request[Any, Any, Any],
        limit: Limit = 20,
        offset: Offset = 0,
        status: FromQuery[Literal["under_review", "approved", "rejected"] | None] = None,
        overdue: FromQuery[bool] = False,
    ) -> dict[str, Any]:
        principal = await _payer(request)
        return await _svc(request).list_claims(principal, status, overdue, limit, offset)

    @get("/{claim_id:str}")
    async def get_claim(
        self, request: Request[Any, Any, Any], claim_id: FromPath[str]
    ) -> dict[str, Any]:
        return await _svc(request).claim(await _payer(request), claim_id)

    @get("/{claim_id:str}/proof")
    async def proof(
        self, request: Request[Any, Any, Any], claim_id: FromPath[str]
    ) -> Response[bytes]:
        content_type, filename, data = await _svc(request).proof(await _payer(request), claim_id)
        return download(data, content_type, filename)

    @post("/{claim_id:str}/approve", status_code=200)
    async def approve(
        self, request: Request[Any, Any, Any], claim_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        return await _svc(request).decide_claim(principal, claim_id, True, "")

    @post("/{claim_id:str}/reject", status_code=200)
    async def reject(
        self, request: Request[Any, Any, Any], claim_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), RejectIn)
        return await _svc(request).decide_claim(principal, claim_id, False, data.reason)


class BillingAccountController(Controller):
    path = "/v1/billing"
    tags = ["billing"]

    @get("/settings")
    async def get_settings(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return await _svc(request).settings_of(await _payer(request))

    @put("/settings")
    async def put_settings(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _payer(request)
        data = parse_json_body(await request.body(), SettingsIn)
        return await _svc(request).set_auto_pay(principal, data.auto_pay)

    @get("/codes/{code:str}")
    async def code(self, request: Request[Any, Any, Any], code: FromPath[str]) -> dict[str, Any]:
        """Internal: lets tickets check a related order/invoice/contract code."""
        return await _svc(request).code(await principal_from(request), code[:60])

    @post("/expiry-check", status_code=200)
    async def expiry_check(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        if not is_billing_admin(principal):
            raise ProblemError(403, "forbidden", "only billing admins run the scheduler by hand")
        return {"changed": await _svc(request).check_expiry()}
