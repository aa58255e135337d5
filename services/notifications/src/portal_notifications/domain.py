"""Pure rules of notifications: who must be told what, on which channels, and when to
try a mail again. No I/O, no clock: the facts and the people come in as arguments.

- `remember(event)`: what a later notice needs from an earlier event (a ticket's number,
  a repair's number, an invoice's number), since later events carry only ids.
- `decide_notices(event, facts)`: the notices an event calls for (template, category,
  audience, template data).
- `recipients_for(notice, people)`: the people of the audience.
- `channels_for(category, preferences)`: the channels the recipient's switches allow.
- the preferences decider: `decide_preferences(command, state)` / `evolve_preferences`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from portal_chassis.decider import Decider, DomainError
from portal_contracts.base import DomainEvent
from portal_contracts.events.billing import (
    InvoiceIssued,
    InvoicePaid,
    InvoicePaymentRecorded,
    PaymentClaimApproved,
    PaymentClaimFiled,
    PaymentClaimRejected,
    PlanUpgraded,
    SubscriptionExpired,
    SubscriptionExpiring,
    SubscriptionStarted,
)
from portal_contracts.events.crm import ContactCreated, ContactUpdated, LeadAssigned
from portal_contracts.events.identity import (
    EmailVerificationRequested,
    LinkMailRequested,
    LoginSucceeded,
    PasswordChanged,
    PasswordResetRequested,
    TwoFactorDisabled,
    TwoFactorEnabled,
)
from portal_contracts.events.notifications import NotificationPreferencesChanged
from portal_contracts.events.repairs import RepairReady, RepairRegistered
from portal_contracts.events.tickets import (
    TicketAssigned,
    TicketOpened,
    TicketReplied,
    TicketSlaBreached,
)
from portal_contracts.events.wallet import TopUpCompleted

Channel = Literal["email", "in_app"]
CHANNELS: tuple[Channel, ...] = ("email", "in_app")
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

CATEGORIES = ("security", "billing_receipts", "billing", "support", "repairs", "crm")
"""What a message is about; preferences switch categories on or off per channel."""
MANDATORY = frozenset({"security", "billing_receipts"})
"""Categories nobody can switch off, whose mails carry no unsubscribe link: sign-in
security (with password resets and address verification) and invoices and receipts."""

Audience = Literal["account_managers", "user", "staff"]
ACCOUNT_MANAGERS = frozenset({"owner", "admin"})
ALL_DEPARTMENTS_ROLES = frozenset({"support_agent", "platform_admin"})
"""Staff who work every department: told when a department has nobody of its own."""


@dataclass(frozen=True)
class Recipient:
    user_id: str
    account_id: str
    email: str
    name: str
    role: str
    language: str = DEFAULT_LANGUAGE
    time_zone: str = "Asia/Ho_Chi_Minh"
    department: str | None = None
    """Staff only: the department they work in."""
    platform_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notice:
    """Something somebody must be told, before it is known who exactly."""

    template: str
    category: str
    account_id: str
    audience: Audience
    data: dict[str, Any]
    user_id: str | None = None
    """With audience "user": that person (e.g. who opened the ticket)."""
    department: str | None = None
    """With audience "staff": that department's staff (or, if it has none, the staff of
    every department)."""
    staff_ids: tuple[str, ...] = ()
    """With audience "staff": these staff members (an assignee, a caretaker)."""
    key: str | None = None
    """The message's own identity when it is not the event's: one expiry notice per
    subscription and term, one care reminder per person and day."""


@dataclass(frozen=True)
class Fact:
    """What a later notice needs to know of an earlier event (kind, id, values)."""

    kind: str
    id: str
    values: dict[str, Any] = field(default_factory=dict)


def remember(event: DomainEvent) -> Fact | None:
    """What to keep of an event; the values are merged into what was kept of the same
    thing before (a ticket's assignment adds to what its opening said)."""
    match event:
        case InvoiceIssued():
            return Fact(
                "invoice",
                event.invoice_id,
                {
                    "number": event.proforma_number,
                    "total": event.total,
                    "currency": event.currency,
                    "plan_name": event.plan_name,
                },
            )
        case TicketOpened():
            return Fact(
                "ticket",
                event.ticket_id,
                {
                    "number": event.ticket_number,
                    "title": event.title,
                    "opened_by": None if event.opened_by_staff else event.actor,
                    "department": event.department,
                },
            )
        case TicketAssigned():
            return Fact(
                "ticket",
                event.ticket_id,
                {"department": event.department, "agent_id": event.agent_id},
            )
        case RepairRegistered():
            return Fact(
                "repair",
                event.repair_id,
                {"number": event.repair_number, "model": event.model},
            )
        case SubscriptionStarted():
            return Fact("subscription", event.subscription_id, {"plan_name": event.plan_name})
        case PlanUpgraded():
            return Fact("subscription", event.subscription_id, {"plan_name": event.to_plan_name})
        case ContactCreated() | ContactUpdated():
            return Fact("contact", event.contact_id, {"name": event.details.name})
    return None


Facts = Mapping[tuple[str, str], Mapping[str, Any]]
"""(kind, id) -> values remembered from earlier events."""


class FactMissing(Exception):
    """A notice needs an earlier event that has not been seen (yet)."""


def _fact(facts: Facts, kind: str, key: str) -> Mapping[str, Any]:
    found = facts.get((kind, key))
    if found is None:
        raise FactMissing(f"no {kind} {key} seen yet")
    return found


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def _managers(template: str, category: str, account_id: str, **data: Any) -> Notice:
    return Notice(template, category, account_id, "account_managers", dict(data))


def _staff(
    template: str,
    category: str,
    account_id: str | None,
    data: dict[str, Any],
    *,
    department: str | None = None,
    staff_ids: tuple[str, ...] = (),
    key: str | None = None,
) -> Notice:
    return Notice(
        template,
        category,
        account_id or "",
        "staff",
        data,
        department=department,
        staff_ids=staff_ids,
        key=key,
    )


def device_key(user_id: str, client_address: str, user_agent: str) -> str:
    """A device, as far as a sign-in tells: the browser or app and where it signs in from."""
    digest = hashlib.sha256(f"{client_address}\n{user_agent}".encode()).hexdigest()[:32]
    return f"{user_id}:{digest}"


def is_new_device(first_event_id: str, event_id: str, user_first_device: bool) -> bool:
    """A sign-in from a device first seen with this event, unless it is the user's very
    first device (where they registered): that one is theirs."""
    return first_event_id == event_id and not user_first_device


def _security(template: str, account_id: str, user_id: str, **data: Any) -> Notice:
    return Notice(template, "security", account_id, "user", dict(data), user_id)


LINK_TEMPLATES: dict[type[LinkMailRequested], str] = {
    PasswordResetRequested: "password_reset",
    EmailVerificationRequested: "email_verification",
}
"""Events asking for a mail with a one-time link: mail only (never the bell), to the
address identity names, with the token identity hands to this service alone."""


def link_template(event: LinkMailRequested) -> str:
    return LINK_TEMPLATES[type(event)]


def _term_notice(
    template: str,
    key: str,
    event: SubscriptionExpiring | SubscriptionExpired,
    facts: Facts,
    **data: Any,
) -> Notice:
    """A notice about a subscription's term to the account's managers, once by `key`."""
    subscription = facts.get(("subscription", event.subscription_id), {})
    notice = _managers(
        template,
        "billing",
        event.account_id,
        contract_number=event.contract_number,
        plan_name=subscription.get("plan_name", ""),
        ends_on=event.ends_on,
        subscription_id=event.subscription_id,
        **data,
    )
    return replace(notice, key=key)


def decide_notices(event: DomainEvent, facts: Facts) -> list[Notice]:
    """The notices an event calls for; most events call for none."""
    match event:
        case PasswordChanged():
            return [
                _security(
                    "password_changed",
                    event.account_id,
                    event.user_id,
                    via=event.via,
                    at=event.occurred_at,
                )
            ]
        case LoginSucceeded() if _fact(facts, "login", event.session_id).get("new_device"):
            return [
                _security(
                    "new_device_sign_in",
                    event.account_id,
                    event.user_id,
                    at=event.occurred_at,
                    client_address=event.client_address,
                    user_agent=event.user_agent or "?",
                )
            ]
        case TwoFactorEnabled() | TwoFactorDisabled():
            return [
                _security(
                    "two_factor_changed",
                    event.account_id,
                    event.user_id,
                    enabled=isinstance(event, TwoFactorEnabled),
                    at=event.occurred_at,
                )
            ]
        case TopUpCompleted():
            return [
                _managers(
                    "top_up_received",
                    "billing_receipts",
                    event.account_id,
                    amount=_money(event.amount_received, event.currency),
                    requested=_money(event.amount_requested, event.currency),
                    reference=event.reference,
                    at=event.occurred_at,
                )
            ]
        case InvoiceIssued():
            return [
                _managers(
                    "invoice_issued",
                    "billing_receipts",  # an invoice is owed, like a receipt: never off
                    event.account_id,
                    number=event.proforma_number,
                    plan_name=event.plan_name,
                    months=event.months,
                    total=_money(event.total, event.currency),
                    due_at=event.due_at,
                    invoice_id=event.invoice_id,
                )
            ]
        case InvoicePaymentRecorded() if event.amount_due_after > 0:
            invoice = _fact(facts, "invoice", event.invoice_id)
            return [
                _managers(
                    "invoice_partially_paid",
                    "billing_receipts",
                    event.account_id,
                    number=invoice["number"],
                    paid=_money(event.applied, event.currency),
                    due=_money(event.amount_due_after, event.currency),
                    at=event.occurred_at,
                    invoice_id=event.invoice_id,
                )
            ]
        case InvoicePaid():
            return [
                _managers(
                    "invoice_paid",
                    "billing_receipts",
                    event.account_id,
                    number=event.invoice_number,
                    amount=_money(event.amount_spent, event.currency),
                    at=event.occurred_at,
                    invoice_id=event.invoice_id,
                )
            ]
        case PaymentClaimFiled():
            invoice = _fact(facts, "invoice", event.invoice_id)
            return [
                _managers(
                    "payment_claim_received",
                    "billing",
                    event.account_id,
                    number=invoice["number"],
                    amount=_money(event.amount, event.currency),
                    review_due_at=event.review_due_at,
                    invoice_id=event.invoice_id,
                )
            ]
        case PaymentClaimApproved():
            invoice = _fact(facts, "invoice", event.invoice_id)
            return [
                _managers(
                    "payment_claim_approved",
                    "billing",
                    event.account_id,
                    number=invoice["number"],
                    invoice_id=event.invoice_id,
                )
            ]
        case PaymentClaimRejected():
            invoice = _fact(facts, "invoice", event.invoice_id)
            return [
                _managers(
                    "payment_claim_rejected",
                    "billing",
                    event.account_id,
                    number=invoice["number"],
                    reason=event.reason,
                    invoice_id=event.invoice_id,
                )
            ]
        case TicketReplied() if event.author_kind == "staff" and not event.internal:
            ticket = _fact(facts, "ticket", event.ticket_id)
            data = {
                "number": ticket["number"],
                "title": ticket["title"],
                "content": event.content,
                "ticket_id": event.ticket_id,
            }
            opener = ticket.get("opened_by")
            if opener:
                return [
                    Notice("ticket_staff_reply", "support", event.account_id, "user", data, opener)
                ]
            return [
                Notice("ticket_staff_reply", "support", event.account_id, "account_managers", data)
            ]
        case TicketReplied() if event.author_kind == "customer" and not event.internal:
            ticket = _fact(facts, "ticket", event.ticket_id)
            if not ticket.get("agent_id"):
                return []  # nobody has it yet: it waits in the department's queue
            return [
                _staff(
                    "ticket_customer_reply",
                    "support",
                    event.account_id,
                    {
                        "number": ticket["number"],
                        "title": ticket["title"],
                        "content": event.content,
                        "ticket_id": event.ticket_id,
                    },
                    staff_ids=(ticket["agent_id"],),
                )
            ]
        case TicketOpened() if not event.opened_by_staff:
            return [
                _staff(
                    "ticket_opened",
                    "support",
                    event.account_id,
                    {
                        "number": event.ticket_number,
                        "title": event.title,
                        "priority": event.priority,
                        "content": event.content,
                        "ticket_id": event.ticket_id,
                    },
                    department=event.department,
                )
            ]
        case TicketSlaBreached():
            ticket = _fact(facts, "ticket", event.ticket_id)
            agent = ticket.get("agent_id")
            return [
                _staff(
                    "ticket_sla_breached",
                    "support",
                    event.account_id,
                    {
                        "number": ticket["number"],
                        "title": ticket["title"],
                        "target": event.target,
                        "due_at": event.due_at,
                        "ticket_id": event.ticket_id,
                    },
                    department=ticket.get("department"),
                    staff_ids=(agent,) if agent else (),
                )
            ]
        case SubscriptionExpiring():
            # Each notice (15, 7, 1 days) once per subscription and term, whichever event
            # (or replay) asks again; one from before the stages keeps its term-only key.
            key = f"expiring:{event.subscription_id}:{event.ends_on}"
            if event.notice_days is not None:
                key = f"{key}:{event.notice_days}"
            return [
                _term_notice("subscription_expiring", key, event, facts, days_left=event.days_left)
            ]
        case SubscriptionExpired():
            key = f"expired:{event.subscription_id}:{event.ends_on}"
            return [_term_notice("subscription_expired", key, event, facts)]
        case LeadAssigned() if event.caretaker_id != event.assigned_by:
            contact = facts.get(("contact", event.contact_id), {})
            return [
                _staff(
                    "lead_assigned",
                    "crm",
                    event.account_id,
                    {
                        "contact_name": contact.get("name") or event.contact_id,
                        "note": event.note,
                        "contact_id": event.contact_id,
                    },
                    staff_ids=(event.caretaker_id,),
                )
            ]
        case RepairReady():
            repair = _fact(facts, "repair", event.repair_id)
            return [
                _managers(
                    "repair_ready",
                    "repairs",
                    event.account_id,
                    number=repair["number"],
                    model=repair["model"],
                    repaired=event.repaired,
                    repair_id=event.repair_id,
                )
            ]
    return []


@dataclass(frozen=True)
class CareDue:
    """A planned care activity, as far as its reminder needs it."""

    activity_id: str
    caretaker_id: str
    title: str
    due_at: datetime
    contact_name: str


def day_bounds(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """The instants (UTC) a business day runs from and to, in that day's own zone."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time.min, zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def care_reminders(due: Sequence[CareDue], day: date) -> list[Notice]:
    """One reminder per caretaker of what is due that day, earliest first; keyed by
    person and day, so it is sent once however often the reminder runs."""
    by_caretaker: dict[str, list[CareDue]] = {}
    for activity in sorted(due, key=lambda a: (a.due_at, a.activity_id)):
        by_caretaker.setdefault(activity.caretaker_id, []).append(activity)
    return [
        _staff(
            "care_due_today",
            "crm",
            None,
            {
                "day": day,
                "activities": [
                    {
                        "title": a.title,
                        "due_at": a.due_at,
                        "contact_name": a.contact_name,
                        "activity_id": a.activity_id,
                    }
                    for a in activities
                ],
            },
            staff_ids=(caretaker,),
            key=f"care-due:{caretaker}:{day.isoformat()}",
        )
        for caretaker, activities in by_caretaker.items()
    ]


LINKS: dict[str, str] = {
    "top_up_received": "/transactions",
    "invoice_issued": "/invoices/{invoice_id}",
    "invoice_partially_paid": "/invoices/{invoice_id}",
    "invoice_paid": "/invoices/{invoice_id}",
    "payment_claim_received": "/invoices/{invoice_id}",
    "payment_claim_approved": "/invoices/{invoice_id}",
    "payment_claim_rejected": "/invoices/{invoice_id}",
    "subscription_expiring": "/services?tab=mine",
    "subscription_expired": "/services?tab=mine",
    "ticket_staff_reply": "/support/{ticket_id}",
    "repair_ready": "/repairs/{repair_id}",
    "password_changed": "/account",
    "new_device_sign_in": "/account",
    "two_factor_changed": "/account",
    "ticket_opened": "/staff/tickets/{ticket_id}",
    "ticket_customer_reply": "/staff/tickets/{ticket_id}",
    "ticket_sla_breached": "/staff/tickets/{ticket_id}",
    "lead_assigned": "/staff/crm/{contact_id}",
    "care_due_today": "/staff/care",
}
"""Where a bell entry leads in the web portal: the object it is about."""


def link_for(notice: Notice) -> str | None:
    """The web path of what the notice is about (None: nothing to open)."""
    pattern = LINKS.get(notice.template)
    return None if pattern is None else pattern.format_map(notice.data)


def recipients_for(notice: Notice, people: Sequence[Recipient]) -> list[Recipient]:
    """The people of the notice's audience: within its account, or among the staff."""
    if notice.audience == "staff":
        return _staff_recipients(notice, people)
    mine = [p for p in people if p.account_id == notice.account_id]
    if notice.audience == "user":
        chosen = [p for p in mine if p.user_id == notice.user_id]
        # The person left the account (or was never known): its managers are told instead.
        if chosen:
            return chosen
    return [p for p in mine if p.role in ACCOUNT_MANAGERS]


def _staff_recipients(notice: Notice, staff: Sequence[Recipient]) -> list[Recipient]:
    """Named staff and the department's staff; a department with nobody of its own is
    covered by who works every department (support agents, platform admins)."""
    chosen = [
        p
        for p in staff
        if p.user_id in notice.staff_ids
        or (notice.department is not None and p.department == notice.department)
    ]
    if not chosen and notice.department is not None:
        chosen = [p for p in staff if ALL_DEPARTMENTS_ROLES & set(p.platform_roles)]
    return chosen


# --- preferences -------------------------------------------------------------------

Switches = dict[str, dict[str, bool]]


def default_switches() -> Switches:
    return {category: dict.fromkeys(CHANNELS, True) for category in CATEGORIES}


@dataclass(frozen=True)
class Preferences:
    switches: Switches = field(default_factory=default_switches)
    version: int = 0


@dataclass(frozen=True)
class ChangePreferences:
    user_id: str
    account_id: str
    changes: Mapping[str, Mapping[str, bool]]
    """category -> channel -> on/off; what is not named stays as it is."""
    now: datetime


def channels_for(category: str, preferences: Preferences) -> list[Channel]:
    if category in MANDATORY:
        return list(CHANNELS)
    switches = preferences.switches.get(category, {})
    return [c for c in CHANNELS if switches.get(c, True)]


def decide_preferences(
    cmd: ChangePreferences, state: Preferences
) -> list[NotificationPreferencesChanged]:
    for category, channels in cmd.changes.items():
        if category not in CATEGORIES:
            raise DomainError("unknown_category", f"no notification category {category!r}")
        for channel, on in channels.items():
            if channel not in CHANNELS:
                raise DomainError("unknown_channel", f"no notification channel {channel!r}")
            if category in MANDATORY and not on:
                raise DomainError(
                    "category_mandatory",
                    f"{category} messages cannot be switched off",
                    category=category,
                )
    merged = {c: dict(ch) for c, ch in state.switches.items()}
    for category, channels in cmd.changes.items():
        merged[category].update(channels)
    if merged == state.switches:
        return []
    return [
        NotificationPreferencesChanged(
            user_id=cmd.user_id,
            account_id=cmd.account_id,
            preferences=merged,
            occurred_at=cmd.now,
        )
    ]


def evolve_preferences(state: Preferences, event: DomainEvent) -> Preferences:
    if isinstance(event, NotificationPreferencesChanged):
        switches = default_switches()
        for category, channels in event.preferences.items():
            if category in switches:
                switches[category].update(channels)
        return Preferences(switches, state.version + 1)
    return state


PREFERENCES = Decider(
    initial_state=Preferences(),
    decide=decide_preferences,
    evolve=evolve_preferences,
    dump_state=lambda s: {"switches": s.switches, "version": s.version},
    load_state=lambda d: Preferences(d["switches"], d["version"]),
)


def preferences_stream(user_id: str) -> str:
    return f"preferences-{user_id}"


# --- delivery ------------------------------------------------------------------------


def delivery_id(event_id: str, user_id: str, channel: Channel) -> str:
    """The one key of a message: an event tells a person on a channel at most once."""
    return f"{event_id}:{user_id}:{channel}"


def over_rate_limit(category: str, sent_in_window: int, limit: int) -> bool:
    """Whether one more mail of `category` to a person would pass the per-person limit
    (`limit` 0: no limit). Security mails, receipts and invoices are never held back:
    each answers something that really happened to the person (identity bounds its own
    link mails), and losing one costs more than one more mail."""
    return category not in MANDATORY and limit > 0 and sent_in_window >= limit


@dataclass(frozen=True)
class Held:
    """A mail the rate limit held back, as its digest lists it."""

    delivery_id: str
    user_id: str
    subject: str
    category: str
    created_at: datetime


@dataclass(frozen=True)
class Digest:
    """One mail to one person listing what was held back from them in one window."""

    key: str
    user_id: str
    window_start: datetime
    window_end: datetime
    held: tuple[Held, ...]


def digests_due(
    held: Sequence[Held], now: datetime, window_seconds: float, grace_seconds: float
) -> list[Digest]:
    """The digests of windows that are over (plus a grace for mails held at the very end
    of one): a person's mails held in one fixed window make one digest, whose key is the
    person and the window, so deciding it again gives the same digest."""
    windows: dict[tuple[str, int], list[Held]] = {}
    for mail in held:
        number = int(mail.created_at.timestamp() // window_seconds)
        windows.setdefault((mail.user_id, number), []).append(mail)
    due = []
    for (user_id, number), mails in sorted(windows.items()):
        start = datetime.fromtimestamp(number * window_seconds, UTC)
        end = start + timedelta(seconds=window_seconds)
        if now < end + timedelta(seconds=grace_seconds):
            continue  # the window still runs: more may be held back in it
        ordered = tuple(sorted(mails, key=lambda m: (m.created_at, m.delivery_id)))
        due.append(Digest(f"digest:{user_id}:{start.isoformat()}", user_id, start, end, ordered))
    return due


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after `attempts` failed ones: doubling, capped."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


def is_temporary_smtp_code(code: int | None) -> bool:
    """SMTP 4xx (and no answer at all) may pass later; 5xx will not (RFC 5321 4.2.1)."""
    return code is None or 400 <= code < 500
