"""OpenAPI-driven tenant isolation (BOLA) test.

Walks every public route that takes an object id. Account A's objects are found through
the list route that is the path's parent (`/x/{id}` <- `GET /x` items). For each method
on the route, account B presenting A's id must get exactly what it gets for an id that
does not exist (same status and problem code: nothing leaks), and A's object must be
unchanged. A new route with an id is covered automatically once its parent list route
returns A's objects; a route that cannot be covered must be listed in NOT_OBJECT_ROUTES
with the reason.
"""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest

from portal_tests.e2e import Customer, paid, webhook
from portal_tests.openapi import http_methods

pytestmark = pytest.mark.e2e

NOT_OBJECT_ROUTES = {
    "/api/v1/payments/webhooks/{provider}": "a provider name, not an account object",
    "/api/v1/auth/qr/{challenge_id}": "anonymous challenge, guarded by its poll token",
    "/api/v1/auth/session/qr/{challenge_id}": "the same challenge polled by the web portal",
    "/api/v1/auth/qr/{challenge_id}/approve": "any logged-in app may approve a code it scanned;"
    " the web session then belongs to the approver, never to the code's creator",
    "/api/v1/auth/qr/{challenge_id}/request": "any logged-in app may look at who asked for a"
    " code it scanned before approving it; once approved, other users get 404",
    "/api/v1/plans/{plan_id}": "the plan catalogue is shared by every account",
    "/api/v1/plans/{plan_id}/retire": "the plan catalogue is shared (billing admins only)",
}
STAFF_ONLY_PREFIX = ("/api/v1/crm/", "/api/v1/staff/")
"""The CRM and the staff back office are for platform staff: every customer gets 403 there
(tests/e2e/test_crm.py, test_wallet_top_up.py)."""
PARAM = re.compile(r"\{(\w+)\}")


def seed(a: Customer, base_url: str) -> None:
    """Give account A at least one object behind every list route."""
    ref = a.top_up(120_000).json()["payment"]["reference"]
    webhook(base_url, paid(ref, 120_000))
    r = a.http.post(
        "/api/v1/account/users",
        json={"email": f"member-{uuid.uuid4().hex[:8]}@example.com", "role": "staff"},
    )
    assert r.status_code == 201, r.text
    r = a.http.post(
        "/api/v1/repairs",
        json={
            "model": "iPhone 15",
            "serial": f"SN{uuid.uuid4().hex[:8]}",
            "problem": "cracked screen",
            "adapter_included": False,
            "delivery_method": "drop_off",
            "delivery_date": "2026-11-22",
            "deliverer_name": "A",
            "deliverer_contact": "0912345678",
            "branch_id": "HCM-Q1",
            "return_method": "pickup",
        },
    )
    assert r.status_code == 201, r.text
    r = a.http.post(
        "/api/v1/tickets",
        json={"department": "technical", "title": "Site down", "content": "502 since noon"},
    )
    assert r.status_code == 201, r.text
    # Billing: a paid order (subscription, contract) and an unpaid one with a payment claim.
    deadline = time.monotonic() + 30
    while a.http.get("/api/v1/wallet").json()["balance"] < 120_000:
        assert time.monotonic() < deadline, "the top-up never arrived"
        time.sleep(0.2)
    order = a.http.post("/api/v1/orders", json={"plan_id": "host-sup", "months": 1}).json()
    r = a.http.post(f"/api/v1/invoices/{order['id']}/pay", json={"method": "wallet"})
    assert r.status_code == 200 and r.json()["status"] == "paid", r.text
    order = a.http.post("/api/v1/orders", json={"plan_id": "host-sup", "months": 1}).json()
    r = a.http.post(
        f"/api/v1/invoices/{order['id']}/payment-confirmation",
        json={"reference": "FT-SEED-1", "amount": 100_000},
    )
    assert r.status_code == 201, r.text


def ids_from_list(client: httpx.Client, list_path: str, param: str) -> list[str]:
    r = client.get(list_path)
    if r.status_code != 200:
        return []
    items = r.json().get("items", []) if isinstance(r.json(), dict) else []
    return [
        str(item.get(param) or item.get("id"))
        for item in items
        if item.get(param) or item.get("id")
    ]


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    body = None if method in ("get", "delete") else {}
    return client.request(method.upper(), path, json=body)


CLOCK_DERIVED = frozenset({"resolution_elapsed_seconds", "days_left"})
"""Fields that move with the clock alone (a running SLA clock, days left of a contract)."""


