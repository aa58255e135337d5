"""The tickets service's OpenAPI describes every body it takes and every answer it gives."""

from __future__ import annotations

from typing import Any

from portal_tickets import main

METHODS = ("get", "post", "put", "patch", "delete")


def openapi() -> dict[str, Any]:
    return main.create().openapi_schema.to_schema()  # no connection is made


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in schema["paths"].items()
        if path.startswith("/v1/tickets")
        for method, op in item.items()
        if method in METHODS
    ]


def test_every_json_body_is_described_by_a_schema() -> None:
    writes = [(p, m, op) for p, m, op in operations(openapi()) if m != "get"]
    assert len(writes) == 7
    for path, method, op in writes:
        body = op.get("requestBody", {}).get("content", {})
        assert list(body) == ["application/json"], (method, path)
        schema = body["application/json"]["schema"]
        assert schema.get("$ref") or schema.get("properties"), (method, path, schema)


def test_every_operation_describes_its_answer() -> None:
    for path, method, op in operations(openapi()):
        ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert len(ok) == 1, (method, path)
        (answer,) = ok.values()
        content = answer.get("content", {})
        if path.endswith("/attachments/{file_id}"):
            assert list(content) == ["application/octet-stream"], content
            continue
        assert list(content) == ["application/json"], (method, path)
        schema = content["application/json"]["schema"]
        assert schema.get("$ref") or schema.get("properties"), (method, path, schema)


def test_no_operation_takes_an_untyped_body() -> None:
    schema = openapi()
    components = schema["components"]["schemas"]
    for path, method, op in operations(schema):
        if method == "get":
            assert "requestBody" not in op, path
            continue
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = components[ref.rsplit("/", 1)[-1]]
        assert body["type"] == "object" and body["properties"], (method, path, body)
