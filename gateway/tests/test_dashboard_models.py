"""The dashboards' typed answers send exactly what the parts rendered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal_gateway.dashboard_models import CustomerDashboard, StaffDashboard, undeclared

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _board(**sections: Any) -> dict[str, Any]:
    return {
        "account_id": "acc-1",
        "updated_at": None,
        "projection": {"lag_seconds": 0.5, "as_of": NOW},
        **sections,
    }


def test_sections_the_user_may_not_see_stay_absent_not_null() -> None:
    answer = CustomerDashboard.model_validate(_board()).model_dump(mode="json")
    assert set(answer) == {"account_id", "updated_at", "projection"}
    assert answer["updated_at"] is None  # rendered as null: sent as null


def test_a_full_board_round_trips_unchanged() -> None:
    board = _board(
        wallet={
            "balance": 1_900_000,
            "currency": "VND",
            "total_topped_up": 2_000_000,
            "top_ups_completed": 1,
            "top_ups_failed": 0,
        },
        recent_transactions=[
            {
                "id": "tx-1",
                "kind": "debit",
                "amount": 100_000,
                "currency": "VND",
                "balance_after": 1_900_000,
                "reason": "invoice_payment",
                "reference": "inv-1",
                "occurred_at": "2026-11-30T09:00:00Z",
            }
        ],
        tickets={"open": 1, "latest": [{"id": "t-1", "number": "T-1", "status": "open"}]},
    )
    answer = CustomerDashboard.model_validate(board).model_dump(mode="json")
    assert answer["wallet"] == board["wallet"]
    assert answer["recent_transactions"][0]["occurred_at"].startswith("2026-11-30T09:00:00")
    assert answer["tickets"]["latest"] == [{"id": "t-1", "number": "T-1", "status": "open"}]
    assert undeclared(CustomerDashboard, answer) == []


def test_undeclared_keys_are_passed_on_and_named() -> None:
    board = _board(tickets={"open": 0, "latest": [{"id": "t-1", "colour": "red"}]}, mood="good")
    answer = CustomerDashboard.model_validate(board).model_dump(mode="json")
    assert answer["mood"] == "good" and answer["tickets"]["latest"][0]["colour"] == "red"
    assert sorted(undeclared(CustomerDashboard, answer)) == ["mood", "tickets.latest.colour"]


def test_the_staff_board_declares_every_part() -> None:
    board = {
        "wallet": {"top_ups_completed": 2, "top_ups_failed": 1, "topped_up": {"VND": 5}},
        "billing": {
            "active_subscriptions": 0,
            "active_by_category_and_tier": {},
            "expiring_soon": 0,
            "orders_per_month": [{"month": "2026-11", "orders": 3}],
            "payment_claims_open": 0,
            "payment_claims_overdue": 0,
        },
        "crm": {
            "care_activities_due_today": 0,
            "care_activities_overdue": 0,
            "leads_unassigned": 0,
            "customers_by_level": {"gold": 1},
        },
        "tickets": {
            "by_status": {},
            "by_department": {},
            "sla_breaches": {"first_response": 1},
            "oldest_waiting": None,
        },
        "repairs": {
            "open": 0,
            "by_step": {},
            "by_branch": {},
            "waiting_for_quote_approval": 0,
            "overdue": 0,
        },
        "projection": {"lag_seconds": None, "as_of": NOW},
    }
    answer = StaffDashboard.model_validate(board).model_dump(mode="json")
    assert undeclared(StaffDashboard, answer) == []
    assert answer["billing"]["orders_per_month"] == [{"month": "2026-11", "orders": 3}]
