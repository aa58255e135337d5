"""Public billing routes, forwarded to the billing service (which checks roles and tenancy)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath

from portal_chassis.auth import authenticated, signed_in_unless_anonymous
from portal_gateway.upstream import forward_to, seg

SMALL = 64 * 1024
# A payment proof of at most 10 MB, base64-encoded, plus the claim's fields.
WITH_PROOF = 10 * 1024 * 1024 * 4 // 3 + 64 * 1024


async def _forward(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    return await forward_to(request, "billing", path)


class PlansController(Controller):
    """The price list is public; changing it is for billing admins (checked by billing)."""

    path = "/api/v1/plans"
    tags = ["plans"]
    guards = [signed_in_unless_anonymous]
    request_max_body_size = SMALL

    @get("/", summary="Plans for sale (filters: category, tier); no sign-in needed")
    async def list_plans(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/plans")

    @post("/", status_code=201, summary="Billing admin: publish a plan", guards=[authenticated])
    async def publish(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/plans")

    @get("/{plan_id:str}", summary="A plan with its periods and prices; no sign-in needed")
    async def get_plan(
        self, request: Request[Any, Any, Any], plan_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/plans/{seg(plan_id)}")

    @put(
        "/{plan_id:str}",
        summary="Billing admin: change a plan's terms for future orders",
        guards=[authenticated],
    )
    async def change(
        self, request: Request[Any, Any, Any], plan_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/plans/{seg(plan_id)}")

    @post(
        "/{plan_id:str}/retire",
        status_code=200,
        summary="Billing admin: stop selling a plan",
        guards=[authenticated],
    )
    async def retire(
        self, request: Request[Any, Any, Any], plan_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/plans/{seg(plan_id)}/retire")


class OrdersController(Controller):
    path = "/api/v1/orders"
    tags = ["orders"]
    guards = [authenticated]
    request_max_body_size = SMALL

    @post("/", status_code=201, summary="Order a plan for N months: issues a proforma invoice")
    async def order(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/orders")


class SubscriptionsController(Controller):
    path = "/api/v1/subscriptions"
    tags = ["subscriptions"]
    guards = [authenticated]
    request_max_body_size = SMALL

    @get("/", summary="The account's subscriptions with days left")
    async def list_subscriptions(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/subscriptions")

    @get("/{subscription_id:str}", summary="A subscription")
    async def get_subscription(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/subscriptions/{seg(subscription_id)}")

    @post(
        "/{subscription_id:str}/renew",
        status_code=201,
        summary="Renew for N months from the current end date (paid from the wallet by default)",
    )
    async def renew(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/subscriptions/{seg(subscription_id)}/renew")

    @put(
        "/{subscription_id:str}/auto-renew",
        summary="Automatic renewal on or off",
        description=(
            "Body: {enabled, months?}. When on, the renewal invoice is issued with the expiry "
            "notice (15 days before the end) and paid from the balance if auto-pay is on."
        ),
    )
    async def auto_renew(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/subscriptions/{seg(subscription_id)}/auto-renew")

    @get(
        "/{subscription_id:str}/upgrade-preview",
        summary="What an upgrade to `plan_id` credits and costs today",
    )
    async def upgrade_preview(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/subscriptions/{seg(subscription_id)}/upgrade-preview")

    @post(
        "/{subscription_id:str}/upgrade",
        status_code=201,
        summary="Upgrade to a higher tier now; unused value credited pro rata, end date kept",
    )
    async def upgrade(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/subscriptions/{seg(subscription_id)}/upgrade")


class ContractsController(Controller):
    path = "/api/v1/contracts"
    tags = ["contracts"]
    guards = [authenticated]

    @get("/", summary="Contracts: number, start and end dates, amounts")
    async def list_contracts(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/contracts")

    @get("/{subscription_id:str}", summary="A contract with its history")
    async def get_contract(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/contracts/{seg(subscription_id)}")

    @get(
        "/{subscription_id:str}/documents/{document:str}",
        summary="terms.pdf, terms.html, confirmation.pdf or confirmation.html",
    )
    async def document(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[str],
        document: FromPath[str],
    ) -> Response[Any]:
        return await _forward(
            request, f"/v1/contracts/{seg(subscription_id)}/documents/{seg(document)}"
        )


class InvoicesController(Controller):
    path = "/api/v1/invoices"
    tags = ["invoices"]
    guards = [authenticated]
    request_max_body_size = SMALL

    @get("/", summary="Invoices (filters: status, kind), newest first")
    async def list_invoices(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/invoices")

    @get("/{invoice_id:str}", summary="An invoice with its payments and payment claims")
    async def get_invoice(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/invoices/{seg(invoice_id)}")

    @get("/{invoice_id:str}/pdf", summary="The invoice (or proforma) as a PDF download")
    async def invoice_pdf(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/invoices/{seg(invoice_id)}/pdf")

    @post(
        "/{invoice_id:str}/pay",
        status_code=200,
        summary="Pay all or part: from the wallet, or by a provider (sandbox, bank transfer)",
    )
    async def pay(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/invoices/{seg(invoice_id)}/pay")

    @post(
        "/{invoice_id:str}/cancel",
        status_code=200,
        summary="Stop the order: what was paid is credited to the wallet",
    )
    async def cancel(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/invoices/{seg(invoice_id)}/cancel")

    @post(
        "/{invoice_id:str}/refund", status_code=200, summary="Billing admin: refund to the wallet"
    )
    async def refund(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/invoices/{seg(invoice_id)}/refund")

    @post(
        "/{invoice_id:str}/payment-confirmation",
        status_code=201,
        request_max_body_size=WITH_PROOF,
        summary="I paid but got no confirmation: a claim with a reference and optional proof",
    )
    async def claim(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/invoices/{seg(invoice_id)}/payment-confirmation")


class PurchasesController(Controller):
    path = "/api/v1/purchases"
    tags = ["invoices"]
    guards = [authenticated]

    @get("/", summary="Purchase history: every paid order")
    async def purchases(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/purchases")


class PaymentClaimsController(Controller):
    path = "/api/v1/payment-claims"
    tags = ["payment-claims"]
    guards = [authenticated]
    request_max_body_size = SMALL

    @get(
        "/",
        summary="Payment claims: under review, rejected (filters: status, overdue)",
    )
    async def list_claims(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/payment-claims")

    @get("/{claim_id:str}", summary="A payment claim")
    async def get_claim(
        self, request: Request[Any, Any, Any], claim_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/payment-claims/{seg(claim_id)}")

    @get("/{claim_id:str}/proof", summary="Download the proof file")
    async def proof(
        self, request: Request[Any, Any, Any], claim_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/payment-claims/{seg(claim_id)}/proof")

    @post("/{claim_id:str}/approve", status_code=200, summary="Billing staff: record the payment")
    async def approve(
        self, request: Request[Any, Any, Any], claim_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/payment-claims/{seg(claim_id)}/approve")

    @post("/{claim_id:str}/reject", status_code=200, summary="Billing staff: reject with a reason")
    async def reject(
        self, request: Request[Any, Any, Any], claim_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/payment-claims/{seg(claim_id)}/reject")


class BillingSettingsController(Controller):
    path = "/api/v1/billing/settings"
    tags = ["billing"]
    guards = [authenticated]
    request_max_body_size = SMALL

    @get("/", summary="Account billing settings")
    async def get_settings(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/billing/settings")

    @put("/", summary="Apply my balance to new invoices automatically (auto_pay)")
    async def put_settings(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/billing/settings")


CONTROLLERS = [
    PlansController,
    OrdersController,
    SubscriptionsController,
    ContractsController,
    InvoicesController,
    PurchasesController,
    PaymentClaimsController,
    BillingSettingsController,
]
