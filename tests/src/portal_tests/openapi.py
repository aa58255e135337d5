"""The public OpenAPI, merged from the services' own typed schemas and the gateway's routes.

Each service documents its routes (bodies, answers) with its own app factory; the gateway's
prefix table (portal_gateway.routing) says which of them are public and under which path.
This module rewrites those paths to the public ones, gives every operation its security,
its `Idempotency-Key` (writes) and its problem+json errors, and writes the result where the
gateway serves it from (`/schema/openapi.json`). `make schemas` runs it; a test fails when
the committed file is stale.

    uv run python -m portal_tests.openapi
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import sys
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from portal_gateway.routing import PREFIXES, Access, Prefix
from portal_tests.error_codes import route_codes
from portal_tests.infra import REPO_ROOT

OUTPUT = Path(__file__).resolve().parents[3] / "gateway/src/portal_gateway/openapi.json"
SERVICES = ("identity", "wallet", "tickets", "repairs", "billing", "crm", "notifications")
WRITES = ("post", "put", "patch", "delete")
METHODS = ("get", *WRITES)
REF = "#/components/schemas/"
PARAM = re.compile(r"\{(\w+):\w+\}")

DESCRIPTION = """\
Public API of the customer portal.

- **Authentication:** `Authorization: Bearer <access token>` from `POST /api/v1/auth/login`
  (or the QR sign-in); every route is scoped to the account in the token.
- **Errors:** RFC 9457 `application/problem+json` with a stable machine-readable `code`
  (validation errors list the fields in `errors`).
- **Retries:** every write accepts an `Idempotency-Key`; the same key and body answer the
  first response again (`Idempotent-Replayed: true`), so a lost answer can be retried safely.
- **Lists** answer `{items, total, limit, offset}` and take `limit` and `offset`.
"""

PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem; `code` is stable, `detail` is for people.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "validation errors: where, what, which rule",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
        "correlation_id": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}

# Status -> (description, the codes most operations can answer with it).
ERRORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "400": ("The request is not valid", ("validation_error", "bad_request", "invalid_path")),
    "401": ("No valid access token", ("unauthenticated", "token_expired", "session_revoked")),
    "403": ("Signed in, but not allowed", ("forbidden",)),
    "404": ("No such thing in this account", ("not_found",)),
    "409": ("The state does not allow it (now)", ("conflict", "idempotency_key_in_use")),
    "410": ("Gone: it expired or was used up", ()),
    "413": ("The body is too large", ("payload_too_large", "file_too_large")),
    "415": ("A file of a kind not taken here", ("unsupported_file_type",)),
    "422": ("Breaks a business rule", ("unprocessable", "idempotency_key_reused")),
    "429": ("Too many requests: retry after `Retry-After` seconds", ("too_many_requests",)),
    "503": ("A part of the platform is away: retry after `Retry-After`", ("unavailable",)),
}


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def http_methods(item: dict[str, Any]) -> list[str]:
    """The HTTP methods of an OpenAPI path item (not `parameters`, `options`, `head`...)."""
    return [method for method in item if method in HTTP_METHODS]


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every operation of a document, by path."""
    return [
        (method, path, item[method])
        for path, item in sorted(document["paths"].items())
        for method in http_methods(item)
    ]


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def body_schemas(app: Any) -> dict[str, Any]:
    """Pydantic's own JSON Schemas of the app's request bodies. Litestar's generator drops
    constraints a client must know (`pattern`, dict values, a custom type's schema), so
    a body published from it would invite requests the service refuses."""
    models: dict[str, type[BaseModel]] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = getattr(handler, "parsed_fn_signature", None)
            field = data.parameters.get("data") if data else None
            if field is not None:
                models.update({m.__name__: m for m in _models_in(field.annotation)})
    if not models:
        return {}
    _, top = models_json_schema(
        [(model, "validation") for model in models.values()], ref_template=REF + "{model}"
    )
    return top.get("$defs", {})  # type: ignore[no-any-return]


def service_app(service: str) -> Any:
    return importlib.import_module(f"portal_{service}.main").create()  # no connection is made


def service_codes(service: str) -> dict[tuple[str, str], dict[int, set[str]]]:
    """(service path, method) -> status -> the problem codes its code can raise."""
    return route_codes(service_app(service), REPO_ROOT / "services" / service / "src")


def service_schema(service: str) -> dict[str, Any]:
    app = service_app(service)
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, body in body_schemas(app).items():
        components[name] = body  # same names: both name a model after its class
    return schema


def gateway_app() -> Any:
    from portal_gateway.main import create
    from portal_gateway.settings import GatewaySettings

    return create(GatewaySettings())


def _rename_refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF):
                name = value[len(REF) :]
                out[key] = REF + names.get(name, name)
            else:
                out[key] = _rename_refs(value, names)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, names) for v in node]
    return node


def _merge_components(merged: dict[str, Any], source: dict[str, Any], owner: str) -> dict[str, str]:
    """Add `source`'s schemas to `merged`; a name another service uses for a different
    schema gets the owner's name in front. Answers the renames."""
    renames: dict[str, str] = {}
    for name, schema in source.items():
        if name in merged and merged[name] != schema:
            renames[name] = owner.capitalize() + name
    for name, schema in source.items():
        merged[renames.get(name, name)] = _rename_refs(schema, renames)
    return renames


