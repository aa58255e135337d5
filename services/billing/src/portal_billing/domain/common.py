"""Stream ids and date/number helpers shared by the billing aggregates."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Literal, get_args

from portal_contracts.events.billing import (
    Tier,
)

TIERS: tuple[Tier, ...] = ("support", "professional", "premium")
Sector = Literal["retail", "fashion", "food_beverage", "services", "hosting", "it_repair"]
SECTORS: tuple[str, ...] = get_args(Sector)
"""Business sectors of the source documents' customers: shops (retail, fashion, food and
beverage), service businesses, website owners (hosting) and repair and IT shops."""
ALLOWED_PERIODS = (1, 3, 6, 12, 24)
PLATFORM = "platform"


def plan_stream(plan_id: str) -> str:
    return f"plan-{plan_id}"


def invoice_stream(invoice_id: str) -> str:
    return f"invoice-{invoice_id}"


def subscription_stream(subscription_id: str) -> str:
    return f"subscription-{subscription_id}"


def account_stream(account_id: str) -> str:
    return f"billing-account-{account_id}"


def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)
