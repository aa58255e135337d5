"""The public OpenAPI the gateway serves: merged from the services' typed schemas, up to
date, and describing every body, answer and error of every public operation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portal_gateway.docs import PUBLIC_OPENAPI
from portal_gateway.routing import PREFIXES, Access
from portal_tests import openapi

WRITES = ("post", "put", "patch", "delete")
# Writes that take no body at all: the path and the token say everything.
BODILESS = {
    ("post", "/api/v1/auth/keys/rotate"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/session/logout"),
    ("post", "/api/v1/auth/session/refresh"),  # the cookie is the credential
    ("post", "/api/v1/auth/qr"),
    ("post", "/api/v1/me/2fa"),
    ("post", "/api/v1/me/email/verification"),
    ("delete", "/api/v1/me/sessions/{session_id}"),
    ("post", "/api/v1/me/sessions/end-others"),
    ("delete", "/api/v1/account/users/{user_id}"),
    ("delete", "/api/v1/crm/contacts/{contact_id}"),
    ("post", "/api/v1/crm/contacts/{contact_id}/convert"),
    ("post", "/api/v1/crm/contacts/{contact_id}/restore"),
    ("delete", "/api/v1/crm/care-activities/{activity_id}"),
    ("post", "/api/v1/crm/care-activities/{activity_id}/restore"),
    ("delete", "/api/v1/crm/care-types/{care_type_id}"),
    ("post", "/api/v1/invoices/{invoice_id}/cancel"),
    ("post", "/api/v1/notifications/read-all"),
    # RFC 8058 one-click: the token in the query; mail clients send a form body it ignores.
    ("post", "/api/v1/notifications/unsubscribe"),
    ("post", "/api/v1/notifications/{notification_id}/read"),
    ("post", "/api/v1/payment-claims/{claim_id}/approve"),
    ("post", "/api/v1/plans/{plan_id}/retire"),
    ("post", "/api/v1/staff/wallet/holds/{hold_id}/refund"),
    ("post", "/api/v1/staff/wallet/holds/{hold_id}/release"),
}
# Raw bytes (a logo) and files are described by their media type.
NOT_JSON = {("put", "/api/v1/me/logo"), ("post", "/api/v1/repairs/{repair_id}/photos")}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(PUBLIC_OPENAPI.read_text())  # type: ignore[no-any-return]


operations = openapi.operations


def test_the_committed_document_is_what_the_services_describe_today() -> None:
    assert PUBLIC_OPENAPI.read_text() == openapi.render(), (
        "gateway/src/portal_gateway/openapi.json is stale: run `make schemas`"
    )


def test_every_public_prefix_has_operations_and_nothing_internal_is_public(document) -> None:
    paths = document["paths"]
    for prefix in PREFIXES:
        assert any(p == prefix.public or p.startswith(prefix.public + "/") for p in paths), prefix
    assert "/api/v1/auth/service-token" not in paths  # services call it, people never
    assert not [p for p in paths if p.startswith("/api/v1/billing/") and "settings" not in p]
    assert not [p for p in paths if "/v1/wallets/" in p]  # service-to-service money routes
    assert len(operations(document)) > 120


def test_every_write_with_a_body_describes_it(document) -> None:
    missing = []
    for method, path, op in operations(document):
        if (method, path) in BODILESS:
            assert "requestBody" not in op, (method, path)  # the list stays exact
            continue
        if method not in WRITES:
            continue
        content = op.get("requestBody", {}).get("content", {})
        if (method, path) in NOT_JSON:
            assert content, (method, path)
            continue
        schema = content.get("application/json", {}).get("schema", {})
        if not (schema.get("$ref") or schema.get("properties")):
            missing.append((method, path))
    assert missing == []


def test_every_operation_describes_its_answer(document) -> None:
    missing = []
    for method, path, op in operations(document):
        ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        if list(ok) == ["204"]:
            continue
        contents = [r.get("content", {}) for r in ok.values()]
        if not ok or not all(c and all(v.get("schema") for v in c.values()) for c in contents):
            missing.append((method, path))
    assert missing == []


def test_errors_are_problem_json_with_their_codes(document) -> None:
    assert set(document["components"]["schemas"]["Problem"]["required"]) >= {"status", "code"}
    for method, path, op in operations(document):
        errors = {s: r for s, r in op["responses"].items() if s[0] in "45"}
        assert {"400", "401", "403", "429", "503"} <= set(errors), (method, path)
        for status, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], (path, status)
            assert "Codes: `" in response["description"], (path, status)
        if "{" in path:
            assert "404" in errors, (method, path)
        if method in WRITES:
            assert {"409", "422"} <= set(errors), (method, path)


def test_security_and_idempotency_are_declared(document) -> None:
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    anonymous = [p.public for p in PREFIXES if p.access is Access.ANONYMOUS]
    for method, path, op in operations(document):
        if any(path.startswith(a) for a in anonymous):
            assert op["security"] == [], path
        elif path.startswith("/api/v1/plans") and method == "get":
            assert op["security"] == [{}, {"bearer": []}], path
        else:
            assert op["security"] == [{"bearer": []}], (method, path)
            assert "401" in op["responses"], (method, path)
        keys = [
            p for p in op.get("parameters", []) if p.get("$ref", "").endswith("/IdempotencyKey")
        ]
        assert len(keys) == (1 if method in WRITES else 0), (method, path)


def test_lists_answer_pages(document) -> None:
    schemas = document["components"]["schemas"]
    pages = [name for name in schemas if name.startswith("Page_")]
    assert pages
    for name in pages:
        assert set(schemas[name]["required"]) >= {"items", "total", "limit", "offset"}, name


def test_each_operation_lists_the_domain_codes_its_code_raises(document) -> None:
    def codes(path: str, method: str, status: str) -> list[str]:
        return document["paths"][path][method]["responses"][status]["x-problem-codes"]  # type: ignore[no-any-return]

    pay = "/api/v1/invoices/{invoice_id}/pay"
    assert {"invoice_not_payable", "payment_in_progress"} <= set(codes(pay, "post", "409"))
    assert "amount_exceeds_due" in codes(pay, "post", "422")
    assert "invoice_not_found" in codes(pay, "post", "404")
    # A browser sign-in forwards to the JSON login: it answers the login's codes too.
    for login in ("/api/v1/auth/login", "/api/v1/auth/session/login"):
        assert "invalid_credentials" in codes(login, "post", "401")
        assert "too_many_attempts" in codes(login, "post", "429")
    refresh = "/api/v1/auth/session/refresh"  # a guard's refusals count too
    assert {"csrf_header_required", "cross_origin_refused"} <= set(codes(refresh, "post", "403"))
    assert "challenge_expired" in codes("/api/v1/auth/qr/{challenge_id}/approve", "post", "410")
    # Codes stay with their operations: a ticket route does not list invoice refusals.
    assert "invoice_not_payable" not in codes("/api/v1/tickets", "post", "409")


def test_every_listed_code_is_in_the_description(document) -> None:
    for method, path, op in operations(document):
        for status, answer in op["responses"].items():
            for code in answer.get("x-problem-codes", []):
                assert f"`{code}`" in answer["description"], (method, path, status, code)
