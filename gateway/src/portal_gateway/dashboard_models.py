"""The dashboards' answers as typed models: what the public OpenAPI publishes and the web
client is generated from.

The parts (dashboard*.py) render plain dicts from their read models; these models are the
contract those dicts keep. A row field a read model may not have yet (a row started by a
later event during a replay) is optional rather than a reason to fail a read.
Keys a part renders that a model does not declare are passed on (`extra="allow"`), never
dropped, and the end-to-end clients (portal_tests.e2e) fail on them: every dashboard an e2e
test reads is checked against these models, with real data behind it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from portal_chassis.contract import models_in


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")

    @model_serializer(mode="wrap")
    def _as_rendered(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A section the user may not see is left out, not sent as null: only what the
        # part rendered is sent, so the JSON is the part's own.
        data = handler(self)
        return {k: v for k, v in data.items() if k in self.model_fields_set}


def undeclared(model: type[Answer], body: Any, where: str = "") -> list[str]:
    """The keys of `body` (a dashboard's JSON) that `model` does not declare, as paths."""
    found: list[str] = []
    if not isinstance(body, dict):
        return found
    for key, value in body.items():
        field = model.model_fields.get(key)
        if field is None:
            found.append(f"{where}{key}")
            continue
        for sub in models_in(field.annotation, Answer):
            items = value if isinstance(value, list) else [value]
            for item in items:
                found += undeclared(sub, item, f"{where}{key}.")
    return found


class ProjectionFreshness(Answer):
    lag_seconds: float | None = None
    as_of: datetime


class DashboardWallet(Answer):
    balance: int
    currency: str
    total_topped_up: int
    top_ups_completed: int
    top_ups_failed: int


class DashboardTransaction(Answer):
    id: str
    kind: Literal["credit", "debit"]
    amount: int
    currency: str
    balance_after: int
    reason: str
    reference: str | None = None
    occurred_at: datetime


class ExpiryNotice(Answer):
    subscription_id: str
    kind: Literal["expiring", "expired"]
    contract_number: str
    plan_name: str
    ends_on: date
    days_left: int
    message: str


class DashboardService(Answer):
    id: str
    contract_number: str | None = None
    plan_name: str | None = None
    category: str | None = None
    tier: str | None = None
    ends_on: date
    status: Literal["active", "expired"]
    notice: bool = False
    days_left: int


class DashboardServices(Answer):
    active: int
    items: list[DashboardService]


class DashboardInvoice(Answer):
    id: str
    proforma_number: str | None = None
    plan_name: str | None = None
    order_kind: str | None = None
    total: int | None = None
    amount_due: int
    currency: str | None = None
    due_at: datetime | None = None


class DashboardInvoices(Answer):
    count: int
    amount_due: int
    items: list[DashboardInvoice]


class DashboardClaim(Answer):
    id: str
    invoice_id: str | None = None
    reference: str | None = None
    amount: int | None = None
    status: Literal["under_review", "rejected"]
    filed_at: datetime | None = None
    reason: str | None = None


class DashboardClaims(Answer):
    under_review: list[DashboardClaim]
    rejected: list[DashboardClaim]


class DashboardLoyalty(Answer):
    points: int
    level: str | None = None
    accumulated: int
    next_level: str | None = None
    to_next_level: int
    progress_percent: int


class DashboardTicket(Answer):
    id: str
    number: str | None = None
    title: str | None = None
    status: str | None = None
    department: str | None = None
    priority: str | None = None
    opened_at: datetime | None = None
    waiting_since: datetime | None = None
    updated_at: datetime | None = None


class DashboardTickets(Answer):
    open: int
    latest: list[DashboardTicket]


class DashboardRepair(Answer):
    id: str
    number: str | None = None
    model: str | None = None
    step: str | None = None
    since: datetime | None = None
    registered_at: datetime | None = None
    branch_id: str | None = None


class AccountOrdersMonth(Answer):
    """One month of the account's orders chart (the business's calendar)."""

    month: str
    orders: int
    """Orders placed (new, renewal, upgrade)."""
    spent: int
    """Money applied to its invoices that month, in the minor unit."""


class CustomerDashboard(Answer):
    """One account's dashboard. Sections a user may not see (an account's staff users see
    expiry notices, not services or money) are left out rather than empty."""

    account_id: str
    updated_at: datetime | None = None
    wallet: DashboardWallet | None = None
    recent_transactions: list[DashboardTransaction] | None = None
    subscription_notices: list[ExpiryNotice] | None = None
    services: DashboardServices | None = None
    orders_chart: list[AccountOrdersMonth] | None = None
    """The last 12 months, oldest first (owner and admins)."""
    open_invoices: DashboardInvoices | None = None
    payment_claims: DashboardClaims | None = None
    loyalty: DashboardLoyalty | None = None
    tickets: DashboardTickets | None = None
    repairs_in_progress: list[DashboardRepair] | None = None
    projection: ProjectionFreshness


class StaffWallet(Answer):
    top_ups_completed: int
    top_ups_failed: int
    topped_up: dict[str, int]
    """Amount topped up per currency."""


class OrdersInMonth(Answer):
    month: str
    orders: int


class StaffBilling(Answer):
    active_subscriptions: int
    active_by_category_and_tier: dict[str, dict[str, int]]
    expiring_soon: int
    orders_per_month: list[OrdersInMonth]
    payment_claims_open: int
    payment_claims_overdue: int


class StaffCrm(Answer):
    care_activities_due_today: int
    care_activities_overdue: int
    leads_unassigned: int
    customers_by_level: dict[str, int]


class OldestWaitingTicket(Answer):
    id: str
    waiting_seconds: int


class StaffTickets(Answer):
    by_status: dict[str, int]
    by_department: dict[str, int]
    sla_breaches: dict[str, int]
    """Breaches per SLA target (first response, resolution)."""
    oldest_waiting: OldestWaitingTicket | None = None


class StaffRepairs(Answer):
    open: int
    by_step: dict[str, int]
    by_branch: dict[str, int]
    waiting_for_quote_approval: int
    overdue: int


class StaffDashboard(Answer):
    wallet: StaffWallet
    billing: StaffBilling
    crm: StaffCrm
    tickets: StaffTickets
    repairs: StaffRepairs
    projection: ProjectionFreshness


class NotificationsBell(Answer):
    """The live stream's `event: notifications`: the signed-in user's unread bell entries,
    as the projection counts them (`GET /api/v1/notifications` has the list itself)."""

    unread: int
