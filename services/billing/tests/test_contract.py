"""Billing's typed HTTP contract, read from its own OpenAPI (no connection is made), and the
boundary itself with the use cases recorded instead of run."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date
from typing import Any
from unittest.mock import MagicMock

import pytest
from litestar.testing import TestClient
from pydantic import BaseModel

from portal_billing import catalogue, claims, main, orders, payments, queries, renewals
from portal_billing.api import (
    BillingAccountController,
    ClaimsController,
    InvoicesController,
    OrdersController,
    PlansController,
    SubscriptionsController,
)
from portal_billing.deps import Deps, PaymentInProgress, build_deps
from portal_billing.models import (
    ClaimIn,
    InvoiceOut,
    PayIn,
    PeriodIn,
    PlanIn,
    PlansOut,
    SettingsOut,
)
from portal_billing.settings import BillingSettings
from portal_chassis.auth import Principal
from portal_chassis.clock import SystemClock
from portal_chassis.contract import FileIn
from portal_chassis.web import create_app
from portal_tests.use_cases import record_use_cases

JSON = "application/json"
WRITES = {"post", "put", "patch", "delete"}
# The whole route table: a route added without a contract shows up here first.
OPERATIONS = {
    ("get", "/v1/plans"),
    ("post", "/v1/plans"),
    ("get", "/v1/plans/{plan_id}"),
    ("put", "/v1/plans/{plan_id}"),
    ("post", "/v1/plans/{plan_id}/retire"),
    ("get", "/v1/orders"),
    ("post", "/v1/orders"),
    ("get", "/v1/subscriptions"),
    ("get", "/v1/subscriptions/{subscription_id}"),
    ("post", "/v1/subscriptions/{subscription_id}/renew"),
    ("put", "/v1/subscriptions/{subscription_id}/auto-renew"),
    ("get", "/v1/subscriptions/{subscription_id}/upgrade-preview"),
    ("post", "/v1/subscriptions/{subscription_id}/upgrade"),
    ("get", "/v1/contracts"),
    ("get", "/v1/contracts/{subscription_id}"),
    ("get", "/v1/contracts/{subscription_id}/documents/{document}"),
    ("get", "/v1/invoices"),
    ("get", "/v1/invoices/{invoice_id}"),
    ("get", "/v1/invoices/{invoice_id}/pdf"),
    ("post", "/v1/invoices/{invoice_id}/pay"),
    ("post", "/v1/invoices/{invoice_id}/cancel"),
    ("post", "/v1/invoices/{invoice_id}/refund"),
    ("post", "/v1/invoices/{invoice_id}/payment-confirmation"),
    ("get", "/v1/purchases"),
    ("get", "/v1/payment-claims"),
    ("get", "/v1/payment-claims/{claim_id}"),
    ("get", "/v1/payment-claims/{claim_id}/proof"),
    ("post", "/v1/payment-claims/{claim_id}/approve"),
    ("post", "/v1/payment-claims/{claim_id}/reject"),
    ("get", "/v1/billing/settings"),
    ("put", "/v1/billing/settings"),
    ("get", "/v1/billing/codes/{code}"),
    ("post", "/v1/billing/expiry-check"),
}
# Writes that need nothing but the path: they take no body at all.
BODILESS = {
    ("post", "/v1/plans/{plan_id}/retire"),
    ("post", "/v1/invoices/{invoice_id}/cancel"),
    ("post", "/v1/payment-claims/{claim_id}/approve"),
    ("post", "/v1/billing/expiry-check"),
}
# Downloads answer bytes of their own media type, never JSON.
DOWNLOADS = {
    ("get", "/v1/contracts/{subscription_id}/documents/{document}"): {
        "application/pdf",
        "text/html",
    },
    ("get", "/v1/invoices/{invoice_id}/pdf"): {"application/pdf"},
    ("get", "/v1/payment-claims/{claim_id}/proof"): {"image/png", "image/jpeg", "application/pdf"},
}
# A payment whose wallet answer is pending is answered 202 (with the same invoice).
TWO_ANSWERS = {("post", "/v1/invoices/{invoice_id}/pay"): {"200", "202"}}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return main.create().openapi_schema.to_schema()  # type: ignore[no-any-return]


def _operations(openapi: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): op
        for path, item in openapi["paths"].items()
        if path.startswith("/v1/")
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.removeprefix("#/components/schemas/")
    assert name in openapi["components"]["schemas"], f"dangling {ref}"
    return openapi["components"]["schemas"][name]  # type: ignore[no-any-return]


def _untyped(
    openapi: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]
) -> list[str]:
    """Every place under `schema` that says nothing about its shape (an `Any`, a free dict)."""
    ref = schema.get("$ref")
    if ref is not None:
        if ref in seen:
            return []
        seen.add(ref)
        return _untyped(openapi, _resolve(openapi, schema), ref, seen)
    problems = []
    if not ({"type", "oneOf", "anyOf", "allOf", "enum", "const"} & schema.keys()):
        problems.append(f"{where}: untyped schema {schema}")
    if schema.get("additionalProperties") not in (None, False):
        problems.append(f"{where}: free-form object")
    if schema.get("type") == "object" and not schema.get("properties"):
        problems.append(f"{where}: object without properties")
    for key in ("oneOf", "anyOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            problems += _untyped(openapi, sub, f"{where}.{key}[{i}]", seen)
    for name, sub in schema.get("properties", {}).items():
        problems += _untyped(openapi, sub, f"{where}.{name}", seen)
    if "items" in schema:
        problems += _untyped(openapi, schema["items"], f"{where}[]", seen)
    return problems


def test_the_route_table_is_the_one_documented(openapi: dict[str, Any]) -> None:
    assert set(_operations(openapi)) == OPERATIONS


def test_every_write_with_a_body_documents_a_typed_request_body(openapi: dict[str, Any]) -> None:
    for key, op in _operations(openapi).items():
        if key[0] not in WRITES or key in BODILESS:
            assert "requestBody" not in op, key
            continue
        body = op.get("requestBody")
        assert body and body.get("content"), f"{key} takes an undocumented body"
        content = body["content"]
        assert set(content) == {JSON}, key
        schema = content[JSON]["schema"]
        models = [schema] if "$ref" in schema else schema.get("oneOf", [])
        # A model of its own (optionally null where no body is a default), never a dict.
        assert any("$ref" in m for m in models), f"{key} body is not a model: {schema}"
        assert _untyped(openapi, schema, f"{key} body", set()) == []


def test_every_operation_documents_a_typed_answer(openapi: dict[str, Any]) -> None:
    for key, op in _operations(openapi).items():
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert set(ok) == TWO_ANSWERS.get(key, set(ok)) and ok, f"{key}: {sorted(ok)}"
        if key not in TWO_ANSWERS:
            assert len(ok) == 1, f"{key}: {sorted(op['responses'])}"
        for answer in ok.values():
            content = answer.get("content") or {}
            if key in DOWNLOADS:
                assert set(content) == DOWNLOADS[key], key
                for media in content.values():
                    assert media["schema"]["type"] == "string", key
                continue
            assert set(content) == {JSON}, f"{key} answers {sorted(content)}"
            schema = content[JSON]["schema"]
            assert "$ref" in schema, f"{key} answers no model: {schema}"
            assert _untyped(openapi, schema, f"{key} answer", set()) == []


def test_no_route_takes_an_untyped_body() -> None:
    app = main.create()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if route.path.startswith("/v1/"):  # no hand-read bodies, no `_svc(request)`
                assert "request" not in handler.parsed_fn_signature.parameters, route.path
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            models = [data.annotation, *(t.annotation for t in data.inner_types)]
            assert any(isinstance(t, type) and issubclass(t, BaseModel) for t in models), (
                f"{route.path}: data is {data.annotation}"
            )


def test_only_the_payment_body_may_be_left_out(openapi: dict[str, Any]) -> None:
    optional = {k for k, op in _operations(openapi).items() if "requestBody" in op}
    optional = {k for k in optional if not _operations(openapi)[k]["requestBody"]["required"]}
    assert optional == {("post", "/v1/invoices/{invoice_id}/pay")}


def test_the_upgrade_preview_keeps_its_from_key(openapi: dict[str, Any]) -> None:
    preview = openapi["components"]["schemas"]["UpgradePreviewOut"]
    assert {"from", "to"} <= set(preview["required"])


# --- the boundary itself, with the use cases recorded instead of run ---

OWNER = Principal("u1", "acc-1", frozenset({"owner"}), None, "t")
STAFF_USER = Principal("u2", "acc-1", frozenset({"staff"}), None, "t")
TOKENS = {"owner": OWNER, "staff": STAFF_USER}


class _Verifier:
    async def verify(self, token: str) -> Principal:
        return TOKENS[token]


INVOICE = InvoiceOut.model_validate(
    {
        "id": "i1",
        "account_id": "acc-1",
        "proforma_number": "PF-2026-000001",
        "invoice_number": None,
        "order_id": "OD-2026-000001",
        "order_kind": "new",
        "subscription_id": "s1",
        "plan_id": "host-pro",
        "plan_name": "Hosting Professional",
        "category": "hosting",
        "tier": "professional",
        "months": 12,
        "lines": [{"description": "Hosting Professional, 12 month(s)", "amount": 2_400_000}],
        "total": 2_400_000,
        "paid": 0,
        "amount_due": 2_400_000,
        "currency": "VND",
        "status": "unpaid",
        "issued_at": "2026-03-01T09:30:15Z",
        "due_at": "2026-03-08T09:30:15Z",
        "paid_at": None,
        "payments": [],
        "claims": [],
    }
)


def _idle_deps() -> Deps:
    """Real deps on a mock database and wallet: the recorded use cases touch neither."""
    return build_deps(MagicMock(), MagicMock(), BillingSettings(), MagicMock(), SystemClock())


@pytest.fixture
def boundary(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient[Any], Any]]:
    """The routes with the use cases recorded instead of run (no database, no broker)."""
    billing = record_use_cases(
        monkeypatch, (catalogue, orders, payments, claims, renewals, queries)
    )
    for name in ("place_order", "pay", "invoice"):
        getattr(billing, name).return_value = INVOICE
    billing.list_plans.return_value = PlansOut(items=[], total=0)
    billing.set_auto_pay.return_value = SettingsOut(auto_pay=True)
    app = create_app(
        title="billing",
        route_handlers=[
            PlansController,
            OrdersController,
            SubscriptionsController,
            InvoicesController,
            ClaimsController,
            BillingAccountController,
        ],
        state={"billing": _idle_deps(), "token_verifier": _Verifier()},
    )
    with TestClient(app) as client:
        client.headers["Authorization"] = "Bearer owner"
        yield client, billing


def test_bodies_are_typed_strictly_and_refused_before_any_use_case(
    boundary: tuple[TestClient[Any], Any],
) -> None:
    client, billing = boundary
    for path, body in (
        ("/v1/orders", {"plan_id": "host-pro", "months": "12"}),
        ("/v1/orders", {"plan_id": "host-pro", "months": 12, "coupon": "FREE"}),
        ("/v1/orders", {"plan_id": "", "months": 12}),
        ("/v1/invoices/i1/pay", {"method": "cash"}),
        ("/v1/invoices/i1/pay", {"amount": "100"}),
        ("/v1/invoices/i1/payment-confirmation", {"reference": "FT123", "amount": 1.5}),
        ("/v1/invoices/i1/payment-confirmation", {"reference": "FT1", "amount": 1, "x": 1}),
        ("/v1/invoices/i1/payment-confirmation", {"reference": "FT123", "paid_on": "1/3/2026"}),
        ("/v1/plans", {"code": "X-1", "name": "X", "monthly_price": 1, "periods": []}),
        ("/v1/subscriptions/s1/renew", {"months": 1, "pay_from_wallet": "yes"}),
    ):
        r = client.post(path, json=body)
        assert (r.status_code, r.json()["code"]) == (400, "validation_error"), (path, r.text)
    r = client.put("/v1/billing/settings", json={"auto_pay": 1})
    assert (r.status_code, r.json()["code"]) == (400, "validation_error"), r.text
    assert billing.mock_calls == []


def test_typed_bodies_reach_the_use_cases(boundary: tuple[TestClient[Any], Any]) -> None:
    client, billing = boundary
    r = client.post(
        "/v1/orders", json={"plan_id": " host-pro ", "months": 12}, headers={"Idempotency-Key": "k"}
    )
    assert (r.status_code, r.json()) == (201, INVOICE.model_dump(mode="json")), r.text
    billing.place_order.assert_awaited_once_with(OWNER, "host-pro", 12, "k")
    proof = {"filename": "proof.png", "content_base64": base64.b64encode(b"png").decode()}
    claim = {"reference": " FT123 ", "amount": 5, "paid_on": "2026-03-01", "proof": proof}
    client.post("/v1/invoices/i1/payment-confirmation", json=claim)
    billing.file_claim.assert_awaited_once_with(
        OWNER,
        "i1",
        ClaimIn(reference="FT123", amount=5, paid_on=date(2026, 3, 1), proof=FileIn(**proof)),
        None,
    )
    plan = {
        "code": "VPS-1",
        "name": "VPS",
        "category": "vps",
        "tier": "support",
        "monthly_price": 100,
        "periods": [{"months": 12, "discount_percent": 10}],
    }
    client.post("/v1/plans", json=plan)
    expected = PlanIn(**{**plan, "periods": [PeriodIn(months=12, discount_percent=10)]})
    billing.publish_plan.assert_awaited_once_with(OWNER, expected)


def test_a_payment_without_a_body_pays_everything_due_from_the_wallet(
    boundary: tuple[TestClient[Any], Any],
) -> None:
    client, billing = boundary
    for body in (None, {}):
        r = client.post("/v1/invoices/i1/pay", json=body)
        assert r.status_code == 200, r.text
    assert billing.pay.await_args_list[0].args == (OWNER, "i1", PayIn(), None)
    assert billing.pay.await_args_list[1].args == (OWNER, "i1", PayIn(), None)
    r = client.post("/v1/invoices/i1/pay", json={"method": "bank_transfer", "amount": 10})
    assert billing.pay.await_args.args[2] == PayIn(method="bank_transfer", amount=10)


def test_a_payment_in_progress_is_answered_202_with_the_invoice(
    boundary: tuple[TestClient[Any], Any],
) -> None:
    client, billing = boundary
    billing.pay.side_effect = PaymentInProgress("i1", "p1")
    r = client.post(
        "/v1/invoices/i1/pay", json={"method": "wallet"}, headers={"Idempotency-Key": "k"}
    )
    assert (r.status_code, r.json()) == (202, INVOICE.model_dump(mode="json")), r.text
    billing.invoice.assert_awaited_once_with(OWNER, "i1")


def test_money_routes_are_for_the_account_managers_and_the_price_list_for_anyone(
    boundary: tuple[TestClient[Any], Any],
) -> None:
    client, billing = boundary
    staff = {"Authorization": "Bearer staff"}
    for method, path, body in (
        ("post", "/v1/orders", {"plan_id": "host-pro", "months": 12}),
        ("post", "/v1/invoices/i1/pay", {}),
        ("get", "/v1/invoices", None),
        ("put", "/v1/billing/settings", {"auto_pay": True}),
    ):
        r = client.request(method, path, json=body, headers=staff)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), (path, r.text)
    assert billing.mock_calls == []
    del client.headers["Authorization"]
    r = client.get("/v1/plans", params={"include_retired": True})
    assert r.status_code == 200, r.text
    billing.list_plans.assert_awaited_once_with(
        None, include_retired=True, category=None, tier=None, sector=None
    )
