"""Litestar pieces every HTTP app shares: health, metrics, problems, correlation ids."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from litestar import Controller, Litestar, MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import HeaderParameter
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import ASGIApp, Receive, Scope, Send

from portal_chassis.logging import bind_ids
from portal_chassis.problems import EXCEPTION_HANDLERS, problem
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.tracing import asgi_middleware

ReadinessCheck = Callable[[], Any]


class HealthController(Controller):
    """`live`: restart me (wedged database client, stalled event loop). `ready`: send me
    requests (my own database answers). Dependencies (Kafka, other services) are reported
    in the body but never make a service unready: it still serves what it can, and a
    problem elsewhere must not take every replica out of its load balancer."""

    path = "/health"
    include_in_schema = False

    @get("/live", media_type=MediaType.JSON)
    async def live(self, request: Request[Any, Any, Any]) -> Response[Any]:
        runtime: ServiceRuntime | None = request.app.state.get("runtime")
        checks = runtime.liveness() if runtime is not None else {}
        if any(v != "ok" for v in checks.values()):
            return problem(503, "not_live", "this process needs a restart", checks=checks)
        return Response({"status": "alive", "checks": checks})

    @get("/ready", media_type=MediaType.JSON)
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Any]:
        checks: dict[str, Any] = {}
        results = await asyncio.gather(
            *(_bounded(check) for check in request.app.state.readiness_checks)
        )
        for result in results:
            checks.update(result)
        runtime: ServiceRuntime | None = request.app.state.get("runtime")
        if runtime is not None:
            checks.update(runtime.database_health.report())  # known even if a check timed out
        own_database = runtime is None or checks.get("mongodb") == "ok"
        if not own_database:
            return problem(
                503, "not_ready", "this service's database is not reachable", checks=checks
            )
        return Response({"status": "ready", "checks": checks})


async def _bounded(check: ReadinessCheck) -> dict[str, Any]:
    """A check that does not answer in time is reported, never waited for."""
    name = getattr(check, "__qualname__", "check")
    try:
        return dict(await asyncio.wait_for(check(), timeout=READINESS_CHECK_SECONDS))
    except TimeoutError:
        return {name: "timeout"}
    except Exception as exc:
        return {name: f"failed: {type(exc).__name__}"}


READINESS_CHECK_SECONDS = 3.0


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def correlation_middleware(app: ASGIApp) -> ASGIApp:
    """Bind the correlation id of every request (X-Correlation-ID or a new one) and the
    trace id of its `traceparent` if any."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        incoming = headers.get(b"x-correlation-id", b"").decode("latin-1")[:100] or None
        traceparent = headers.get(b"traceparent", b"").decode("latin-1")[:100] or None
        correlation_id = bind_ids(
            incoming, traceparent=traceparent, method=scope.get("method"), path=scope.get("path")
        )

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-correlation-id", correlation_id.encode()),
                ]
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


def _has_control_character(path: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in path)


def path_guard_middleware(app: ASGIApp) -> ASGIApp:
    """A control character in the path (`%00`, `%0A` in an id) is never a valid id: refuse
    it as a 400 before it reaches a handler, a database query or an upstream URL."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_control_character(scope.get("path", "")):
            # Answered here (not raised): an exception from a middleware would skip the
            # correlation id header on its way out.
            refused = problem(400, "invalid_path", "the path holds a control character")
            request: Request[Any, Any, Any] = Request(scope, receive, send)
            await refused.to_asgi_response(app=None, request=request)(scope, receive, send)
            return
        await app(scope, receive, send)

    return middleware


def create_app(
    *,
    title: str,
    route_handlers: Sequence[Any],
    runtime: ServiceRuntime | None = None,
    before_start: Sequence[Callable[[], Any]] = (),
    on_start: Sequence[Callable[[], Any]] = (),
    on_stop: Sequence[Callable[[], Any]] = (),
    readiness_checks: Sequence[ReadinessCheck] = (),
    state: dict[str, Any] | None = None,
    description: str = "",
    middleware: Sequence[Any] = (),
    metrics_route: bool = True,
    render_plugins: Sequence[Any] | None = None,
) -> Litestar:
    """The app every process serves.

    `middleware` runs inside the shared ones, per route; `metrics_route=False` leaves
    `/metrics` off this app (a public app serves it on a port of its own instead);
    `render_plugins` replace the default Swagger UI page.
    """

    @asynccontextmanager
    async def lifespan(_: Litestar) -> Any:
        for hook in before_start:
            await hook()
        if runtime is not None:
            await runtime.start()
        for hook in on_start:
            await hook()
        try:
            yield
        finally:
            for hook in on_stop:
                await hook()
            if runtime is not None:
                await runtime.stop()

    checks = list(readiness_checks)
    if runtime is not None:
        checks.insert(0, runtime.readiness)
    app_state = {"readiness_checks": checks, "runtime": runtime, **(state or {})}
    if runtime is not None:
        app_state.setdefault("token_verifier", runtime.verifier)
    prometheus = PrometheusConfig(
        app_name=title.lower().replace(" ", "_"),
        prefix="portal_http",
        exclude=["/metrics", "/health"],
        group_path=True,
    )
    return Litestar(
        route_handlers=[
            HealthController,
            *([MetricsController] if metrics_route else []),
            *route_handlers,
        ],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            asgi_middleware(),
            correlation_middleware,
            path_guard_middleware,
            prometheus.middleware,
            *middleware,
        ],
        openapi_config=OpenAPIConfig(
            title=title,
            version="1.0.0",
            description=description,
            path="/schema",
            render_plugins=list(render_plugins or [SwaggerRenderPlugin()]),
        ),
        state=State(app_state),
        debug=False,
        # The process's logging is configure_logging's (one pipeline for every logger);
        # Litestar's default would replace the root handler with its own text format.
        logging_config=None,
    )


IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=200,
        description="Retry-safe key: the same key and body return the first response",
    ),
]
"""The `Idempotency-Key` header every write command accepts."""


def download(
    data: bytes | str,
    content_type: str,
    filename: str,
    *,
    inline: bool = False,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """A file answer: the type the server decided, `nosniff`, a server-made file name."""
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        media_type=content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            **(headers or {}),
        },
    )
