"""Identity's OpenAPI describes every body it takes and every answer it gives."""

from __future__ import annotations

from typing import Any

from portal_identity import main

METHODS = ("get", "post", "put", "patch", "delete")
LOGO = "/v1/me/logo"
"""The logo is uploaded and downloaded as the image's bytes, not as JSON."""
NO_CONTENT = {
    ("post", "/v1/auth/logout"),
    ("delete", "/v1/me/sessions/{session_id}"),
    ("delete", "/v1/account/users/{user_id}"),
}


def openapi() -> dict[str, Any]:
    return main.create().openapi_schema.to_schema()  # no connection is made


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in schema["paths"].items()
        if path.startswith("/v1/")
        for method, op in item.items()
        if method in METHODS
    ]


def is_described(schema: dict[str, Any]) -> bool:
    return bool(schema.get("$ref") or schema.get("properties") or schema.get("oneOf"))


def test_every_json_body_is_described_by_a_schema() -> None:
    with_body = {(m, p): op for p, m, op in operations(openapi()) if "requestBody" in op}
    assert len(with_body) == 21
    logo = with_body.pop(("put", LOGO))["requestBody"]["content"]
    assert set(logo) == {"image/png", "image/jpeg"}
    assert all(c["schema"] == {"type": "string", "format": "binary"} for c in logo.values())
    for (method, path), op in with_body.items():
        body = op["requestBody"]["content"]
        assert list(body) == ["application/json"], (method, path)
        assert body["application/json"]["schema"].get("$ref"), (method, path)


def test_every_operation_describes_its_answer() -> None:
    ops = operations(openapi())
    assert len(ops) == 39
    for path, method, op in ops:
        ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert len(ok) == 1, (method, path)
        ((status, answer),) = ok.items()
        content = answer.get("content", {})
        if (method, path) in NO_CONTENT:
            assert status == "204" and not content, (method, path)
            continue
        if (method, path) == ("get", LOGO):
            assert list(content) == ["image/*"], content
            continue
        assert list(content) == ["application/json"], (method, path)
        assert is_described(content["application/json"]["schema"]), (method, path)


def test_no_operation_takes_an_untyped_body() -> None:
    schema = openapi()
    components = schema["components"]["schemas"]
    for path, method, op in operations(schema):
        if method == "get" or (method, path) == ("put", LOGO) or "requestBody" not in op:
            continue
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = components[ref.rsplit("/", 1)[-1]]
        assert body["type"] == "object" and body["properties"], (method, path, body)


def test_answers_that_differ_by_case_are_unions_not_null_keys() -> None:
    schema = openapi()
    paths = schema["paths"]

    def answer(method: str, path: str, status: str = "200") -> Any:
        return paths[path][method]["responses"][status]["content"]["application/json"]["schema"]

    refs = {r["$ref"].rsplit("/", 1)[1] for r in answer("post", "/v1/auth/login")["oneOf"]}
    assert refs == {"TokensOut", "SecondFactorRequiredOut"}
    qr = answer("get", "/v1/auth/qr/{challenge_id}")["oneOf"]
    assert {r["$ref"].rsplit("/", 1)[1] for r in qr} == {"QrStatusOut", "QrSignedInOut"}
    registered = schema["components"]["schemas"]["RegisteredOut"]
    tokens = schema["components"]["schemas"]["TokensOut"]
    assert set(tokens["required"]) <= set(registered["required"])
    assert {"account_id", "user_id", "email"} <= set(registered["required"])
