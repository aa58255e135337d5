"""RFC 9457 problem+json for every error, with a stable machine-readable `code`."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from portal_chassis.decider import DomainError
from portal_chassis.logging import get_logger
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
        # Litestar names the request path, ids included: the client knows it already.
        detail = _FOR_PATH.sub("", detail)
        if exc.extra:
            extra["errors"] = exc.extra
    if isinstance(exc, NotAuthorizedException):
        code = "unauthenticated"
    if status >= 500:
        log.error("server error", detail=exc.detail, status=status)
    return problem(status, code, detail, **extra)


_FOR_PATH = re.compile(r" for path \S+")
RESERVED = frozenset({"type", "title", "status", "detail", "code", "instance"})


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    # Extra members may not shadow the RFC 9457 ones.
    extra = {(f"x_{k}" if k in RESERVED else k): v for k, v in exc.extra.items()}
    return problem(exc.status_code, exc.code, exc.detail, **extra)


def _pydantic_error(_: Request[Any, Any, Any], exc: ValidationError) -> Response[dict[str, Any]]:
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return problem(400, "validation_error", "the request is not valid", errors=errors)


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", error=repr(exc))
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side"
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


def parse_json_body(raw: bytes, model: type[Any]) -> Any:
    """Validate a JSON body strictly with pydantic (no "100" -> 100 coercion by the
    framework's decoder); bad input becomes a 400 validation_error problem."""
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as exc:
        errors = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise ProblemError(
            400, "validation_error", "the request body is not valid", errors=errors
        ) from None
