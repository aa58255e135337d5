"""Read use cases: invoices, subscriptions, contracts and their documents, codes, settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pymongo import DESCENDING

from portal_billing import (
    domain,
    streams,
)
from portal_billing.deps import (
    ADMINS,
    Deps,
    today,
)
from portal_billing.documents import (
    DocumentKind,
    render_html,
    render_invoice_pdf,
    render_pdf,
)
from portal_billing.models import (
    CodeOut,
    ContractOut,
    InvoiceOut,
    InvoiceRowOut,
    InvoicesPage,
    OrderRowOut,
    OrdersPage,
    Provisioning,
    SettingsOut,
    SubscriptionOut,
    SubscriptionsPage,
)
from portal_billing.views import (
    claim_out,
    contract_entry,
    invoice_row,
    subscription_row,
    without,
)
from portal_chassis.auth import Principal
from portal_chassis.contract import paginate
from portal_chassis.decider import NotFound

CONTRACT_DOCUMENTS: dict[str, tuple[DocumentKind, Literal["pdf", "html"]]] = {
    "terms.pdf": ("terms", "pdf"),
    "terms.html": ("terms", "html"),
    "confirmation.pdf": ("confirmation", "pdf"),
    "confirmation.html": ("confirmation", "html"),
}


@dataclass(frozen=True)
class ContractDocument:
    """A contract document: a PDF (sent as an attachment) or an HTML page (shown)."""

    content: bytes | str
    media_type: Literal["application/pdf", "text/html"]
    filename: str | None


async def invoice(deps: Deps, principal: Principal, invoice_id: str) -> InvoiceOut:
    await streams.load_invoice(deps, principal, invoice_id)  # 404 unless the caller may see it
    return await invoice_answer(deps, invoice_id)


async def invoice_answer(deps: Deps, invoice_id: str) -> InvoiceOut:
    """The invoice as a command that was allowed on it leaves it (no access check here)."""
    return InvoiceOut.model_validate(await invoice_view(deps, invoice_id))


async def invoice_view(deps: Deps, invoice_id: str) -> dict[str, Any]:
    """The invoice with its claims (the caller may see it): its rows, when they are as new
    as the invoice this process last loaded or changed, else folded from its events."""
    stream = domain.invoice_stream(invoice_id)
    _, version = await deps.invoices.current(stream)
    stored = await deps.invoices_view.find_one({"_id": invoice_id})
    if stored is not None and stored.get("version") == version:
        row = without(stored, "_id", "version")
        claims = [c async for c in deps.claims_view.find({"invoice_id": invoice_id})]
        claims.sort(key=lambda c: c["filed_at"])
    else:
        row, claims = invoice_row(await deps.store.read_stream(stream))
    row["claims"] = [claim_out(c, deps.clock.now()) for c in claims]
    return {"id": invoice_id, **row}


async def invoice_pdf(deps: Deps, principal: Principal, invoice_id: str) -> tuple[bytes, str]:
    """The invoice as a PDF and its file name (the invoice number once it is paid)."""
    await streams.load_invoice(deps, principal, invoice_id)
    invoice = await invoice_view(deps, invoice_id)
    number = invoice["invoice_number"] or invoice["proforma_number"]
    # fpdf2 is CPU-bound (tens of ms with a TrueType font): off the event loop
    pdf = await asyncio.to_thread(
        render_invoice_pdf, invoice, deps.settings.company_name, deps.pdf_fonts
    )
    return pdf, f"{number}.pdf"


async def list_invoices(
    deps: Deps,
    principal: Principal,
    *,
    status: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> InvoicesPage:
    query: dict[str, Any] = {}
    if not ADMINS.held_by(principal):
        query["account_id"] = principal.account_id
    if status:
        query["status"] = status
    if kind:
        query["order_kind"] = kind
    total = await deps.invoices_view.count_documents(query)
    cursor = deps.invoices_view.find(query).sort("issued_at", DESCENDING)
    rows = [
        InvoiceRowOut.model_validate({"id": r.pop("_id"), **without(r, "version")})
        async for r in cursor.skip(offset).limit(limit)
    ]
    return paginate(rows, total, limit, offset)


async def list_orders(deps: Deps, principal: Principal, *, limit: int, offset: int) -> OrdersPage:
    """The account's orders, newest first, each with the setup of the service it ordered."""
    query: dict[str, Any] = {"account_id": principal.account_id}
    total = await deps.invoices_view.count_documents(query)
    cursor = deps.invoices_view.find(query).sort("issued_at", DESCENDING)
    rows = [r async for r in cursor.skip(offset).limit(limit)]
    applied: set[str] = set()  # invoices a subscription has carried out
    subscription_ids = list({r["subscription_id"] for r in rows})
    async for sub in deps.subscriptions_view.find({"_id": {"$in": subscription_ids}}):
        applied.update(sub.get("invoices", []))
    items = [
        OrderRowOut(
            order_id=r["order_id"],
            invoice_id=r["_id"],
            kind=r["order_kind"],
            content=r["lines"][0]["description"] if r["lines"] else r["plan_name"],
            plan_name=r["plan_name"],
            placed_at=r["issued_at"],
            provisioning=provisioning(r["status"], r["_id"] in applied, r.get("refunded", 0)),
            subscription_id=r["subscription_id"],
        )
        for r in rows
    ]
    return paginate(items, total, limit, offset)


