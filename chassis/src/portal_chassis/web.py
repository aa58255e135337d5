"""Litestar pieces every HTTP app shares: health, metrics, problems, correlation ids."""

from __future__ import annotations

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

ReadinessCheck = Callable[[], Any]


class HealthController(Controller):
    path = "/health"
    include_in_schema = False

    @get("/live", media_type=MediaType.JSON)
    async def live(self) -> dict[str, str]:
        return {"status": "alive"}

    @get("/ready", media_type=MediaType.JSON)
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Any]:
        checks: dict[str, Any] = {}
        for check in request.app.state.readiness_checks:
            checks.update(await check())
        healthy = all(
            v == "ok"
            for k, v in checks.items()
            if k in {"mongodb", "kafka"} or k.endswith("_service")
        )
        if not healthy:
            return problem(503, "not_ready", "a dependency is not reachable", checks=checks)
        return Response({"status": "ready", "checks": checks})


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def correlation_middleware(app: ASGIApp) -> ASGIApp:
    """Bind the correlation id of every request (X-Correlation-ID or a new one)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        incoming = headers.get(b"x-correlation-id", b"").decode("latin-1")[:100] or None
        correlation_id = bind_ids(incoming, method=scope.get("method"), path=scope.get("path"))

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
    app_state = {"readiness_checks": checks, **(state or {})}
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
        middleware=[correlation_middleware, prometheus.middleware, *middleware],
        openapi_config=OpenAPIConfig(
            title=title,
            version="1.0.0",
            description=description,
            path="/schema",
            render_plugins=list(render_plugins or [SwaggerRenderPlugin()]),
        ),
        state=State(app_state),
        debug=False,
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
