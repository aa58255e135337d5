"""The CRM service's typed contract: every body it takes and every answer it gives is
described in its OpenAPI, and bodies are checked strictly before any use case runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import MagicMock

import pytest
from litestar.testing import TestClient
from pydantic import BaseModel

from portal_chassis.auth import Principal
from portal_chassis.clock import SystemClock
from portal_chassis.web import create_app
from portal_crm import api, bulk, care, contacts, loyalty, queries
from portal_crm.deps import Deps, build_deps
from portal_crm.main import create
from portal_crm.schemas import BulkDeleteIn, CareActionIn, DeletedOut
from portal_crm.settings import CrmSettings
from portal_tests.use_cases import record_use_cases

JSON = "application/json"
WRITES = {"post", "put", "patch", "delete"}
C = "/v1/crm/contacts"
A = "/v1/crm/care-activities"
# The whole route table: a route added without a contract shows up here first.
OPERATIONS = {
    ("get", C),
    ("post", C),
    ("get", f"{C}/groups"),
    ("post", f"{C}/bulk/assign"),
    ("post", f"{C}/bulk/labels"),
    ("post", f"{C}/bulk/delete"),
    ("get", f"{C}/{{contact_id}}"),
    ("patch", f"{C}/{{contact_id}}"),
    ("delete", f"{C}/{{contact_id}}"),
    ("post", f"{C}/{{contact_id}}/restore"),
    ("post", f"{C}/{{contact_id}}/convert"),
    ("put", f"{C}/{{contact_id}}/labels"),
    ("put", f"{C}/{{contact_id}}/portrait"),
    ("post", f"{C}/{{contact_id}}/attachments"),
    ("get", f"{C}/{{contact_id}}/attachments/{{file_id}}"),
    ("post", f"{C}/{{contact_id}}/comments"),
    ("post", f"{C}/{{contact_id}}/care-actions"),
    ("get", f"{C}/{{contact_id}}/level"),
    ("get", f"{C}/{{contact_id}}/timeline"),
    ("get", "/v1/crm/customers"),
    ("get", "/v1/crm/customers/{contact_id}"),
    ("get", "/v1/crm/customers/{contact_id}/level"),
    ("get", "/v1/crm/customers/{contact_id}/timeline"),
    ("get", "/v1/crm/labels"),
    ("post", "/v1/crm/labels"),
    ("get", "/v1/crm/care-types"),
    ("post", "/v1/crm/care-types"),
    ("patch", "/v1/crm/care-types/{care_type_id}"),
    ("delete", "/v1/crm/care-types/{care_type_id}"),
    ("get", "/v1/crm/care-reasons"),
    ("post", "/v1/crm/care-reasons"),
    ("get", "/v1/crm/levels"),
    ("put", "/v1/crm/levels"),
    ("get", A),
    ("post", A),
    ("get", f"{A}/{{activity_id}}"),
    ("delete", f"{A}/{{activity_id}}"),
    ("post", f"{A}/{{activity_id}}/restore"),
    ("post", f"{A}/{{activity_id}}/complete"),
    ("post", f"{A}/{{activity_id}}/cancel"),
    ("post", f"{A}/{{activity_id}}/comments"),
    ("get", "/v1/loyalty"),
    ("get", "/v1/timeline"),
}
# Writes that act on the path alone (the deletion's confirmation is a query parameter).
BODYLESS = {
    ("delete", f"{C}/{{contact_id}}"),
    ("post", f"{C}/{{contact_id}}/restore"),
    ("post", f"{C}/{{contact_id}}/convert"),
    ("delete", "/v1/crm/care-types/{care_type_id}"),
    ("delete", f"{A}/{{activity_id}}"),
    ("post", f"{A}/{{activity_id}}/restore"),
}
# Marking an activity done or cancelled needs nothing more: no body, `{}` or a note.
OPTIONAL_BODY = {("post", f"{A}/{{activity_id}}/complete"), ("post", f"{A}/{{activity_id}}/cancel")}
DOWNLOADS = {("get", f"{C}/{{contact_id}}/attachments/{{file_id}}")}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create().openapi_schema.to_schema()  # type: ignore[no-any-return]  # no connection


def _operations(openapi: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): op
        for path, item in openapi["paths"].items()
        if path.startswith("/v1/")
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }


def _model(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema["$ref"]
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[-1]]  # type: ignore[no-any-return]


def test_the_route_table_is_the_one_documented(openapi: dict[str, Any]) -> None:
    assert set(_operations(openapi)) == OPERATIONS


def test_every_json_body_is_described_by_a_model(openapi: dict[str, Any]) -> None:
    writes = 0
    for key, op in _operations(openapi).items():
        if key[0] not in WRITES or key in BODYLESS:
            assert "requestBody" not in op, key
            continue
        content = op.get("requestBody", {}).get("content", {})
        assert list(content) == [JSON], key
        schema = content[JSON]["schema"]
        if key in OPTIONAL_BODY:
            refs = [s for s in schema["oneOf"] if "$ref" in s]
            assert len(refs) == 1 and {"type": "null"} in schema["oneOf"], (key, schema)
            schema = refs[0]
        body = _model(openapi, schema)
        assert body["type"] == "object" and body["properties"], (key, body)
        writes += 1
    assert writes == 19  # every body once read by hand with parse_json_body, and the rename


def test_every_operation_describes_its_answer(openapi: dict[str, Any]) -> None:
    for key, op in _operations(openapi).items():
        ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert len(ok) == 1, key
        (answer,) = ok.values()
        content = answer.get("content", {})
        if key in DOWNLOADS:
            assert list(content) == ["application/octet-stream"], content
            continue
        assert list(content) == [JSON], key
        model = _model(openapi, content[JSON]["schema"])
        assert model["type"] == "object" and model["properties"], (key, model)


def test_the_lists_are_pages(openapi: dict[str, Any]) -> None:
    ops = _operations(openapi)
    for path in (C, "/v1/crm/customers", A, "/v1/timeline", f"{C}/{{contact_id}}/timeline"):
        op = ops[("get", path)]
        page = _model(openapi, op["responses"]["200"]["content"][JSON]["schema"])
        assert set(page["properties"]) == {"items", "total", "limit", "offset"}, path
        assert {p["name"] for p in op["parameters"]} >= {"limit", "offset"}, path


def test_no_route_takes_an_untyped_body() -> None:
    for route in create().routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            models = [data.annotation, *(t.annotation for t in data.inner_types)]
            assert any(isinstance(t, type) and issubclass(t, BaseModel) for t in models), (
                f"{route.path}: data is {data.annotation}"
            )


# --- the boundary itself, with the use cases recorded instead of run ---

STAFF = Principal("u1", "platform", frozenset({"sales"}), None, "t")


class _Verifier:
    async def verify(self, token: str) -> Principal:
        return STAFF


def _idle_deps() -> Deps:
    """Real deps on a mock database: the recorded use cases never touch it."""
    return build_deps(MagicMock(), MagicMock(), CrmSettings(), SystemClock())


@pytest.fixture
def boundary(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient[Any], Any]]:
    crm = record_use_cases(monkeypatch, (contacts, bulk, loyalty, care, queries))
    app = create_app(
        title="crm",
        route_handlers=[api.ContactsController, api.ActivitiesController],
        state={"crm": _idle_deps(), "token_verifier": _Verifier()},
    )
    with TestClient(app) as client:
        client.headers["Authorization"] = "Bearer t"
        yield client, crm


def test_bodies_are_refused_strictly_before_any_use_case_runs(
    boundary: tuple[TestClient[Any], Any],
) -> None:
    client, crm = boundary
    for path, body in (
        ("/v1/crm/contacts/c1/care-actions", {"care_type_id": "call", "value": "5"}),
        ("/v1/crm/contacts/c1/care-actions", {"care_type_id": "call", "points": 5}),
        ("/v1/crm/contacts/c1/care-actions", {"care_type_id": "call", "value": -1}),
        ("/v1/crm/contacts/bulk/delete", {"ids": ["c1"], "confirm": "true"}),
        ("/v1/crm/contacts", {"name": "X", "email": "not an email"}),
        ("/v1/crm/contacts", []),
        ("/v1/crm/care-activities/a1/complete", {"outcome": 5}),
        ("/v1/crm/care-activities/a1/cancel", {"why": "x"}),
    ):
        r = client.post(path, json=body)
        assert (r.status_code, r.json()["code"]) == (400, "validation_error"), (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert crm.mock_calls == []


def test_use_cases_get_the_typed_bodies(boundary: tuple[TestClient[Any], Any]) -> None:
    client, crm = boundary
    crm.bulk_delete.return_value = {"deleted": 1}
    crm.delete.return_value = DeletedOut(id="c1", status="deleted")
    r = client.post("/v1/crm/contacts/bulk/delete", json={"ids": ["c1", "c1"], "confirm": True})
    assert r.status_code == 200 and r.json() == {"deleted": 1}, r.text
    crm.bulk_delete.assert_awaited_once_with(STAFF, BulkDeleteIn(ids=["c1"], confirm=True))
    client.post("/v1/crm/contacts/c1/care-actions", json={"care_type_id": "call", "note": " hi "})
    crm.record_care_action.assert_awaited_once_with(
        STAFF, "c1", CareActionIn(care_type_id="call", note="hi")
    )
    r = client.delete("/v1/crm/contacts/c1", params={"confirm": "true"})
    assert r.json() == {"id": "c1", "status": "deleted"}
    crm.delete.assert_awaited_once_with(STAFF, "c1", True)
    # No body, `{}` or a note: an activity is marked done or cancelled all the same.
    for body in (None, {}, {"outcome": " ok "}):
        client.post("/v1/crm/care-activities/a1/complete", json=body)
    assert [c.args for c in crm.complete.await_args_list] == [
        (STAFF, "a1", ""),
        (STAFF, "a1", ""),
        (STAFF, "a1", "ok"),
    ]
    client.post("/v1/crm/care-activities/a1/cancel")
    crm.cancel.assert_awaited_once_with(STAFF, "a1", "")
