"""Timeline titles: the English title, and the key and values a front end words it with."""

from __future__ import annotations

from datetime import UTC, datetime
from string import Formatter

import pytest

from portal_contracts.events.billing import AutoRenewChanged
from portal_contracts.events.crm import CareActionRecorded
from portal_contracts.events.wallet import TopUpCompleted, WalletOpened
from portal_contracts.registry import event_class
from portal_crm.timeline import MONEY, TITLES, title_of, wording

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def top_up(amount: int) -> TopUpCompleted:
    return TopUpCompleted(
        occurred_at=NOW,
        account_id="acc-1",
        top_up_id="t-1",
        provider="sandbox",
        reference="TOPUP-1",
        provider_event_id="evt-1",
        amount_requested=amount,
        amount_received=amount,
        currency="VND",
    )


def care(value: int) -> CareActionRecorded:
    return CareActionRecorded.model_validate(
        {
            "occurred_at": NOW,
            "contact_id": "acc-1",
            "action_id": "a-1",
            "care_type_id": "ct-1",
            "care_type_name": "Tặng điểm",
            "action": "give_points",
            "value": value,
            "recorded_by": "staff-1",
        }
    )


def test_money_is_formatted_in_the_title_and_kept_as_a_number_with_its_currency():
    event = top_up(1_234_567)
    assert title_of(event) == "Top-up of 1.234.567 VND completed"
    assert wording(event) == (
        "TopUpCompleted",
        {"amount_received": 1_234_567, "currency": "VND"},
    )


def test_variants_have_their_own_key():
    off = AutoRenewChanged(occurred_at=NOW, account_id="acc-1", subscription_id="s-1", months=None)
    on = AutoRenewChanged(occurred_at=NOW, account_id="acc-1", subscription_id="s-1", months=3)
    assert wording(off) == ("AutoRenewChanged.off", {})
    assert title_of(off) == "Automatic renewal turned off"
    assert wording(on) == ("AutoRenewChanged", {"months": 3})
    assert title_of(on) == "Automatic renewal on, 3 month(s) at a time"
    assert wording(care(0)) == ("CareActionRecorded", {"care_type_name": "Tặng điểm"})
    assert title_of(care(50)) == "Care: Tặng điểm (50)"
    assert wording(care(50)) == (
        "CareActionRecorded.valued",
        {"care_type_name": "Tặng điểm", "value": 50},
    )


def test_an_event_without_a_wording_is_titled_by_its_type():
    opened = WalletOpened.model_validate(
        {"occurred_at": NOW, "account_id": "acc-1", "currency": "VND"}
    )
    assert wording(opened) is None
    assert title_of(opened) == "WalletOpened"


@pytest.mark.parametrize("key", sorted(TITLES))
def test_every_wording_names_fields_its_event_has(key):
    """A renamed or mistyped field would word every such entry with an empty value."""
    fields = event_class(key.split(".")[0]).model_fields
    names = [name for _, name, _, _ in Formatter().parse(TITLES[key]) if name]
    assert set(names) <= set(fields), set(names) - set(fields)
    if MONEY.intersection(names):
        assert "currency" in fields
