"""The plans a fresh installation sells (seed 000/002: hosting, domains, software licences).

Published through the normal command on start-up; publishing the same plan again is a
no-op, so restarts and several replicas are harmless.
"""

from __future__ import annotations

from typing import Any

from portal_contracts.events.billing import PeriodPrice

_STANDARD = (
    PeriodPrice(months=1),
    PeriodPrice(months=3),
    PeriodPrice(months=6, discount_percent=5),
    PeriodPrice(months=12, discount_percent=10),
    PeriodPrice(months=24, discount_percent=15),
)
_YEARLY = (PeriodPrice(months=12), PeriodPrice(months=24, discount_percent=10))


def _plan(
    code: str,
    name: str,
    category: str,
    tier: str,
    monthly: int,
    periods: Any,
    sectors: tuple[str, ...],
    trial_days: int = 0,
) -> dict[str, Any]:
    return {
        "plan_id": code.lower(),
        "code": code,
        "name": name,
        "category": category,
        "tier": tier,
        "monthly_price": monthly,
        "periods": periods,
        "sectors": sectors,
        "trial_days": trial_days,
    }


# Who each plan suits (suggested to accounts of these sectors, see domain.SECTORS).
_SHOPS = ("retail", "fashion", "food_beverage")
_WEB = ("hosting", "services", "it_repair")
_ALL = (*_SHOPS, *_WEB)

SEED_PLANS: list[dict[str, Any]] = [
    _plan("HOST-SUP", "Hosting Support", "hosting", "support", 100_000, _STANDARD, _WEB),
    _plan("HOST-PRO", "Hosting Professional", "hosting", "professional", 200_000, _STANDARD, _WEB),
    _plan("HOST-PREM", "Hosting Premium", "hosting", "premium", 400_000, _STANDARD, ("hosting",)),
    # The store software is tried before it is bought (seed 002: "đang dùng thử").
    _plan(
        "SW-SUP",
        "Store software Support",
        "software",
        "support",
        150_000,
        _STANDARD,
        (*_SHOPS, "services"),
        trial_days=14,
    ),
    _plan(
        "SW-PRO",
        "Store software Professional",
        "software",
        "professional",
        250_000,
        _STANDARD,
        _SHOPS,
        trial_days=14,
    ),
    _plan(
        "SW-PREM",
        "Store software Premium",
        "software",
        "premium",
        450_000,
        _STANDARD,
        _SHOPS,
        trial_days=14,
    ),
    _plan("DOMAIN-VN", "Domain .vn", "domain", "support", 45_000, _YEARLY, _ALL),
]