def _prefixes_of(service: str, path: str) -> list[Prefix]:
    """The public prefixes a service path is reached by (an alias such as
    /.well-known/jwks.json makes two); none for internal and service-to-service routes."""
    return [
        prefix
        for prefix in PREFIXES
        if prefix.service == service
        and (path == prefix.target or path.startswith(prefix.target + "/"))
        and not prefix.is_internal(PARAM.sub("x", path[len(prefix.target) :]))
    ]


def _security(access: Access, method: str) -> list[dict[str, list[str]]]:
    if access is Access.ANONYMOUS:
        return []
    if access is Access.PUBLIC_READ and method == "get":
        return [{}, {"bearer": []}]
    return [{"bearer": []}]


def _errors(
    operation: dict[str, Any], method: str, path: str, own: dict[int, set[str]] | None = None
) -> None:
    """The problem answers an operation can give: the statuses every operation of its kind
    has, plus those its own code raises (portal_tests.error_codes), each with its codes."""
    own = own or {}
    responses = operation.setdefault("responses", {})
    # 401 everywhere: a token that is sent must be valid, and routes under an anonymous
    # prefix (rotating keys, approving a QR sign-in) check roles of their own.
    wanted = ["400", "401", "403", "429", "503"]
    if "{" in path or method in WRITES:
        wanted.append("404")  # the id in the path, or one a body names (a plan, a branch)
    if method in WRITES:
        wanted += ["409", "413", "415", "422"]
    wanted += [str(status) for status in own]
    for status in sorted(set(wanted)):
        _add_codes(responses, status, own.get(int(status), ()))


def _add_codes(responses: dict[str, Any], status: str, codes: Iterable[str]) -> None:
    """A problem answer listing its codes (those every operation has, plus `codes`), in
    the description for people and in `x-problem-codes` for generators."""
    description, generic = ERRORS[status]
    known = responses.get(status, {}).get("x-problem-codes", [])
    listed = sorted({*generic, *known, *codes})
    responses[status] = {
        "description": f"{description}. Codes: {', '.join(f'`{c}`' for c in listed)}.",
        "content": {"application/problem+json": {"schema": {"$ref": REF + "Problem"}}},
        "x-problem-codes": listed,
    }


def _optional_body(operation: dict[str, Any]) -> None:
    """A body typed `X | None` is one that may be left out: say so, instead of
    "required, X or null" (a JSON `null` body is not what clients send)."""
    body = operation.get("requestBody", {})
    for media in body.get("content", {}).values():
        choices = media.get("schema", {}).get("oneOf") or media.get("schema", {}).get("anyOf")
        if choices and {"type": "null"} in choices:
            rest = [c for c in choices if c != {"type": "null"}]
            media["schema"] = rest[0] if len(rest) == 1 else {"oneOf": rest}
            body["required"] = False


def _event_stream(operation: dict[str, Any]) -> None:
    operation["responses"]["200"]["content"] = {
        "text/event-stream": {
            "schema": {
                "type": "string",
                "description": "`event: dashboard` lines whose `data` is the dashboard JSON",
            }
        }
    }


# A path id never holds a control character (the gateway answers 400 invalid_path).
PATH_ID = r"^[^\x00-\x1f\x7f-\x9f]+$"


def _path_ids(operation: dict[str, Any]) -> None:
    for param in operation.get("parameters", []):
        schema = param.get("schema", {})
        if param.get("in") == "path" and schema.get("type") == "string":
            schema.setdefault("pattern", PATH_ID)


def _decorate(
    operation: dict[str, Any],
    method: str,
    path: str,
    prefix: Prefix | None,
    own: dict[int, set[str]] | None = None,
) -> None:
    access = prefix.access if prefix else Access.SIGNED_IN
    _optional_body(operation)
    _path_ids(operation)
    if path.endswith("/stream"):
        _event_stream(operation)
    if prefix and prefix.tag:
        operation["tags"] = [prefix.tag]
    operation["security"] = _security(access, method)
    if method in WRITES:
        params = operation.setdefault("parameters", [])
        params[:] = [p for p in params if p.get("name", "").lower() != "idempotency-key"]
        params.append({"$ref": "#/components/parameters/IdempotencyKey"})
    _errors(operation, method, path, own)


def public_path(prefix: Prefix, service_path: str) -> str:
    return PARAM.sub(r"{\1}", prefix.public + service_path[len(prefix.target) :])


# Gateway routes that forward a body to an identity route and answer what it answers (the
# browser session keeps the refresh token in a cookie instead): they publish its schemas.
BORROWED = {
    "/api/v1/auth/session/login": "/api/v1/auth/login",
    "/api/v1/auth/session/login/2fa": "/api/v1/auth/login/2fa",
    "/api/v1/auth/session/qr/{challenge_id}": "/api/v1/auth/qr/{challenge_id}",
    "/api/v1/auth/session/refresh": "/api/v1/auth/refresh",
    "/api/v1/auth/session/logout": "/api/v1/auth/logout",
}


