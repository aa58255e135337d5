"""Every list query of a running service has its index, created at startup.

FerretDB v1 scans whatever the indexes, so this checks the declaration reached the
database; on a real MongoDB those indexes keep a customer's list page off other
tenants' rows.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal_billing.deps import READ_MODEL_INDEXES as BILLING
from portal_crm.deps import READ_MODEL_INDEXES as CRM
from portal_repairs.deps import READ_MODEL_INDEXES as REPAIRS
from portal_tickets.deps import READ_MODEL_INDEXES as TICKETS

pytestmark = pytest.mark.e2e

DECLARED = {"billing_db": BILLING, "crm_db": CRM, "repairs_db": REPAIRS, "tickets_db": TICKETS}


@pytest.mark.parametrize("db_key", sorted(DECLARED))
def test_the_running_service_created_its_read_model_indexes(platform, db_key: str) -> None:
    db = platform[db_key]
    for collection, models in DECLARED[db_key].items():
        present: dict[str, Any] = {i["name"]: i["key"] for i in db[collection].list_indexes()}
        for model in models:
            name = model.document["name"]
            assert name in present, f"{db_key}.{collection} lacks index {name}"
            assert dict(present[name]) == dict(model.document["key"]), name


def test_identity_indexes_its_lookups_and_the_throttle_purge(platform) -> None:
    db = platform["identity_db"]
    assert "account" in {i["name"] for i in db["emails"].list_indexes()}
    assert "at" in {i["name"] for i in db["login_attempts"].list_indexes()}
    assert "expires" in {i["name"] for i in db["login_throttle"].list_indexes()}
