"""Forwarding a public request to the service that owns it (HTTP, never imports)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from litestar import Request, Response

from portal_chassis.auth import principal_from
from portal_chassis.logging import current_ids
from portal_chassis.problems import PROBLEM_JSON, RETRY_AFTER_SECONDS, problem

FORWARDED_HEADERS = (
    "authorization",
    "idempotency-key",
    "traceparent",
    "portal-signature",
    "content-type",
    "user-agent",
    "qr-poll-token",
    "accept",
)


def seg(value: str) -> str:
    """One path segment of an upstream URL, escaped so that an id can never change the
    upstream path or query (`/`, `?`, `#`, `%` are encoded; `.` and `..` would be
    collapsed by the URL parser, so their dots are encoded too)."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def _content_type(value: str) -> str:
    """The upstream's content type with each parameter once (`charset` twice is invalid)."""
    media_type, *params = (part.strip() for part in value.split(";"))
    seen: dict[str, str] = {}
    for param in params:
        name = param.partition("=")[0].strip().lower()
        if param and name not in seen:
            seen[name] = param
    return "; ".join([media_type, *seen.values()])


class Upstream:
    def __init__(self, name: str, base_url: str, timeout: float) -> None:
        self.name = name
        # Idle connections expire well before the server's keep-alive (15 s) closes them,
        # so a request never lands on a connection the server is dropping.
        self.client = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, limits=httpx.Limits(keepalive_expiry=4.0)
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def forward(
        self,
        request: Request[Any, Any, Any],
        path: str,
        *,
        body: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> Response[Any]:
        """Forward to `path`; the query goes as it came (repeated keys too) unless `params`
        replaces it."""
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
        if request.client:
            headers["x-client-address"] = request.client.host
        correlation_id, _ = current_ids()
        if correlation_id:
            headers["x-correlation-id"] = correlation_id
        try:
            upstream = await self.client.request(
                request.method,
                path,
                content=body,
                headers=headers,
                params=params if params is not None else request.scope["query_string"],
            )
        except httpx.InvalidURL:
            # Ids are escaped (`seg`) and control characters refused before; never a 500.
            return problem(400, "invalid_path", "the path is not valid")
        except httpx.HTTPError as exc:
            return problem(
                503,
                "upstream_unavailable",
                f"the {self.name} service did not answer ({type(exc).__name__})",
                retry_after=RETRY_AFTER_SECONDS,
            )
        content_type = _content_type(upstream.headers.get("content-type", "application/json"))
        passed = {
            k: v
            for k, v in upstream.headers.items()
            if k.lower()
            in (
                "retry-after",
                "content-disposition",
                "x-content-type-options",
                "www-authenticate",
                "cache-control",
                "idempotent-replayed",
                "allow",  # a 405's and an OPTIONS answer's methods
            )
        }
        if upstream.status_code == 503 and content_type.startswith(PROBLEM_JSON):
            # The service is up and says what is away (its database, a service it needs):
            # pass its problem on, with when to retry.
            passed.setdefault("retry-after", str(RETRY_AFTER_SECONDS))
        elif upstream.status_code >= 500:
            # Never leak an upstream crash as our own 500 with its internals.
            return problem(502, "upstream_error", f"the {self.name} service failed")
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            media_type=content_type,
            # Set as it is: Litestar would append a second `charset` to a text/* type.
            headers={**passed, "content-type": content_type},
        )

    async def ready(self) -> dict[str, str]:
        try:
            r = await self.client.get("/health/ready", timeout=2.5)
            return {f"{self.name}_service": "ok" if r.status_code == 200 else "down"}
        except httpx.HTTPError:
            return {f"{self.name}_service": "down"}


async def forward_to(request: Request[Any, Any, Any], upstream: str, path: str) -> Response[Any]:
    """Forward a public request as it is (body of writes included) to one service.

    A write with an `Idempotency-Key` from a signed-in caller goes through the gateway's
    idempotency store: the same request again gets the first answer, whichever service
    handles it (services that also keep keys see the header too).
    """
    target: Upstream = request.app.state.upstreams[upstream]
    body = await request.body() if request.method in ("POST", "PATCH", "PUT") else None
    key = request.headers.get("idempotency-key")
    if key and request.method in WRITES and request.headers.get("authorization"):
        principal = await principal_from(request)
        store = request.app.state.idempotency
        return await store.run(  # type: ignore[no-any-return]
            principal.account_id,
            key,
            (request.method, f"{request.url.path}?{request.url.query or ''}", body or b""),
            lambda: target.forward(request, path, body=body),
        )
    return await target.forward(request, path, body=body)


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_problem(response: Response[Any]) -> bool:
    return str(response.media_type or "").startswith(PROBLEM_JSON)
