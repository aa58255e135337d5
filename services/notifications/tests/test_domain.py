"""Given events / then notices, recipients and channels: the decisions, no I/O.

Each trigger's notice is rendered in both languages too, so a template variable the
decision does not supply fails here, not at send time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal_chassis.decider import DomainError
from portal_contracts.base import DomainEvent
from portal_contracts.events.identity import (
    EmailVerificationRequested,
    LoginSucceeded,
    PasswordChanged,
    PasswordResetRequested,
    TwoFactorDisabled,
    TwoFactorEnabled,
)
from portal_contracts.events.notifications import NotificationPreferencesChanged
from portal_notifications.domain import (
    PREFERENCES,
    CareDue,
    ChangePreferences,
    Fact,
    FactMissing,
    Held,
    Notice,
    Preferences,
    care_reminders,
    channels_for,
    day_bounds,
    decide_notices,
    decide_preferences,
    device_key,
    digests_due,
    is_new_device,
    link_template,
    over_rate_limit,
    recipients_for,
    remember,
    retry_delay,
)
from portal_notifications.rendering import Renderer

from . import samples as s

RENDERER = Renderer("https://portal.example")


def facts_after(*events: DomainEvent) -> dict[tuple[str, str], dict]:
    facts: dict[tuple[str, str], dict] = {}
    for fact in (remember(e) for e in events):
        if isinstance(fact, Fact):  # merged, as the service stores them
            facts[(fact.kind, fact.id)] = {**facts.get((fact.kind, fact.id), {}), **fact.values}
    return facts


def notices(given: list[DomainEvent], when: DomainEvent) -> list[Notice]:
    found = decide_notices(when, facts_after(*given))
    for notice in found:
        for person in (s.OWNER, s.ADMIN):  # vi and en
            RENDERER.render(notice.template, notice.data, person)
    return found


def told(notice: Notice) -> list[str]:
    return [p.user_id for p in recipients_for(notice, s.PEOPLE + s.STAFF)]


def test_a_top_up_tells_the_account_managers_with_a_receipt() -> None:
    [notice] = notices([], s.top_up())
    assert notice.template == "top_up_received" and notice.category == "billing_receipts"
    assert recipients_for(notice, s.PEOPLE) == [s.OWNER, s.ADMIN]
    message = RENDERER.render(notice.template, notice.data, s.OWNER)
    assert "1.234.567 ₫" in message.subject and "1.234.567 ₫" in message.body
    assert "00:30 01/12/2026" in message.body  # the recipient's time zone


@pytest.mark.parametrize(
    ("given", "when", "template", "category"),
    [
        ([], s.invoice_issued(), "invoice_issued", "billing_receipts"),
        (
            [s.invoice_issued()],
            s.payment_recorded(1_400_000),
            "invoice_partially_paid",
            "billing_receipts",
        ),
        ([s.invoice_issued()], s.invoice_paid(), "invoice_paid", "billing_receipts"),
        ([s.invoice_issued()], s.claim_filed(), "payment_claim_received", "billing"),
        ([s.invoice_issued()], s.claim_approved(), "payment_claim_approved", "billing"),
        ([s.invoice_issued()], s.claim_rejected(), "payment_claim_rejected", "billing"),
        ([s.repair_registered()], s.repair_ready(), "repair_ready", "repairs"),
    ],
)
def test_billing_and_repair_triggers(given, when, template, category) -> None:
    [notice] = notices(given, when)
    assert (notice.template, notice.category) == (template, category)
    assert recipients_for(notice, s.PEOPLE) == [s.OWNER, s.ADMIN]


def test_a_partial_payment_says_what_is_still_due() -> None:
    [notice] = notices([s.invoice_issued()], s.payment_recorded(1_400_000))
    body = RENDERER.render(notice.template, notice.data, s.OWNER).body
    assert "1.000.000 ₫" in body and "1.400.000 ₫" in body and "PF-2026-0001" in body


def test_the_payment_that_settles_the_invoice_is_told_once_as_paid() -> None:
    assert notices([s.invoice_issued()], s.payment_recorded(0)) == []


def test_a_rejected_claim_gives_the_reason() -> None:
    [notice] = notices([s.invoice_issued()], s.claim_rejected())
    assert "Không tìm thấy giao dịch" in RENDERER.render(notice.template, notice.data, s.ADMIN).body


def test_a_staff_reply_tells_who_opened_the_ticket() -> None:
    [notice] = notices([s.ticket_opened()], s.ticket_replied())
    assert notice.category == "support"
    assert recipients_for(notice, s.PEOPLE) == [s.MEMBER]
    assert (
        "We restarted the server." in RENDERER.render(notice.template, notice.data, s.MEMBER).body
    )


def test_a_staff_reply_on_a_ticket_staff_opened_tells_the_managers() -> None:
    [notice] = notices([s.ticket_opened(by_staff=True)], s.ticket_replied())
    assert recipients_for(notice, s.PEOPLE) == [s.OWNER, s.ADMIN]


def test_customer_replies_and_internal_notes_tell_the_customer_nothing() -> None:
    assert notices([s.ticket_opened()], s.ticket_replied(author="customer")) == []
    assert notices([s.ticket_opened()], s.ticket_replied(internal=True)) == []


def test_a_notice_about_something_never_seen_is_a_failure_of_the_event() -> None:
    with pytest.raises(FactMissing):
        decide_notices(s.ticket_replied(), {})


def test_events_nobody_must_know_about_call_for_nothing() -> None:
    assert notices([], s.ticket_assigned()) == []
    assert notices([], s.repair_registered()) == []


def test_nobody_of_another_account_is_told() -> None:
    [notice] = notices([], s.top_up())
    assert s.STRANGER not in recipients_for(notice, s.PEOPLE)
    assert recipients_for(notice, [s.STRANGER]) == []


# --- preferences ---------------------------------------------------------------------

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def change(changes: dict[str, dict[str, bool]], state: Preferences | None = None):
    return decide_preferences(
        ChangePreferences("u-1", "acc-1", changes, NOW), state or Preferences()
    )


def test_everything_is_on_until_switched_off() -> None:
    assert channels_for("support", Preferences()) == ["email", "in_app"]


def test_switching_a_category_off_on_one_channel() -> None:
    [event] = change({"support": {"email": False}})
    assert isinstance(event, NotificationPreferencesChanged)
    state = PREFERENCES.fold(Preferences(), [event])
    assert channels_for("support", state) == ["in_app"]
    assert channels_for("repairs", state) == ["email", "in_app"]
    assert change({"support": {"email": False}}, state) == []  # no change, no event


@pytest.mark.parametrize("category", ["security", "billing_receipts"])
def test_security_and_receipts_cannot_be_switched_off(category: str) -> None:
    with pytest.raises(DomainError) as refused:
        change({category: {"email": False}})
    assert refused.value.code == "category_mandatory"
    assert change({category: {"email": True}}) == []


def test_a_refused_change_changes_nothing_even_beside_a_valid_one() -> None:
    with pytest.raises(DomainError):
        change({"support": {"email": False}, "security": {"in_app": False}})


def test_unknown_categories_and_channels_are_refused() -> None:
    for changes in ({"marketing": {"email": False}}, {"support": {"sms": False}}):
        with pytest.raises(DomainError):
            change(changes)


def test_receipts_reach_every_channel_whatever_is_stored() -> None:
    stored = Preferences({"billing_receipts": {"email": False, "in_app": False}})
    assert channels_for("billing_receipts", stored) == ["email", "in_app"]


def test_retries_back_off_and_are_capped() -> None:
    assert [retry_delay(n, 5, 60) for n in (1, 2, 3, 4, 5, 9)] == [5, 10, 20, 40, 60, 60]


@pytest.mark.parametrize(
    ("when", "template", "data"),
    [
        (
            PasswordChanged(user_id="u-member", account_id=s.ACCOUNT, occurred_at=s.NOW),
            "password_changed",
            {"via": "change"},
        ),
        (
            PasswordChanged(
                user_id="u-member", account_id=s.ACCOUNT, via="reset", occurred_at=s.NOW
            ),
            "password_changed",
            {"via": "reset"},
        ),
        (
            TwoFactorEnabled(user_id="u-member", account_id=s.ACCOUNT, occurred_at=s.NOW),
            "two_factor_changed",
            {"enabled": True},
        ),
        (
            TwoFactorDisabled(user_id="u-member", account_id=s.ACCOUNT, occurred_at=s.NOW),
            "two_factor_changed",
            {"enabled": False},
        ),
    ],
)
def test_password_and_two_factor_changes_tell_that_user_on_every_channel(
    when: DomainEvent, template: str, data: dict
) -> None:
    [notice] = notices([], when)
    assert (notice.template, notice.category) == (template, "security")
    assert data.items() <= notice.data.items()
    assert recipients_for(notice, s.PEOPLE) == [s.MEMBER]  # not the account's managers
    assert channels_for("security", Preferences()) == ["email", "in_app"]


def test_link_requests_are_mail_only_and_call_for_no_notice() -> None:
    for when in (
        PasswordResetRequested(
            user_id="u", account_id="a", mail_id="m", expires_at=s.NOW, occurred_at=s.NOW
        ),
        EmailVerificationRequested(
            user_id="u", account_id="a", mail_id="m", expires_at=s.NOW, occurred_at=s.NOW
        ),
    ):
        assert decide_notices(when, {}) == []
        assert link_template(when) in ("password_reset", "email_verification")


def sign_in(agent: str = "Firefox", address: str = "203.0.113.9") -> LoginSucceeded:
    return LoginSucceeded(
        user_id="u-member",
        account_id=s.ACCOUNT,
        method="password",
        client_address=address,
        user_agent=agent,
        session_id="sess-1",
        occurred_at=s.NOW,
    )


def test_a_sign_in_from_a_new_device_tells_that_user_and_a_known_one_nothing() -> None:
    new = {("login", "sess-1"): {"new_device": True}}
    [notice] = decide_notices(sign_in(), new)
    assert (notice.template, notice.category) == ("new_device_sign_in", "security")
    assert recipients_for(notice, s.PEOPLE) == [s.MEMBER]
    message = RENDERER.render(notice.template, notice.data, s.ADMIN)
    assert "203.0.113.9" in message.body and "Firefox" in message.body
    assert decide_notices(sign_in(), {("login", "sess-1"): {"new_device": False}}) == []
    with pytest.raises(FactMissing):
        decide_notices(sign_in(), {})


def test_a_device_is_new_only_for_the_event_that_first_saw_it_and_not_the_first_one() -> None:
    assert is_new_device("evt-2", "evt-2", user_first_device=False)
    assert not is_new_device("evt-1", "evt-1", user_first_device=True)  # where they registered
    assert not is_new_device("evt-2", "evt-3", user_first_device=False)  # seen before
    assert device_key("u", "1.2.3.4", "A") != device_key("u", "1.2.3.4", "B")
    assert device_key("u", "1.2.3.4", "A") != device_key("u", "5.6.7.8", "A")


# --- staff and expiry triggers ------------------------------------------------------


def test_the_expiry_notice_tells_the_managers_once_per_subscription_and_term() -> None:
    [notice] = notices([s.subscription_started()], s.subscription_expiring(15))
    assert (notice.template, notice.category) == ("subscription_expiring", "billing")
    assert told(notice) == [s.OWNER.user_id, s.ADMIN.user_id]
    body = RENDERER.render(notice.template, notice.data, s.OWNER).body
    assert "HD-2026-0001" in body and "Hosting S" in body and "15/12/2026" in body
    # Asked again for the same term (a replay, a second check): the same message.
    [again] = notices([s.subscription_started()], s.subscription_expiring(14))
    assert again.key != notice.key  # a different end date is a different term...
    [same] = notices([], s.subscription_expiring(15))
    assert same.key == notice.key == "expiring:sub-1:2026-12-15"  # ...the same one is not
    assert same.data["plan_name"] == ""  # a subscription older than this service: no name


def test_each_expiry_notice_of_a_term_is_its_own_message_and_the_expiry_day_too() -> None:
    def expiring(days_left: int, stage: int) -> DomainEvent:
        one_term = {"ends_on": s.NOW.date() + timedelta(days=15)}  # one term's three notices
        return s.subscription_expiring(days_left, stage).model_copy(update=one_term)

    keys = []
    for days, stage in ((15, 15), (7, 7), (1, 1)):
        [notice] = notices([s.subscription_started()], expiring(days, stage))
        assert told(notice) == [s.OWNER.user_id, s.ADMIN.user_id]
        keys.append(notice.key)
    assert len(set(keys)) == 3  # three messages, each sent once however often it is asked
    [again] = notices([], expiring(7, 7))
    assert again.key == keys[1] == "expiring:sub-1:2026-12-15:7"
    vi = RENDERER.render("subscription_expiring", again.data, s.OWNER)  # Vietnamese owner
    en = RENDERER.render(
        "subscription_expiring", notices([], s.subscription_expiring(1, 1))[0].data, s.ADMIN
    )
    assert vi.subject == "Dịch vụ HD-2026-0001 sẽ hết hạn sau 7 ngày"
    assert en.subject == "Service HD-2026-0001 ends tomorrow"  # the English admin
    [expired] = notices([s.subscription_started()], s.subscription_expired())
    assert (expired.template, expired.category) == ("subscription_expired", "billing")
    assert expired.key == "expired:sub-1:2026-11-30" and told(expired) == told(again)
    assert RENDERER.render(expired.template, expired.data, s.OWNER).subject == (
        "Dịch vụ HD-2026-0001 đã hết hạn hôm nay"
    )
    assert "Hosting S" in RENDERER.render(expired.template, expired.data, s.ADMIN).body


def test_the_expiry_notice_can_be_switched_off_but_not_receipts() -> None:
    [notice] = notices([], s.subscription_expiring())
    off = PREFERENCES.evolve(Preferences(), change({"billing": {"email": False}}, Preferences())[0])
    assert channels_for(notice.category, off) == ["in_app"]


def test_a_new_ticket_tells_the_staff_of_its_department_only() -> None:
    [notice] = notices([], s.ticket_opened(department="technical"))
    assert (notice.template, notice.category) == ("ticket_opened", "support")
    assert told(notice) == [s.TECH.user_id, s.TECH_2.user_id]
    assert "It is down" in RENDERER.render(notice.template, notice.data, s.TECH).body


def test_a_new_ticket_of_a_department_with_nobody_tells_who_works_every_department() -> None:
    [notice] = notices([], s.ticket_opened(department="billing"))
    assert told(notice) == [s.AGENT.user_id]


def test_a_ticket_staff_open_for_a_customer_tells_no_staff() -> None:
    assert notices([], s.ticket_opened(by_staff=True)) == []


def test_an_sla_breach_tells_the_department_and_the_assignee() -> None:
    [notice] = notices([s.ticket_opened(), s.ticket_assigned("s-sales")], s.sla_breached())
    assert (notice.template, notice.category) == ("ticket_sla_breached", "support")
    assert told(notice) == [s.TECH.user_id, s.TECH_2.user_id, s.SALES.user_id]
    body = RENDERER.render(notice.template, notice.data, s.SALES).body
    assert "T-0001" in body and "first response" in body


def test_an_sla_breach_follows_the_ticket_to_its_new_department() -> None:
    moved = s.ticket_assigned(None, department="sales")
    [notice] = notices([s.ticket_opened(), moved], s.sla_breached())
    assert told(notice) == [s.SALES.user_id]


def test_an_sla_breach_of_a_ticket_never_seen_is_a_failure_of_the_event() -> None:
    with pytest.raises(FactMissing):
        decide_notices(s.sla_breached(), {})


def test_a_customer_reply_tells_the_assignee_and_nobody_when_unassigned() -> None:
    customer_reply = s.ticket_replied(author="customer")
    assert notices([s.ticket_opened()], customer_reply) == []
    [notice] = notices([s.ticket_opened(), s.ticket_assigned()], customer_reply)
    assert notice.template == "ticket_customer_reply" and told(notice) == [s.TECH_2.user_id]
    assert (
        notices([s.ticket_opened(), s.ticket_assigned()], s.ticket_replied("customer", True)) == []
    )


def test_a_lead_assigned_tells_the_new_caretaker_with_the_contacts_name() -> None:
    [notice] = notices([s.contact_created()], s.lead_assigned())
    assert (notice.template, notice.category) == ("lead_assigned", "crm")
    assert told(notice) == [s.SALES.user_id]
    message = RENDERER.render(notice.template, notice.data, s.SALES)
    assert "Công ty An Phát" in message.subject and "Gọi trước 10 giờ" in message.body


def test_taking_a_lead_oneself_tells_nobody() -> None:
    assert notices([s.contact_created()], s.lead_assigned("s-sales", by="s-sales")) == []


def test_care_due_today_is_one_reminder_per_caretaker_and_day() -> None:
    day = s.NOW.date() + timedelta(days=1)  # 1 Dec, where the business is
    start, end = day_bounds(day, "Asia/Ho_Chi_Minh")
    assert (start, end) == (
        datetime(2026, 11, 30, 17, tzinfo=UTC),
        datetime(2026, 12, 1, 17, tzinfo=UTC),
    )
    due = [
        CareDue("ca-2", "s-sales", "Send the offer", start + timedelta(hours=14), ""),
        CareDue("ca-1", "s-sales", "Call back", start + timedelta(hours=10), "An Phát"),
        CareDue("ca-3", "s-tech", "Visit", start + timedelta(hours=4), "Bình"),
    ]
    reminders = care_reminders(due, day)
    assert [told(n) for n in reminders] == [[s.TECH.user_id], [s.SALES.user_id]]
    first = reminders[1]
    assert first.key == "care-due:s-sales:2026-12-01" and first.category == "crm"
    assert [a["activity_id"] for a in first.data["activities"]] == ["ca-1", "ca-2"]
    body = RENDERER.render(first.template, first.data, s.SALES).body
    assert body.index("01 Dec 2026, 10:00: Call back (An Phát)") < body.index("Send the offer")
    assert care_reminders([], day) == []


def test_staff_notices_never_reach_customers() -> None:
    for notice in (
        *notices([], s.ticket_opened(department="billing")),
        *notices([s.contact_created()], s.lead_assigned()),
    ):
        assert not {p.account_id for p in recipients_for(notice, s.PEOPLE + s.STAFF)} - {"platform"}


def test_the_rate_limit_holds_back_what_can_be_switched_off_only() -> None:
    assert not over_rate_limit("support", 9, 10)
    assert over_rate_limit("support", 10, 10)
    assert over_rate_limit("crm", 11, 10)
    assert not over_rate_limit("support", 1000, 0)  # 0: no limit
    for mandatory in ("security", "billing_receipts"):
        assert not over_rate_limit(mandatory, 1000, 10)


def test_held_mails_make_one_digest_per_person_and_window_once_the_window_is_over() -> None:
    hour = 3600.0
    start = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)

    def mail(n: int, user: str, minutes: float) -> Held:
        return Held(f"d{n}", user, f"mail {n}", "support", start + timedelta(minutes=minutes))

    held = [mail(1, "u1", 50), mail(2, "u1", 10), mail(3, "u2", 59.9), mail(4, "u1", 61)]
    assert digests_due(held, start + timedelta(minutes=60, seconds=10), hour, 30) == []  # grace
    due = digests_due(held, start + timedelta(minutes=61), hour, 30)
    assert [(d.user_id, [m.delivery_id for m in d.held]) for d in due] == [
        ("u1", ["d2", "d1"]),  # oldest first; d4 is the next window's, still running
        ("u2", ["d3"]),
    ]
    assert due[0].key == "digest:u1:2026-12-01T03:00:00+00:00"
    assert (due[0].window_start, due[0].window_end) == (start, start + timedelta(hours=1))
    # Decided again (a second sweep, a restart): the same digests, by the same keys.
    assert digests_due(held, start + timedelta(minutes=61), hour, 30) == due
