"""The committed JSON Schemas are the contract: a change that breaks a consumer fails here."""

import json
from copy import deepcopy

import pytest

from portal_contracts.registry import EVENT_CLASSES, parse_event
from portal_contracts.schemas import SCHEMA_DIR, breaking_changes, current_schemas


@pytest.mark.parametrize("path", sorted(current_schemas()), ids=lambda p: p.name)
def test_every_event_has_a_committed_schema_that_matches(path):
    schema = current_schemas()[path]
    assert path.exists(), f"{path.name} is not committed: run `make schemas`"
    committed = json.loads(path.read_text())
    assert breaking_changes(committed, schema) == []
    assert committed == schema, f"{path.name} is stale: run `make schemas` and commit it"


@pytest.mark.parametrize("path", sorted(SCHEMA_DIR.glob("*.json")), ids=lambda p: p.name)
def test_no_committed_schema_is_orphaned(path):
    event_type, version = path.stem.rsplit(".v", 1)
    assert event_type in EVENT_CLASSES, f"{path.name}: event type no longer exists"
    assert int(version) <= EVENT_CLASSES[event_type].schema_version


def _schema(name="WalletCredited"):
    return deepcopy(json.loads((SCHEMA_DIR / f"{name}.v1.json").read_text()))


def test_removing_a_field_is_breaking():
    old, new = _schema(), _schema()
    del new["properties"]["reference"]
    assert any("removed" in p for p in breaking_changes(old, new))


def test_changing_a_type_is_breaking():
    old, new = _schema(), _schema()
    new["properties"]["amount"] = {"type": "number"}
    assert any("changed type" in p for p in breaking_changes(old, new))


def test_adding_a_required_field_is_breaking():
    old, new = _schema(), _schema()
    new["properties"]["note"] = {"type": "string"}
    new["required"].append("note")
    assert breaking_changes(old, new) == ["field 'note' became required"]


def test_adding_an_optional_field_is_not_breaking():
    old, new = _schema(), _schema()
    new["properties"]["note"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert breaking_changes(old, new) == []


def test_making_a_field_nullable_is_breaking_for_consumers():
    old, new = _schema(), _schema()
    new["properties"]["reference"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert any("changed type" in p for p in breaking_changes(old, new))


def test_adding_an_enum_value_is_breaking():
    old, new = _schema(), _schema()
    new["properties"]["reason"]["enum"].append("gift")
    assert any("gained values" in p for p in breaking_changes(old, new))


def test_events_ignore_unknown_fields_from_newer_producers():
    event = parse_event(
        "WalletOpened",
        1,
        {"account_id": "a1", "currency": "VND", "occurred_at": "2026-01-01T00:00:00Z", "x": 1},
    )
    assert event.account_id == "a1"  # type: ignore[attr-defined]


def test_money_rejects_a_currency_that_is_not_iso_4217():
    with pytest.raises(ValueError):
        parse_event(
            "WalletOpened",
            1,
            {"account_id": "a1", "currency": "dong", "occurred_at": "2026-01-01T00:00:00Z"},
        )
