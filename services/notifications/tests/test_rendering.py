"""Every template renders in every language with sample data; a missing variable or a
missing translation fails here."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from jinja2 import UndefinedError

from portal_notifications.domain import LANGUAGES, LINK_TEMPLATES, Notice, Recipient, link_for
from portal_notifications.rendering import TEMPLATE_DIR, TEMPLATES, Renderer, money

AT = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
MONEY = {"amount": 1_234_567, "currency": "VND"}
SAMPLES: dict[str, dict[str, object]] = {
    "top_up_received": {"amount": MONEY, "requested": MONEY, "reference": "PAY1", "at": AT},
    "invoice_issued": {
        "number": "PF-1",
        "plan_name": "Hosting S",
        "months": 12,
        "total": MONEY,
        "due_at": AT,
        "invoice_id": "inv-1",
    },
    "invoice_partially_paid": {
        "number": "PF-1",
        "paid": MONEY,
        "due": MONEY,
        "at": AT,
        "invoice_id": "inv-1",
    },
    "invoice_paid": {"number": "INV-1", "amount": MONEY, "at": AT, "invoice_id": "inv-1"},
    "payment_claim_received": {
        "number": "PF-1",
        "amount": MONEY,
        "review_due_at": AT,
        "invoice_id": "inv-1",
    },
    "payment_claim_approved": {"number": "PF-1", "invoice_id": "inv-1"},
    "payment_claim_rejected": {"number": "PF-1", "reason": "no such transfer", "invoice_id": "i"},
    "ticket_staff_reply": {"number": "T-1", "title": "Down", "content": "Fixed", "ticket_id": "t"},
    "repair_ready": {"number": "R-1", "model": "X1", "repaired": True, "repair_id": "rp-1"},
    "email_verification": {"token": "tok-1", "expires_at": AT, "email": "lan@example.com"},
    "password_reset": {"token": "tok-1", "expires_at": AT},
    "password_changed": {"via": "reset", "at": AT},
    "two_factor_changed": {"enabled": True, "at": AT},
    "new_device_sign_in": {"at": AT, "client_address": "203.0.113.9", "user_agent": "Firefox"},
    "subscription_expiring": {
        "contract_number": "HD-1",
        "plan_name": "Hosting S",
        "ends_on": date(2026, 12, 16),
        "days_left": 15,
        "subscription_id": "sub-1",
    },
    "subscription_expired": {
        "contract_number": "HD-1",
        "plan_name": "Hosting S",
        "ends_on": date(2026, 12, 16),
        "subscription_id": "sub-1",
    },
    "ticket_opened": {
        "number": "T-1",
        "title": "Down",
        "priority": "urgent",
        "content": "It is down",
        "ticket_id": "t",
    },
    "ticket_customer_reply": {
        "number": "T-1",
        "title": "Down",
        "content": "Still",
        "ticket_id": "t",
    },
    "ticket_sla_breached": {
        "number": "T-1",
        "title": "Down",
        "target": "first_response",
        "due_at": AT,
        "ticket_id": "t",
    },
    "lead_assigned": {"contact_name": "Công ty An", "note": "Call first", "contact_id": "c-1"},
    "care_due_today": {
        "day": date(2026, 12, 1),
        "activities": [
            {"title": "Call", "due_at": AT, "contact_name": "An", "activity_id": "ca-1"},
        ],
    },
    "digest": {
        "window_start": AT,
        "window_end": AT,
        "items": [{"subject": "[T-1] New reply: Down", "at": AT}],
    },
}
RENDERER = Renderer("https://portal.example")


def person(language: str) -> Recipient:
    return Recipient("u", "a", "u@example.com", "Lan", "owner", language=language)


def test_every_template_has_every_language_and_nothing_else() -> None:
    files = {p.relative_to(TEMPLATE_DIR).as_posix() for p in TEMPLATE_DIR.rglob("*.j2")}
    assert files == {f"{lang}/{name}.j2" for lang in LANGUAGES for name in TEMPLATES}
    assert set(SAMPLES) == set(TEMPLATES)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders(template: str, language: str) -> None:
    message = RENDERER.render(template, SAMPLES[template], person(language))
    assert message.subject and "\n" not in message.subject
    assert "Lan" in message.body and "https://portal.example/" in message.body
    assert message.language == language


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_languages_differ(template: str) -> None:
    vi, en = (RENDERER.render(template, SAMPLES[template], person(x)) for x in ("vi", "en"))
    assert vi.subject != en.subject and vi.body != en.body


@pytest.mark.parametrize("template", [t for t in TEMPLATES if len(SAMPLES[t]) > 1])
def test_a_missing_variable_fails(template: str) -> None:
    data = dict(SAMPLES[template])
    data.pop(next(iter(data)))
    with pytest.raises(UndefinedError):
        RENDERER.render(template, data, person("vi"))


def test_money_is_written_the_vietnamese_way() -> None:
    assert money(MONEY) == "1.234.567 ₫"
    assert money({"amount": 0, "currency": "VND"}) == "0 ₫"
    assert money({"amount": -50_000, "currency": "VND"}) == "-50.000 ₫"
    assert money({"amount": 123_456, "currency": "USD"}) == "1.234,56 USD"


def test_times_are_in_the_recipients_zone_and_language() -> None:
    vi = RENDERER.render("invoice_paid", SAMPLES["invoice_paid"], person("vi"))
    en = RENDERER.render("invoice_paid", SAMPLES["invoice_paid"], person("en"))
    assert "00:30 01/12/2026" in vi.body and "01 Dec 2026, 00:30" in en.body


def test_days_are_written_the_languages_way() -> None:
    data = SAMPLES["subscription_expiring"]
    vi = RENDERER.render("subscription_expiring", data, person("vi"))
    en = RENDERER.render("subscription_expiring", data, person("en"))
    assert "16/12/2026" in vi.body and "16 Dec 2026" in en.body
    assert "https://portal.example/services?tab=mine" in vi.body


def test_an_unknown_language_falls_back_to_vietnamese() -> None:
    message = RENDERER.render("invoice_paid", SAMPLES["invoice_paid"], person("fr"))
    assert message.language == "vi"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("template", "page"),
    [("email_verification", "verify-email"), ("password_reset", "reset-password")],
)
def test_link_mails_carry_the_link_with_its_token(template: str, page: str, language: str) -> None:
    message = RENDERER.render(template, SAMPLES[template], person(language))
    assert f"https://portal.example/{page}?token=tok-1" in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_security_notices_say_what_changed(language: str) -> None:
    def text(template: str, **data: object) -> str:
        message = RENDERER.render(template, {"at": AT, **data}, person(language))
        return message.subject + message.body

    assert text("password_changed", via="reset") != text("password_changed", via="change")
    assert text("two_factor_changed", enabled=True) != text("two_factor_changed", enabled=False)


@pytest.mark.parametrize("language", LANGUAGES)
def test_links_open_pages_the_web_portal_serves(language: str) -> None:
    def body(template: str) -> str:
        return RENDERER.render(template, SAMPLES[template], person(language)).body

    assert "https://portal.example/support/t\n" in body("ticket_staff_reply")  # the customer's
    for staff_template in ("ticket_opened", "ticket_customer_reply", "ticket_sla_breached"):
        assert "https://portal.example/staff/tickets/t\n" in body(staff_template)
    assert "https://portal.example/staff/crm/c-1\n" in body("lead_assigned")


@pytest.mark.parametrize(
    "template",
    sorted(set(TEMPLATES) - set(LINK_TEMPLATES.values()) - {"digest"}),  # mail only
)
def test_every_bell_entry_links_to_its_object(template: str) -> None:
    link = link_for(Notice(template, "billing", "a", "user", SAMPLES[template]))
    assert link is not None and link.startswith("/") and "{" not in link
    # The same page the mail's own link opens (security notices: the account page).
    assert link in RENDERER.render(template, SAMPLES[template], person("en")).body or (
        link == "/account"
    )
