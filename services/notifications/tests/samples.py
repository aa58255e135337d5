"""Events and people the tests share (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal_contracts.events.billing import (
    InvoiceIssued,
    InvoiceLine,
    InvoicePaid,
    InvoicePaymentRecorded,
    PaymentClaimApproved,
    PaymentClaimFiled,
    PaymentClaimRejected,
    SubscriptionExpired,
    SubscriptionExpiring,
    SubscriptionStarted,
)
from portal_contracts.events.crm import ContactCreated, ContactDetails, LeadAssigned
from portal_contracts.events.repairs import Condition, RepairReady, RepairRegistered
from portal_contracts.events.tickets import (
    TicketAssigned,
    TicketOpened,
    TicketReplied,
    TicketSlaBreached,
)
from portal_contracts.events.wallet import TopUpCompleted
from portal_notifications.domain import Recipient

NOW = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 00:30 on 1 Dec in Ho Chi Minh City
ACCOUNT = "acc-1"
OWNER = Recipient("u-owner", ACCOUNT, "owner@example.com", "Chị Lan", "owner")
ADMIN = Recipient("u-admin", ACCOUNT, "admin@example.com", "Admin", "admin", language="en")
MEMBER = Recipient("u-member", ACCOUNT, "member@example.com", "Member", "member")
STRANGER = Recipient("u-other", "acc-2", "other@example.com", "Other", "owner")
PEOPLE = [OWNER, ADMIN, MEMBER, STRANGER]
TECH = Recipient("s-tech", "platform", "tech@portal.local", "Tech", "staff", department="technical")
TECH_2 = Recipient(
    "s-tech2", "platform", "tech2@portal.local", "Tech 2", "staff", department="technical"
)
SALES = Recipient(
    "s-sales", "platform", "sales@portal.local", "Sales", "staff", "en", department="sales"
)
AGENT = Recipient(
    "s-agent", "platform", "agent@portal.local", "Agent", "staff", platform_roles=("support_agent",)
)
STAFF = [TECH, TECH_2, SALES, AGENT]


def top_up(amount: int = 1_234_567) -> TopUpCompleted:
    return TopUpCompleted(
        account_id=ACCOUNT,
        top_up_id="tu-1",
        provider="sandbox",
        reference="PAY123",
        provider_event_id="evt-1",
        amount_requested=amount,
        amount_received=amount,
        currency="VND",
        occurred_at=NOW,
    )


def invoice_issued() -> InvoiceIssued:
    return InvoiceIssued(
        account_id=ACCOUNT,
        invoice_id="inv-1",
        proforma_number="PF-2026-0001",
        order_id="ord-1",
        order_kind="new",
        subscription_id="sub-1",
        plan_id="plan-1",
        plan_code="HOST-S",
        plan_name="Hosting S",
        category="hosting",
        tier="support",
        months=12,
        lines=[InvoiceLine(description="Hosting S, 12 months", amount=2_400_000)],
        total=2_400_000,
        currency="VND",
        due_at=NOW + timedelta(days=7),
        occurred_at=NOW,
    )


def payment_recorded(due_after: int) -> InvoicePaymentRecorded:
    return InvoicePaymentRecorded(
        account_id=ACCOUNT,
        invoice_id="inv-1",
        payment_id="pay-1",
        channel="wallet",
        amount=1_000_000,
        applied=1_000_000,
        amount_due_after=due_after,
        currency="VND",
        reference="PF-2026-0001",
        occurred_at=NOW,
    )


def invoice_paid() -> InvoicePaid:
    return InvoicePaid(
        account_id=ACCOUNT,
        invoice_id="inv-1",
        invoice_number="INV-2026-0001",
        order_id="ord-1",
        order_kind="new",
        subscription_id="sub-1",
        amount_spent=2_400_000,
        currency="VND",
        occurred_at=NOW,
    )


def claim_filed() -> PaymentClaimFiled:
    return PaymentClaimFiled(
        account_id=ACCOUNT,
        invoice_id="inv-1",
        claim_id="cl-1",
        reference="FT123",
        amount=2_400_000,
        currency="VND",
        review_due_at=NOW + timedelta(hours=24),
        occurred_at=NOW,
    )


def claim_approved() -> PaymentClaimApproved:
    return PaymentClaimApproved(
        account_id=ACCOUNT, invoice_id="inv-1", claim_id="cl-1", reviewer="s-1", occurred_at=NOW
    )


def claim_rejected() -> PaymentClaimRejected:
    return PaymentClaimRejected(
        account_id=ACCOUNT,
        invoice_id="inv-1",
        claim_id="cl-1",
        reviewer="s-1",
        reason="Không tìm thấy giao dịch",
        occurred_at=NOW,
    )


def ticket_opened(by_staff: bool = False, department: str = "technical") -> TicketOpened:
    return TicketOpened(
        ticket_id="t-1",
        account_id=ACCOUNT,
        actor="s-1" if by_staff else MEMBER.user_id,
        ticket_number="T-0001",
        department=department,
        title="Website down",
        request_type="incident",
        priority="high",
        content="It is down",
        opened_by_staff=by_staff,
        occurred_at=NOW,
    )


def ticket_replied(author: str = "staff", internal: bool = False) -> TicketReplied:
    return TicketReplied(
        ticket_id="t-1",
        account_id=ACCOUNT,
        actor="s-1",
        reply_id="r-1",
        author_kind=author,  # type: ignore[arg-type]
        content="We restarted the server.",
        internal=internal,
        occurred_at=NOW,
    )


def repair_registered() -> RepairRegistered:
    return RepairRegistered(
        repair_id="rp-1",
        account_id=ACCOUNT,
        actor="s-2",
        branch_id="hcm-1",
        repair_number="R-0001",
        model="ThinkPad X1",
        serial="SN1",
        problem="No power",
        adapter_included=True,
        condition=Condition(),
        delivery_method="drop_off",
        delivery_date=NOW.date(),
        deliverer_name="Lan",
        deliverer_contact="0900000000",
        return_method="pickup",
        occurred_at=NOW,
    )


def repair_ready(repaired: bool = True) -> RepairReady:
    return RepairReady(
        repair_id="rp-1",
        account_id=ACCOUNT,
        actor="s-2",
        branch_id="hcm-1",
        repaired=repaired,
        occurred_at=NOW,
    )


def ticket_assigned(agent: str | None = "s-tech2", department: str = "technical") -> TicketAssigned:
    return TicketAssigned(
        ticket_id="t-1",
        account_id=ACCOUNT,
        actor="s-agent",
        department=department,
        agent_id=agent,
        occurred_at=NOW,
    )


def sla_breached() -> TicketSlaBreached:
    return TicketSlaBreached(
        ticket_id="t-1",
        account_id=ACCOUNT,
        actor="system:sla",
        target="first_response",
        due_at=NOW - timedelta(hours=1),
        occurred_at=NOW,
    )


def subscription_started() -> SubscriptionStarted:
    return SubscriptionStarted(
        account_id=ACCOUNT,
        subscription_id="sub-1",
        contract_number="HD-2026-0001",
        invoice_id="inv-1",
        plan_id="plan-1",
        plan_code="HOST-S",
        plan_name="Hosting S",
        category="hosting",
        tier="support",
        months=1,
        starts_on=NOW.date(),
        ends_on=NOW.date() + timedelta(days=31),
        amount=200_000,
        currency="VND",
        occurred_at=NOW,
    )


def subscription_expiring(
    days_left: int = 15, notice_days: int | None = None
) -> SubscriptionExpiring:
    return SubscriptionExpiring(
        account_id=ACCOUNT,
        subscription_id="sub-1",
        contract_number="HD-2026-0001",
        ends_on=NOW.date() + timedelta(days=days_left),
        days_left=days_left,
        notice_days=notice_days,
        occurred_at=NOW,
    )


def subscription_expired() -> SubscriptionExpired:
    return SubscriptionExpired(
        account_id=ACCOUNT,
        subscription_id="sub-1",
        contract_number="HD-2026-0001",
        ends_on=NOW.date(),
        occurred_at=NOW,
    )


def contact_created() -> ContactCreated:
    return ContactCreated(
        contact_id="c-1",
        kind="contact",
        details=ContactDetails(name="Công ty An Phát"),
        created_by="s-sales",
        occurred_at=NOW,
    )


def lead_assigned(caretaker: str = "s-sales", by: str = "s-agent") -> LeadAssigned:
    return LeadAssigned(
        contact_id="c-1",
        caretaker_id=caretaker,
        method="manual",
        note="Gọi trước 10 giờ",
        assigned_by=by,
        occurred_at=NOW,
    )
