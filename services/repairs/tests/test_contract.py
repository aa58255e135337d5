"""The repairs service's typed contract: every body and answer described, payloads unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from unittest.mock import MagicMock

import pytest
from litestar.testing import TestClient
from pydantic import BaseModel

from portal_chassis.auth import Principal
from portal_chassis.clock import SystemClock
from portal_chassis.web import create_app
from portal_contracts.events.repairs import (
    Condition,
    RepairCancelled,
    RepairQuoted,
    RepairReady,
    RepairRegistered,
)
from portal_repairs import intake, queries, workflow
from portal_repairs.api import RepairsController
from portal_repairs.contract import QuoteIn, ReasonIn, RepairOut
from portal_repairs.deps import MAX_PHOTO_BYTES, build_deps
from portal_repairs.main import create
from portal_repairs.queries import custody_entry
from portal_repairs.settings import RepairsSettings
from portal_tests.use_cases import record_use_cases

WRITES = {"post", "put", "patch"}
JSON = "application/json"
PHOTO_TYPES = {"image/png", "image/jpeg", "image/webp"}
# The whole route table: a route added without a contract shows up here first.
OPERATIONS = {
    ("get", "/v1/repairs"),
    ("post", "/v1/repairs"),
    ("get", "/v1/repairs/branches"),
    ("post", "/v1/repairs/branches"),
    ("get", "/v1/repairs/{repair_id}"),
    ("get", "/v1/repairs/{repair_id}/label"),
    ("post", "/v1/repairs/{repair_id}/photos"),
    ("get", "/v1/repairs/{repair_id}/photos/{file_id}"),
    *(
        ("post", f"/v1/repairs/{{repair_id}}/{step}")
        for step in (
            "receive",
            "diagnose",
            "quote",
            "approve",
            "reject",
            "start",
            "ready",
            "return",
            "cancel",
            "transfer",
        )
    ),
}
# Downloads answer bytes of their own media type, never JSON.
DOWNLOADS = {
    ("get", "/v1/repairs/{repair_id}/label"): {"image/svg+xml"},
    ("get", "/v1/repairs/{repair_id}/photos/{file_id}"): PHOTO_TYPES,
}
RAW_UPLOADS = {("post", "/v1/repairs/{repair_id}/photos"): PHOTO_TYPES}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create().openapi_schema.to_schema()  # type: ignore[no-any-return]


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


def test_every_write_documents_a_typed_request_body(openapi: dict[str, Any]) -> None:
    for key, op in _operations(openapi).items():
        if key[0] not in WRITES:
            assert "requestBody" not in op, key
            continue
        body = op.get("requestBody")
        assert body and body.get("content"), f"{key} takes an undocumented body"
        content = body["content"]
        if key in RAW_UPLOADS:
            assert set(content) == RAW_UPLOADS[key], key
            for media in content.values():
                assert media["schema"] == {"type": "string", "format": "binary"}, key
            continue
        assert set(content) == {JSON}, key
        schema = content[JSON]["schema"]
        models = [schema] if "$ref" in schema else schema.get("oneOf", [])
        # A model of its own (optionally null for the steps that need no body), never a dict.
        assert any("$ref" in m for m in models), f"{key} body is not a model: {schema}"
        assert _untyped(openapi, schema, f"{key} body", set()) == []


def test_every_operation_documents_a_typed_answer(openapi: dict[str, Any]) -> None:
    for key, op in _operations(openapi).items():
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert len(ok) == 1, f"{key}: {sorted(op['responses'])}"
        (answer,) = ok.values()
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
    app = create()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            models = [data.annotation, *(t.annotation for t in data.inner_types)]
            assert any(isinstance(t, type) and issubclass(t, BaseModel) for t in models), (
                f"{route.path}: data is {data.annotation}"
            )


# A cancelled repair as `queries.get` describes it.
AT = datetime(2026, 3, 1, 9, 30, 15, 123000, tzinfo=UTC)
BASE = {"repair_id": "r1", "account_id": "acc-1", "actor": "u1", "branch_id": "HCM-Q1"}
EVENTS = [
    RepairRegistered(
        **BASE,
        occurred_at=AT,
        repair_number="RP-2026-000001",
        model="X1",
        serial="SN1",
        problem="dead",
        adapter_included=False,
        condition=Condition(checklist=["scratch"], notes=""),
        delivery_method="drop_off",
        delivery_date=date(2026, 3, 1),
        deliverer_name="A",
        deliverer_contact="0912345678",
        return_method="pickup",
    ),
    RepairQuoted(**BASE, occurred_at=AT, parts=[], labour=0, amount=0, currency="VND"),
    RepairReady(**BASE, occurred_at=AT, repaired=False),
    RepairCancelled(**BASE, occurred_at=AT, reason=""),
]
ANSWER: dict[str, Any] = {
    "id": "r1",
    "repair_number": "RP-2026-000001",
    "account_id": "acc-1",
    "status": "cancelled",
    "step": None,
    "model": "X1",
    "serial": "SN1",
    "branch_id": "HCM-Q1",
    "technician_id": None,
    "quote": {"amount": 0, "currency": "VND"},
    "approved_amount": None,
    "warranty": False,
    "warranty_of": None,
    "problem": "dead",
    "adapter_included": False,
    "delivery": {"method": "drop_off", "date": date(2026, 3, 1), "deliverer_name": "A"},
    "return": {"method": "pickup", "address": None},
    "custody": [custody_entry(e) for e in EVENTS],
    "version": 4,
    "label_url": "/api/v1/repairs/r1/label",
}


def test_the_answer_keeps_every_key_clients_get_and_adds_none() -> None:
    dumped = RepairOut.model_validate(ANSWER).model_dump(mode="json")
    when = "2026-03-01T09:30:15.123000Z"
    assert dumped == {
        **ANSWER,
        "delivery": {"method": "drop_off", "date": "2026-03-01", "deliverer_name": "A"},
        "custody": [
            {
                "event": "RepairRegistered",
                "at": when,
                "by": "u1",
                "branch_id": "HCM-Q1",
                "condition": {"checklist": ["scratch"], "notes": ""},
            },
            # Zero and False are details; only absent ones (None, "") are left out.
            {
                "event": "RepairQuoted",
                "at": when,
                "by": "u1",
                "branch_id": "HCM-Q1",
                "amount": 0,
                "currency": "VND",
            },
            {
                "event": "RepairReady",
                "at": when,
                "by": "u1",
                "branch_id": "HCM-Q1",
                "repaired": False,
            },
            {"event": "RepairCancelled", "at": when, "by": "u1", "branch_id": "HCM-Q1"},
        ],
    }


# --- the boundary itself, with the use cases recorded instead of run ---


PRINCIPAL = Principal("u1", "acc-1", frozenset({"technician"}), None, "t")


class _Verifier:
    async def verify(self, token: str) -> Principal:
        return PRINCIPAL


def _idle_deps() -> Any:
    """Deps over nothing: the recorded use cases never reach them."""
    return build_deps(MagicMock(), MagicMock(), RepairsSettings(), SystemClock())


@pytest.fixture
def boundary(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient[Any], Any]]:
    """The routes with the use cases recorded instead of run (no database, no broker)."""
    repairs = record_use_cases(monkeypatch, (intake, workflow, queries))
    for name in ("add_photo", "start", "ready", "cancel", "reject", "quote"):
        getattr(repairs, name).return_value = RepairOut.model_validate(ANSWER)
    app = create_app(
        title="repairs",
        route_handlers=[RepairsController],
        state={"repairs": _idle_deps(), "token_verifier": _Verifier()},
    )
    with TestClient(app) as client:
        client.headers["Authorization"] = "Bearer t"
        yield client, repairs


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def test_a_photo_is_checked_before_any_use_case_runs(
    boundary: tuple[TestClient[Any], Any],
) -> None:
    client, repairs = boundary
    for content, query, status, code in (
        (b"MZ not an image", "", 415, "unsupported_file_type"),
        (PNG, "?stage=later", 400, "validation_error"),  # a typed query parameter
        (PNG.ljust(MAX_PHOTO_BYTES + 1, b"\0"), "", 413, "file_too_large"),
    ):
        r = client.post(f"/v1/repairs/r1/photos{query}", content=content)
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
    repairs.add_photo.assert_not_awaited()
    assert client.post("/v1/repairs/r1/photos?stage=receive", content=PNG).status_code == 201
    repairs.add_photo.assert_awaited_once_with(
        PRINCIPAL, "r1", PNG, ("image/png", "png"), "receive"
    )


def test_steps_take_their_typed_body_and_refuse_anything_else(
    boundary: tuple[TestClient[Any], Any],
) -> None:
    client, repairs = boundary
    for step, body in (
        ("quote", {"labour": "100"}),
        ("quote", {"labour": 1, "discount": 5}),
        ("receive", {}),
        ("cancel", {"reason": 5}),
        ("start", {"force": True}),
    ):
        r = client.post(f"/v1/repairs/r1/{step}", json=body)
        assert (r.status_code, r.json()["code"]) == (400, "validation_error"), (step, r.text)
    assert repairs.mock_calls == []
    # The steps that need nothing more take no body at all, `{}` or a reason.
    for step, body in (
        ("start", None),
        ("ready", {}),
        ("cancel", None),
        ("reject", {"reason": " too dear "}),
        ("quote", {"labour": 100, "parts": []}),
    ):
        r = client.post(f"/v1/repairs/r1/{step}", json=body)
        assert r.status_code == 200, (step, r.text)
    repairs.start.assert_awaited_once_with(PRINCIPAL, "r1")
    repairs.ready.assert_awaited_once_with(PRINCIPAL, "r1")
    repairs.cancel.assert_awaited_once_with(PRINCIPAL, "r1", ReasonIn())
    repairs.reject.assert_awaited_once_with(PRINCIPAL, "r1", ReasonIn(reason="too dear"))
    repairs.quote.assert_awaited_once_with(PRINCIPAL, "r1", QuoteIn(labour=100, parts=[]))
