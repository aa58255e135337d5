"""Messages from Jinja2 templates, one file per template and language
(`templates/<language>/<template>.j2`, blocks `subject` and `body`).

StrictUndefined: a variable a template uses and the notice does not carry raises at
render time, and the tests render every template in every language (tests/test_rendering.py)
and every trigger's notice, so such a mistake fails a test, not a send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from portal_notifications.domain import DEFAULT_LANGUAGE, LANGUAGES, Recipient

TEMPLATE_DIR = Path(__file__).parent / "templates"

TEMPLATES = (
    "top_up_received",
    "invoice_issued",
    "invoice_partially_paid",
    "invoice_paid",
    "payment_claim_received",
    "payment_claim_approved",
    "payment_claim_rejected",
    "ticket_staff_reply",
    "repair_ready",
    "email_verification",
    "password_reset",
    "password_changed",
    "two_factor_changed",
    "new_device_sign_in",
    "subscription_expiring",
    "subscription_expired",
    "ticket_opened",
    "ticket_customer_reply",
    "ticket_sla_breached",
    "lead_assigned",
    "care_due_today",
    "digest",
)

UNSUBSCRIBE_FOOTERS = {
    "vi": "--\nKhông muốn nhận loại thư này nữa? Hủy đăng ký: {url}",
    "en": "--\nDon't want these emails? Unsubscribe: {url}",
}
"""Below every mail that can be switched off (never below security mails or receipts)."""

TIME_FORMATS = {"vi": "%H:%M %d/%m/%Y", "en": "%d %b %Y, %H:%M"}
DAY_FORMATS = {"vi": "%d/%m/%Y", "en": "%d %b %Y"}


def money(value: dict[str, Any]) -> str:
    """`{"amount": 1234567, "currency": "VND"}` -> `1.234.567 ₫` (integer minor units)."""
    amount, currency = int(value["amount"]), str(value["currency"])
    sign = "-" if amount < 0 else ""
    if currency == "VND":  # no minor unit
        return f"{sign}{abs(amount):,}".replace(",", ".") + " ₫"
    major, minor = divmod(abs(amount), 100)
    return f"{sign}{major:,}".replace(",", ".") + f",{minor:02d} {currency}"


@pass_context
def local_time(context: Context, value: datetime) -> str:
    """An instant in the recipient's time zone, written the way their language does."""
    zone = ZoneInfo(context["time_zone"])
    language = context["language"]
    return value.astimezone(zone).strftime(TIME_FORMATS[language])


@pass_context
def day(context: Context, value: date) -> str:
    """A business day (already in the business's zone), written the way the language does."""
    return value.strftime(DAY_FORMATS[context["language"]])


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    language: str


class Renderer:
    def __init__(self, portal_url: str, template_dir: Path = TEMPLATE_DIR) -> None:
        self.portal_url = portal_url.rstrip("/")
        self.env = Environment(
            loader=FileSystemLoader(template_dir),
            undefined=StrictUndefined,
            autoescape=False,  # plain-text mail and in-app text; nothing goes into HTML
            keep_trailing_newline=False,
        )
        self.env.filters["money"] = money
        self.env.filters["local_time"] = local_time
        self.env.filters["day"] = day

    def render(self, template: str, data: dict[str, Any], recipient: Recipient) -> Message:
        language = recipient.language if recipient.language in LANGUAGES else DEFAULT_LANGUAGE
        compiled = self.env.get_template(f"{language}/{template}.j2")
        context = compiled.new_context(
            {
                **data,
                "recipient_name": recipient.name,
                "portal_url": self.portal_url,
                "language": language,
                "time_zone": recipient.time_zone,
            }
        )
        subject = "".join(compiled.blocks["subject"](context)).strip()
        body = "".join(compiled.blocks["body"](context)).strip() + "\n"
        return Message(subject, body, language)

    def with_unsubscribe(self, message: Message, url: str) -> Message:
        footer = UNSUBSCRIBE_FOOTERS[message.language].format(url=url)
        return Message(message.subject, f"{message.body}\n{footer}\n", message.language)