def settled(r: httpx.Response) -> object:
    """A response without the fields that change while nothing happens."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in CLOCK_DERIVED}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    if r.headers.get("content-type", "").startswith(("application/json", "application/problem")):
        return strip(r.json())
    return r.content


def fingerprint(r: httpx.Response) -> tuple[int, str | None]:
    code = None
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        code = r.json().get("code")
    return r.status_code, code


def test_account_b_cannot_read_change_or_delete_account_a_objects(platform):
    url = platform["url"]
    schema = httpx.get(f"{url}/schema/openapi.json").json()
    a, b = Customer(url), Customer(url)
    seed(a, url)

    covered = []
    for path, operations in sorted(schema["paths"].items()):
        params = PARAM.findall(path)
        if not params or path in NOT_OBJECT_ROUTES or path.startswith(STAFF_ONLY_PREFIX):
            continue
        prefix = path[: path.index("{" + params[0] + "}")].rstrip("/")
        ids = ids_from_list(a.http, prefix, params[0])
        assert ids, (
            f"{path}: account A has no object listed at GET {prefix}; add a list "
            "route, seed an object in seed(), or explain in NOT_OBJECT_ROUTES"
        )
        for object_id in ids[:3]:
            # Nested ids (/x/{a}/y/{b}) sit under A's outer object, which B must not reach
            # whatever the inner id is: fill them with ids that exist nowhere.
            inner = {p: f"no-such-{uuid.uuid4().hex}" for p in params[1:]}
            concrete = fill(path, {params[0]: object_id, **inner})
            missing = fill(path, {params[0]: f"no-such-{uuid.uuid4().hex}", **inner})
            before = a.http.get(concrete) if "get" in operations else None
            for method in http_methods(operations):
                theirs, nobodys = call(b.http, method, concrete), call(b.http, method, missing)
                assert theirs.status_code >= 400, (method, concrete, theirs.text)
                assert theirs.status_code != 500, (method, concrete, theirs.text)
                assert fingerprint(theirs) == fingerprint(nobodys), (
                    f"{method.upper()} {path}: B learns that A's object exists",
                    theirs.text,
                    nobodys.text,
                )
                assert object_id not in theirs.text
            if before is not None:
                after = a.http.get(concrete)
                assert (after.status_code, settled(after)) == (
                    before.status_code,
                    settled(before),
                ), (path, before.text[:1500], after.text[:1500])
            covered.append(path)
    assert "/api/v1/wallet/top-ups/{top_up_id}" in covered
    assert "/api/v1/account/users/{user_id}" in covered
    assert "/api/v1/repairs/{repair_id}/approve" in covered
    assert "/api/v1/tickets/{ticket_id}/replies" in covered
    assert "/api/v1/invoices/{invoice_id}/pay" in covered
    assert "/api/v1/subscriptions/{subscription_id}/upgrade" in covered
    assert "/api/v1/payment-claims/{claim_id}/approve" in covered
    assert "/api/v1/contracts/{subscription_id}/documents/{document}" in covered


def test_every_route_needs_a_token_except_the_public_ones(platform):
    url = platform["url"]
    schema = httpx.get(f"{url}/schema/openapi.json").json()
    public = {
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/login/2fa",  # its proof is the mfa_token from the password step
        "/api/v1/auth/refresh",
        "/api/v1/auth/jwks",
        "/.well-known/jwks.json",  # the same public keys, where OpenID clients look
        "/api/v1/auth/qr",
        "/api/v1/auth/qr/{challenge_id}",
        "/api/v1/auth/invitations/accept",
        # The mailed links' proofs are their tokens; "forgot" answers the same to anyone.
        "/api/v1/auth/password/forgot",
        "/api/v1/auth/password/reset",
        "/api/v1/auth/email/verify",
        "/api/v1/notifications/unsubscribe",  # its proof: the token signed for a mailbox
        "/api/v1/payments/webhooks/{provider}",
        # The web portal's sign-in (its proofs: password, code, poll token, session cookie;
        # without the X-Portal-Session header each answers 403 before anything else).
        "/api/v1/auth/session/login",
        "/api/v1/auth/session/login/2fa",
        "/api/v1/auth/session/qr/{challenge_id}",
        "/api/v1/auth/session/refresh",
        "/api/v1/auth/session/logout",
    }
    public_reads = {"/api/v1/plans", "/api/v1/plans/{plan_id}"}  # the price list
    for path, operations in schema["paths"].items():
        if path in public:
            continue
        concrete = PARAM.sub("x", path)
        for method in http_methods(operations):
            if method == "get" and path in public_reads:
                continue
            r = httpx.request(method.upper(), f"{url}{concrete}", json={})
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.json()["code"] == "unauthenticated"


def test_openapi_lists_every_public_path_of_the_design(platform):
    paths = set(httpx.get(f"{platform['url']}/schema/openapi.json").json()["paths"])
    design = {
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/qr",
        "/api/v1/auth/qr/{challenge_id}/approve",
        "/api/v1/auth/qr/{challenge_id}",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/dashboard",
        "/api/v1/wallet/top-ups",
        "/api/v1/wallet",
        "/api/v1/wallet/transactions",
        "/api/v1/payments/webhooks/{provider}",
        "/api/v1/plans",
        "/api/v1/orders",
        "/api/v1/subscriptions",
        "/api/v1/subscriptions/{subscription_id}/renew",
        "/api/v1/subscriptions/{subscription_id}/upgrade",
        "/api/v1/invoices",
        "/api/v1/invoices/{invoice_id}",
        "/api/v1/invoices/{invoice_id}/pay",
        "/api/v1/invoices/{invoice_id}/payment-confirmation",
        "/api/v1/contracts",
        "/api/v1/timeline",
        "/api/v1/crm/contacts",
        "/api/v1/crm/customers",
        "/api/v1/crm/care-activities",
        "/api/v1/crm/care-types",
    }
    assert design <= paths, design - paths