# What the browser session answers instead of the identity models it forwards: the same,
# without the refresh token, which goes into the httpOnly cookie.
IN_COOKIE = ("refresh_token", "refresh_expires_in")
BROWSER_ANSWERS = {"TokensOut": "BrowserTokensOut", "QrSignedInOut": "BrowserQrSignedInOut"}
SESSION_HEADER = {
    "name": "X-Portal-Session",
    "in": "header",
    "required": True,
    "description": "Always `1`: a cross-site form cannot send it (the CSRF defence).",
    "schema": {"type": "string", "enum": ["1"]},
}


def _browser_schemas(schemas: dict[str, Any]) -> None:
    for source, name in BROWSER_ANSWERS.items():
        model = copy.deepcopy(schemas[source])
        for key in IN_COOKIE:
            model.get("properties", {}).pop(key, None)
        model["required"] = [k for k in model.get("required", []) if k not in IN_COOKIE]
        model["title"] = name
        model["description"] = f"{source} without the refresh token (set as a cookie)."
        schemas[name] = model


def _borrow(paths: dict[str, dict[str, Any]]) -> None:
    for path, source in BORROWED.items():
        for method, operation in paths.get(path, {}).items():
            model = paths[source][method]
            if "requestBody" in model and path != "/api/v1/auth/session/refresh":
                operation["requestBody"] = copy.deepcopy(model["requestBody"])
            params = operation.setdefault("parameters", [])
            headers = [p for p in model.get("parameters", []) if p.get("in") == "header"]
            known = {p.get("name", "").lower() for p in params}
            params += [copy.deepcopy(p) for p in headers if p["name"].lower() not in known]
            params.append(SESSION_HEADER)
            answers = operation["responses"]
            for status in [s for s in answers if s.startswith("2")]:
                del answers[status]
            answers.update(
                {
                    s: _rename_refs(copy.deepcopy(a), BROWSER_ANSWERS)
                    for s, a in model["responses"].items()
                    if s.startswith("2")
                }
            )
            for status, problem in model["responses"].items():
                if status[0] in "45":  # the codes the forwarded route answers with, too
                    _add_codes(answers, status, problem.get("x-problem-codes", []))


def merge() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Problem": PROBLEM}
    paths: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        own = service_schema(service)
        codes = service_codes(service)
        renames = _merge_components(schemas, own.get("components", {}).get("schemas", {}), service)
        for path, item in own["paths"].items():
            for n, prefix in enumerate(_prefixes_of(service, path)):
                public = public_path(prefix, path)
                for method, operation in _rename_refs(item, renames).items():
                    if method not in METHODS:
                        continue
                    name = operation.get("operationId", method)
                    operation["operationId"] = f"{service}_{name}" + (f"_{n}" if n else "")
                    _decorate(operation, method, public, prefix, codes.get((path, method)))
                    paths.setdefault(public, {})[method] = operation
    app = gateway_app()
    gateway: dict[str, Any] = app.openapi_schema.to_schema()
    gateway_codes = route_codes(app, REPO_ROOT / "gateway" / "src")
    renames = _merge_components(
        schemas, gateway.get("components", {}).get("schemas", {}), "gateway"
    )
    for path, item in gateway["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in _rename_refs(item, renames).items():
            if method in METHODS:
                staff = path.startswith("/api/v1/staff/")
                # The gateway's own routes under a prefix (the browser session under
                # /api/v1/auth) have that prefix's access.
                owner = [p for p in PREFIXES if path.startswith(p.public + "/")]
                own = gateway_codes.get((path, method))
                _decorate(operation, method, path, owner[0] if owner else None, own)
                if staff:
                    operation["tags"] = ["staff"]
                paths.setdefault(path, {})[method] = operation
    _borrow(paths)
    _browser_schemas(schemas)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Customer portal API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The access token from /api/v1/auth/login (15 minutes)",
                }
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": (
                        "Retry-safe key (up to 200 characters): the same key and body answer "
                        "the first response again; the same key with another body is refused."
                    ),
                    "schema": {"type": "string", "maxLength": 200, "minLength": 1},
                }
            },
        },
    }
    used = _referenced(document)
    document["components"]["schemas"] = {k: v for k, v in schemas.items() if k in used}
    # Request bodies are strict models (chassis `Strict`): unknown fields are refused, so
    # the contract says so (Litestar's generator leaves it out).
    bodies = [op.get("requestBody", {}) for item in paths.values() for op in item.values()]
    for name in _referenced(document, bodies):
        schema = document["components"]["schemas"][name]
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
    return document


def _referenced(document: dict[str, Any], roots: Any = None) -> set[str]:
    """The schemas `roots` (by default the public paths) reach."""
    schemas = document["components"]["schemas"]
    seen: set[str] = set()
    todo = [document["paths"] if roots is None else roots]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF) and ref[len(REF) :] not in seen:
                seen.add(ref[len(REF) :])
                todo.append(schemas[ref[len(REF) :]])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return seen


def render() -> str:
    return json.dumps(copy.deepcopy(merge()), indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> int:
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