def provisioning(status: str, applied: bool, refunded: int) -> Provisioning:
    """Where the ordered service stands, from its invoice and the subscription."""
    if applied:
        return "done"
    if status in domain.OPEN:
        return "awaiting_payment"
    if status == "cancelled":
        return "cancelled"
    return "failed" if refunded else "in_progress"


async def subscription(deps: Deps, principal: Principal, subscription_id: str) -> SubscriptionOut:
    state = await streams.own_subscription(deps, principal, subscription_id)
    return SubscriptionOut.model_validate(
        {"id": subscription_id, **subscription_row(state, today(deps))}
    )


async def list_subscriptions(
    deps: Deps, principal: Principal, *, status: str | None, limit: int, offset: int
) -> SubscriptionsPage:
    query: dict[str, Any] = {}
    if not ADMINS.held_by(principal):
        query["account_id"] = principal.account_id
    if status:
        query["status"] = status
    total = await deps.subscriptions_view.count_documents(query)
    cursor = deps.subscriptions_view.find(query).sort("starts_on", DESCENDING)
    day = today(deps)
    rows = []
    async for r in cursor.skip(offset).limit(limit):
        r["id"] = r.pop("_id")
        r.pop("version", None)
        r["days_left"] = (date.fromisoformat(r["ends_on"]) - day).days
        rows.append(SubscriptionOut.model_validate(r))
    return paginate(rows, total, limit, offset)


async def contract(deps: Deps, principal: Principal, subscription_id: str) -> ContractOut:
    return ContractOut.model_validate(await _contract_view(deps, principal, subscription_id))


async def _contract_view(deps: Deps, principal: Principal, subscription_id: str) -> dict[str, Any]:
    state = await streams.own_subscription(deps, principal, subscription_id)
    events = await deps.store.read_stream(domain.subscription_stream(subscription_id))
    history = [contract_entry(e.event) for e in events]
    return {
        "id": subscription_id,
        **subscription_row(state, today(deps)),
        "history": [h for h in history if h],
    }


async def contract_document(
    deps: Deps, principal: Principal, subscription_id: str, document: str
) -> ContractDocument:
    """The contract's terms or its order confirmation, as a PDF or an HTML page."""
    if document not in CONTRACT_DOCUMENTS:
        raise NotFound(
            "document_not_found",
            "documents are terms.pdf, terms.html, confirmation.pdf, confirmation.html",
        )
    kind, fmt = CONTRACT_DOCUMENTS[document]
    contract = await _contract_view(deps, principal, subscription_id)
    company = deps.settings.company_name
    if fmt == "html":
        return ContractDocument(render_html(kind, contract, company), "text/html", None)
    # fpdf2 is CPU-bound (tens of ms with a TrueType font): off the event loop
    pdf = await asyncio.to_thread(render_pdf, kind, contract, company, deps.pdf_fonts)
    filename = f"{contract['contract_number']}-{kind}.pdf"
    return ContractDocument(pdf, "application/pdf", filename)


async def code(deps: Deps, principal: Principal, code: str) -> CodeOut:
    """Is `code` an order, invoice or contract number of the caller's account?"""
    row = await deps.codes.find_one({"_id": code.strip().upper()})
    if (
        row is None
        or row.get("kind") not in ("order", "invoice", "contract")
        or (row["account_id"] != principal.account_id and not principal.is_staff)
    ):
        raise NotFound("code_not_found", "no order, invoice or contract has this code")
    return CodeOut(code=row["_id"], kind=row["kind"], account_id=row["account_id"])


async def settings_of(deps: Deps, principal: Principal) -> SettingsOut:
    state, _ = await deps.accounts.load(domain.account_stream(principal.account_id))
    return SettingsOut.model_validate({"auto_pay": state.auto_pay, "sector": state.sector})
