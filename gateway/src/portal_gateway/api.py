"""The gateway's own public routes: the dashboards it reads from its projections and their
live stream. Everything else is forwarded by prefix (routing.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import ServerSentEvent

from portal_chassis.auth import authenticated, principal_from, staff_guard
from portal_gateway.dashboard import DashboardQueries, live_dashboard
from portal_gateway.dashboard_models import CustomerDashboard, StaffDashboard

STREAM_DESCRIPTION = (
    "An `event: dashboard` with the whole dashboard at once and whenever it changes, "
    'and an `event: notifications` with the user\'s unread bell count (`{"unread": n}`) '
    "at once and whenever it changes; "
    "a comment line as a heartbeat. The stream ends after a while; EventSource "
    "reconnects by itself (`retry` is sent)."
)


async def _stream(request: Request[Any, Any, Any], *, staff: bool) -> ServerSentEvent:
    principal = await principal_from(request)
    queries: DashboardQueries = request.app.state.dashboard
    settings = request.app.state.settings
    return ServerSentEvent(
        live_dashboard(
            queries,
            principal,
            poll=settings.stream_poll_seconds,
            heartbeat=settings.stream_heartbeat_seconds,
            lifetime=settings.stream_lifetime_seconds,
            staff=staff,
        ),
        retry_duration=1000,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class StaffDashboardController(Controller):
    path = "/api/v1/staff/dashboard"
    tags = ["dashboard"]
    guards = [staff_guard]

    @get("/", summary="Staff dashboard: platform-wide figures of every context")
    async def dashboard(self, request: Request[Any, Any, Any]) -> StaffDashboard:
        queries: DashboardQueries = request.app.state.dashboard
        return StaffDashboard.model_validate(await queries.for_staff())

    @get(
        "/stream",
        summary="Staff dashboard, live (server-sent events)",
        description=STREAM_DESCRIPTION,
    )
    async def stream(self, request: Request[Any, Any, Any]) -> ServerSentEvent:
        return await _stream(request, staff=True)


class DashboardController(Controller):
    path = "/api/v1/dashboard"
    guards = [authenticated]
    tags = ["dashboard"]

    @get("/", summary="My dashboard: balance, total topped up, recent transactions")
    async def dashboard(self, request: Request[Any, Any, Any]) -> CustomerDashboard:
        principal = await principal_from(request)
        queries: DashboardQueries = request.app.state.dashboard
        return CustomerDashboard.model_validate(await queries.for_account(principal))

    @get(
        "/stream",
        summary="My dashboard, live (server-sent events)",
        description=STREAM_DESCRIPTION,
    )
    async def stream(self, request: Request[Any, Any, Any]) -> ServerSentEvent:
        return await _stream(request, staff=False)
