"""Wiring only: the public gateway app."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar

from portal_chassis.logging import configure_logging
from portal_chassis.periodic import Periodic
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.web import create_app
from portal_gateway.api import DashboardController, StaffDashboardController
from portal_gateway.browser_session import BrowserSessionController
from portal_gateway.dashboard import DashboardQueries
from portal_gateway.docs import DocsAssetsController, serve_public_openapi, swagger_page
from portal_gateway.edge import UploadQuota, edge_headers, request_limits
from portal_gateway.idempotency import IdempotencyStore
from portal_gateway.metrics_port import MetricsServer
from portal_gateway.routing import forwarding_handlers
from portal_gateway.sessions import RevokedSessions
from portal_gateway.settings import GatewaySettings
from portal_gateway.upstream import Upstream
from portal_gateway.web import serve_web

DESCRIPTION = (
    "Public API of the customer portal. Authenticate with `Authorization: Bearer <JWT>`; "
    "every route is scoped to the account in the token. Errors are RFC 9457 problem+json "
    "with a stable `code`."
)


def create(settings: GatewaySettings | None = None) -> Litestar:
    settings = settings or GatewaySettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime = ServiceRuntime(settings, with_event_store=False)
    wallet = Upstream("wallet", settings.wallet_url, settings.upstream_timeout_seconds)
    identity = Upstream("identity", settings.identity_url, settings.upstream_timeout_seconds)
    repairs = Upstream("repairs", settings.repairs_url, settings.upstream_timeout_seconds)
    tickets = Upstream("tickets", settings.tickets_url, settings.upstream_timeout_seconds)
    billing = Upstream("billing", settings.billing_url, settings.upstream_timeout_seconds)
    crm = Upstream("crm", settings.crm_url, settings.upstream_timeout_seconds)
    notifications = Upstream(
        "notifications", settings.notifications_url, settings.upstream_timeout_seconds
    )
    upstreams = {
        "wallet": wallet,
        "identity": identity,
        "repairs": repairs,
        "tickets": tickets,
        "billing": billing,
        "crm": crm,
        "notifications": notifications,
    }
    idempotency = IdempotencyStore(
        runtime.db,
        settings.idempotency_lease_seconds,
        timedelta(hours=settings.idempotency_retention_hours),
    )
    revoked = RevokedSessions(runtime.db, settings.revoked_sessions_keep_seconds)
    quota = UploadQuota(
        runtime.db, settings.upload_quota_bytes, settings.upload_quota_window_seconds
    )
    metrics = (
        MetricsServer(settings.metrics_host, settings.metrics_port)
        if settings.metrics_port is not None
        else None
    )
    background = Periodic()
    background.every("idempotency-purge", settings.idempotency_purge_seconds, idempotency.purge)
    background.every("revoked-sessions", settings.revoked_sessions_poll_seconds, revoked.refresh)
    background.every("revoked-sessions-purge", settings.idempotency_purge_seconds, revoked.purge)
    background.every("upload-quota-purge", settings.idempotency_purge_seconds, quota.purge_now)

    async def start() -> None:
        if metrics is not None:
            metrics.start()
        await idempotency.setup()
        await background.start()  # re-reads revoked sessions from its first tick on

    async def close() -> None:
        await background.stop()
        for upstream in upstreams.values():
            await upstream.close()
        if metrics is not None:
            metrics.stop()

    app = create_app(
        title="Customer portal API",
        description=DESCRIPTION,
        route_handlers=[
            # Before the prefix table: /api/v1/auth/session/... is the gateway's own.
            BrowserSessionController,
            *forwarding_handlers(),
            DashboardController,
            StaffDashboardController,
            DocsAssetsController,
        ],
        runtime=runtime,
        on_start=[start],
        on_stop=[close],
        readiness_checks=[u.ready for u in upstreams.values()],
        state={
            "upstreams": upstreams,
            "idempotency": idempotency,
            "dashboard": DashboardQueries(
                runtime.db, streams_per_user=settings.stream_max_per_user
            ),
            "settings": settings,
            "metrics": metrics,
        },
        middleware=[request_limits(settings, quota)],
        metrics_route=False,
        render_plugins=[swagger_page()],
    )
    serve_public_openapi(app)
    # Outermost, so that every answer (404s and 405s too) gets the security headers.
    app.asgi_handler = edge_headers(serve_web(app.asgi_handler, settings.web_dir), revoked)
    return app


def app() -> Litestar:
    return create()
