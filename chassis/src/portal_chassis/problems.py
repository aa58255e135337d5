"""RFC 9457 problem+json for every error, with a stable machine-readable `code`."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    SerializationException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from portal_chassis.decider import DomainError
from portal_chassis.logging import current_ids, get_logger
from portal_chassis.mongo import is_database_unavailable

PROBLEM_JSON = "application/problem+json"
log = get_logger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    503: "unavailable",
}


class ProblemError(HTTPException):
    """Raise from a route for a 4xx with a specific code."""

    def __init__(self, status_code: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(status_code=status_code, detail=detail)
        self.code = code
        self.problem_extra = extra


def problem(status: int, code: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body = {
        "type": f"https://portal.local/problems/{code.replace('_', '-')}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    if status >= 500:
        # Lets a user quote the failure and an operator find its log lines.
        body.setdefault("correlation_id", current_ids()[0])
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="portal"'
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    elif status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)  # every outage says when to retry
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, ProblemError):
        return problem(exc.status_code, exc.code, exc.detail, **exc.problem_extra)
    status = exc.status_code
    extra: dict[str, Any] = {}
    code = _CODES.get(status, "error")
    detail = exc.detail
    if isinstance(exc, ValidationException):
        code = "validation_error"
        # Litestar names the method and path ("Validation failed for GET /v1/x?y=1"):
        # behind the gateway that is an internal upstream route, so it goes.
        detail = _FOR_PATH.sub("", detail)
        if exc.extra:
            extra["errors"] = _as_pydantic_errors(exc.extra)
    elif _undecodable_body(exc):
        code = "validation_error"
        extra["errors"] = [{"loc": ["body"], "msg": detail, "type": "json_invalid"}]
    if isinstance(exc, NotAuthorizedException):
        code = "unauthenticated"
    if status >= 500:
        _log_safely("server error", detail=exc.detail, status=status)
    answer = problem(status, code, detail, **extra)
    allow = (exc.headers or {}).get("allow") or (exc.headers or {}).get("Allow")
    if allow:  # a 405 says which methods the path takes (RFC 9110)
        answer.headers["Allow"] = allow
    return answer


def _undecodable_body(exc: HTTPException) -> bool:
    """Litestar's answer to a typed body that is not JSON at all: a bad body like any other
    (as when the routes parsed their bodies themselves), not a bare `bad_request`."""
    return isinstance(exc, ClientException) and isinstance(exc.__cause__, SerializationException)


def _as_pydantic_errors(errors: Any) -> Any:
    """Litestar's `{key, message, source}` as the `{loc, msg, type}` every other 400 has."""
    if not isinstance(errors, list):
        return errors
    return [
        {
            "loc": [e.get("source") or "body", *([e["key"]] if e.get("key") else [])],
            "msg": e["message"],
            "type": "invalid",
        }
        if isinstance(e, dict) and "message" in e
        else e
        for e in errors
    ]


_FOR_PATH = re.compile(r" for (?:path|[A-Z]+) \S+")
RESERVED = frozenset({"type", "title", "status", "detail", "code", "instance"})


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    # Extra members may not shadow the RFC 9457 ones.
    extra = {(f"x_{k}" if k in RESERVED else k): v for k, v in exc.extra.items()}
    return problem(exc.status_code, exc.code, exc.detail, **extra)


def _pydantic_error(_: Request[Any, Any, Any], exc: ValidationError) -> Response[dict[str, Any]]:
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return problem(400, "validation_error", "the request is not valid", errors=errors)


def _log_safely(event: str, exc_info: bool = False, **fields: Any) -> None:
    # A broken log set-up must not turn an error answer into a crash.
    with contextlib.suppress(Exception):
        log.error(event, exc_info=exc_info, **fields)


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The last resort: built from plain strings so that it cannot fail itself (if it
    did, the server would answer a bare text/plain 500)."""
    _log_safely("unhandled error", exc_info=True, error=repr(exc))
    correlation_id = current_ids()[0]  # a read of context variables: cannot fail
    body = {
        "type": "https://portal.local/problems/internal-error",
        "title": "Internal error",
        "status": HTTP_500_INTERNAL_SERVER_ERROR,
        "detail": "something went wrong on our side",
        "code": "internal_error",
        "correlation_id": correlation_id if isinstance(correlation_id, str) else None,
    }
    return Response(
        json.dumps(body).encode(),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=PROBLEM_JSON,
    )


RETRY_AFTER_SECONDS = 5


def _database_unavailable(_: Request[Any, Any, Any], exc: PyMongoError) -> Response[Any]:
    if not is_database_unavailable(exc):
        return _unexpected(_, exc)
    log.warning("database unavailable", error=str(exc)[:300])
    return problem(
        503,
        "database_unavailable",
        "the database is not reachable right now; try again shortly",
        retry_after=RETRY_AFTER_SECONDS,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: _http_exception,
    DomainError: _domain_error,
    ValidationError: _pydantic_error,
    # An outage is a 503 with Retry-After at once, not a 500 after a long wait.
    PyMongoError: _database_unavailable,
    Exception: _unexpected,
}
