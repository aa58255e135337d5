"""The billing part of the dashboards.

Customer: end-of-contract notices with the days left (shown to every user of the account,
its staff users included); active services, open invoices and payment claims (owner and
admins only).

Staff: active subscriptions by category and tier, expiring soon, orders per month for
the last 12 months, and payment claims past their 24-hour review.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from portal_chassis.auth import Principal
from portal_chassis.clock import Clock, clock_from_env
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.billing import (
    BillingEvent,
    InvoiceCancelled,
    InvoiceIssued,
    InvoicePaid,
    InvoicePaymentRecorded,
    PaymentClaimApproved,
    PaymentClaimFiled,
    PaymentClaimRejected,
    PlanUpgraded,
    SubscriptionExpired,
    SubscriptionExpiring,
    SubscriptionRenewed,
    SubscriptionStarted,
)

EXPIRING_DAYS = 15
BUSINESS_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
"""Per-month charts follow the business's calendar, not UTC (the design's default zone)."""


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _months_back(today: date, count: int) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


def today_in_business_zone(now: datetime) -> date:
    return now.astimezone(BUSINESS_ZONE).date()


def _chart_update(chart: dict[str, list[int]], event: DomainEvent) -> dict[str, list[int]] | None:
    """The account's orders and spending per month (of the business's calendar): an order
    counts in the month it was placed, money in the month it was applied."""
    if isinstance(event, InvoiceIssued):
        index, value = 0, 1
    elif isinstance(event, InvoicePaymentRecorded) and event.applied > 0:
        index, value = 1, event.applied
    else:
        return None
    month = f"{today_in_business_zone(event.occurred_at):%Y-%m}"
    row = list(chart.get(month, [0, 0]))
    row[index] += value
    return {**chart, month: row}


class BillingPart:
    name = "billing"
    contexts = frozenset({"billing"})
    staff_reads_doc = True

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or clock_from_env()

    async def account_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        if not isinstance(event, BillingEvent) or event.account_id == "platform":
            return None
        billing = doc.get("billing", {})
        subs = dict(billing.get("subscriptions", {}))
        invoices = dict(billing.get("open_invoices", {}))
        claims = dict(billing.get("claims", {}))
        chart = _chart_update(billing.get("orders_chart", {}), event)
        match event:
            case SubscriptionStarted():
                subs[event.subscription_id] = {
                    "contract_number": event.contract_number,
                    "plan_name": event.plan_name,
                    "category": event.category,
                    "tier": event.tier,
                    "ends_on": event.ends_on.isoformat(),
                    "status": "active",
                    "notice": False,
                }
            case SubscriptionRenewed() if event.subscription_id in subs:
                subs[event.subscription_id] = {
                    **subs[event.subscription_id],
                    "ends_on": event.ends_on.isoformat(),
                    "status": "active",
                    "notice": False,
                }
            case PlanUpgraded() if event.subscription_id in subs:
                subs[event.subscription_id] = {
                    **subs[event.subscription_id],
                    "plan_name": event.to_plan_name,
                    "tier": event.to_tier,
                    "ends_on": event.ends_on.isoformat(),  # moves when months were bought
                }
            case SubscriptionExpiring() if event.subscription_id in subs:
                subs[event.subscription_id] = {**subs[event.subscription_id], "notice": True}
            case SubscriptionExpired() if event.subscription_id in subs:
                subs[event.subscription_id] = {
                    **subs[event.subscription_id],
                    "status": "expired",
                    "notice": True,
                }
            case InvoiceIssued():
                invoices[event.invoice_id] = {
                    "proforma_number": event.proforma_number,
                    "plan_name": event.plan_name,
                    "order_kind": event.order_kind,
                    "total": event.total,
                    "amount_due": event.total,
                    "currency": event.currency,
                    "due_at": event.due_at,
                }
            case InvoicePaymentRecorded() if event.invoice_id in invoices:
                invoices[event.invoice_id] = {
                    **invoices[event.invoice_id],
                    "amount_due": event.amount_due_after,
                }
            case InvoicePaid() | InvoiceCancelled():
                invoices.pop(event.invoice_id, None)
            case PaymentClaimFiled():
                claims[event.claim_id] = {
                    "invoice_id": event.invoice_id,
                    "reference": event.reference,
                    "amount": event.amount,
                    "status": "under_review",
                    "filed_at": event.occurred_at,
                }
            case PaymentClaimApproved():
                claims.pop(event.claim_id, None)
            case PaymentClaimRejected() if event.claim_id in claims:
                claims[event.claim_id] = {
                    **claims[event.claim_id],
                    "status": "rejected",
                    "reason": event.reason,
                }
            case _:
                if chart is None:
                    return None
        changes: dict[str, Any] = {
            "billing.subscriptions": subs,
            "billing.open_invoices": invoices,
            "billing.claims": claims,
        }
        if chart is not None:
            changes["billing.orders_chart"] = chart
        return {"$set": changes}

    async def staff_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        match event:
            case SubscriptionStarted():
                row = [event.category, event.tier, "active", event.ends_on.isoformat()]
                return {"$set": {f"subscriptions.{event.subscription_id}": row}}
            case SubscriptionRenewed() | PlanUpgraded() | SubscriptionExpired():
                row = list(doc.get("subscriptions", {}).get(event.subscription_id, []))
                if not row:
                    return None
                if isinstance(event, SubscriptionRenewed):
                    row[2], row[3] = "active", event.ends_on.isoformat()
                elif isinstance(event, PlanUpgraded):
                    row[1], row[3] = event.to_tier, event.ends_on.isoformat()
                else:
                    row[2] = "expired"
                return {"$set": {f"subscriptions.{event.subscription_id}": row}}
            case InvoiceIssued():
                return {"$inc": {f"orders_by_month.{event.occurred_at:%Y-%m}": 1}}
            case PaymentClaimFiled():
                return {"$set": {f"open_claims.{event.claim_id}": event.review_due_at}}
            case PaymentClaimApproved() | PaymentClaimRejected():
                return {"$unset": {f"open_claims.{event.claim_id}": ""}}
        return None

    def render(self, doc: dict[str, Any], principal: Principal) -> dict[str, Any] | None:
        billing = doc.get("billing", {})
        today = self.clock.now().date()
        services, notices = [], []
        for sid, sub in billing.get("subscriptions", {}).items():
            days_left = (_day(sub["ends_on"]) - today).days
            services.append({"id": sid, **sub, "days_left": days_left})
            if sub["status"] == "expired":
                notices.append(
                    {
                        "subscription_id": sid,
                        "kind": "expired",
                        "contract_number": sub["contract_number"],
                        "plan_name": sub["plan_name"],
                        "ends_on": sub["ends_on"],
                        "days_left": 0,
                        "message": f"{sub['plan_name']} ({sub['contract_number']}) has expired",
                    }
                )
            elif sub.get("notice") or 0 <= days_left <= EXPIRING_DAYS:
                notices.append(
                    {
                        "subscription_id": sid,
                        "kind": "expiring",
                        "contract_number": sub["contract_number"],
                        "plan_name": sub["plan_name"],
                        "ends_on": sub["ends_on"],
                        "days_left": max(days_left, 0),
                        "message": f"{sub['plan_name']} ({sub['contract_number']}) ends in "
                        f"{max(days_left, 0)} days",
                    }
                )
        section: dict[str, Any] = {
            "subscription_notices": sorted(notices, key=lambda n: n["days_left"]),
        }
        # An account's staff user sees the expiry notice only: the contracts are not theirs.
        if principal.manages_account or principal.is_staff:
            chart = billing.get("orders_chart", {})
            section["orders_chart"] = [
                {"month": m, "orders": chart.get(m, [0, 0])[0], "spent": chart.get(m, [0, 0])[1]}
                for m in _months_back(today_in_business_zone(self.clock.now()), 12)
            ]
            section["services"] = {
                "active": sum(1 for s in services if s["status"] == "active"),
                "items": sorted(services, key=lambda s: s["ends_on"]),
            }
            invoices = billing.get("open_invoices", {})
            claims = billing.get("claims", {})
            section["open_invoices"] = {
                "count": len(invoices),
                "amount_due": sum(i["amount_due"] for i in invoices.values()),
                "items": [{"id": k, **v} for k, v in invoices.items()],
            }
            section["payment_claims"] = {
                "under_review": [
                    {"id": k, **v} for k, v in claims.items() if v["status"] == "under_review"
                ],
                "rejected": [
                    {"id": k, **v} for k, v in claims.items() if v["status"] == "rejected"
                ],
            }
        return section

    def render_staff(self, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
        today = self.clock.now().date()
        by_category: dict[str, dict[str, int]] = {}
        expiring = 0
        for category, tier, status, ends_on in doc.get("subscriptions", {}).values():
            if status != "active":
                continue
            tiers = by_category.setdefault(category, {})
            tiers[tier] = tiers.get(tier, 0) + 1
            if (_day(ends_on) - today).days <= EXPIRING_DAYS:
                expiring += 1
        orders = doc.get("orders_by_month", {})
        clock_now = self.clock.now()
        overdue = [cid for cid, due in doc.get("open_claims", {}).items() if due < clock_now]
        return {
            "active_subscriptions": sum(sum(t.values()) for t in by_category.values()),
            "active_by_category_and_tier": by_category,
            "expiring_soon": expiring,
            "orders_per_month": [
                {"month": month, "orders": orders.get(month, 0)}
                for month in _months_back(today, 12)
            ],
            "payment_claims_open": len(doc.get("open_claims", {})),
            "payment_claims_overdue": len(overdue),
        }
