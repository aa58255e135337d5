"""The dashboard projector: consumes every context's topic into the gateway's read
models. Runs as its own process/deployment (`uvicorn --factory portal_gateway.projector:app`)
with health and metrics; `python -m portal_gateway.projector rebuild` replays from 0.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from litestar import Litestar

from portal_chassis.consumer import subscribe
from portal_chassis.logging import configure_logging
from portal_chassis.projection import ProjectionStatus
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.settings import ServiceSettings
from portal_chassis.topics import CONTEXTS
from portal_chassis.web import create_app
from portal_gateway.dashboard import PROJECTION, READ_MODELS, DashboardProjection
from portal_gateway.sessions import GROUP as SESSIONS_GROUP
from portal_gateway.sessions import RevokedSessionsProjection
from portal_gateway.settings import GatewaySettings

TOPICS = [f"{context}.events" for context in CONTEXTS]
"""Every context's topic: dashboards may show anything that happens to an account."""


class ProjectorSettings(GatewaySettings):
    service_name: str = "gateway"
    port: int = 8190


def register(
    runtime: ServiceRuntime, projection: DashboardProjection, group_id: str, max_attempts: int
) -> None:
    """The one place listing the projector's subscriptions."""
    subscribe(runtime.broker, TOPICS, group_id, projection.handle, max_attempts=max_attempts)
    # Revoked sessions have a consumer group of their own: a dashboard rebuild (a new
    # group replaying from 0) never holds a logout back.
    keep = getattr(runtime.settings, "revoked_sessions_keep_seconds", 1800.0)
    sessions = RevokedSessionsProjection(runtime.db, keep)
    subscribe(
        runtime.broker,
        ["identity.events"],
        SESSIONS_GROUP,
        sessions.handle,
        max_attempts=max_attempts,
    )


def bootstrap_consumers(settings: ServiceSettings | None = None) -> ServiceRuntime:
    """The projector's broker with its subscriptions, unconnected (for the AsyncAPI doc)."""
    settings = settings or ProjectorSettings()
    runtime = ServiceRuntime(settings, with_event_store=False)
    register(runtime, DashboardProjection(runtime.db), PROJECTION, settings.consumer_max_attempts)
    return runtime


def create(settings: ServiceSettings | None = None) -> Litestar:
    settings = settings or ProjectorSettings()
    configure_logging("projector", settings.log_level, settings.log_json)
    runtime = ServiceRuntime(settings, with_event_store=False)
    projection = DashboardProjection(runtime.db)
    status = ProjectionStatus(runtime.db, PROJECTION)

    async def start() -> None:
        await projection.setup()

    async def lag() -> dict[str, Any]:
        return {"projection": await status.report()}

    async def subscribe_from_stored_group() -> None:
        # The consumer group lives in the database so a rebuild can switch to a new one.
        group = await status.group_id()
        register(runtime, projection, group, settings.consumer_max_attempts)

    return create_app(
        title="Dashboard projector",
        route_handlers=[],
        runtime=runtime,
        before_start=[subscribe_from_stored_group],
        on_start=[start],
        readiness_checks=[lag],
    )


def app() -> Litestar:
    return create()


async def rebuild(settings: ServiceSettings | None = None) -> str:
    settings = settings or ProjectorSettings()
    runtime = ServiceRuntime(settings, with_event_store=False)
    try:
        return await ProjectionStatus(runtime.db, PROJECTION).start_rebuild(READ_MODELS)
    finally:
        await runtime.mongo.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["rebuild"]:
        print(
            f"read models dropped; new consumer group {asyncio.run(rebuild())} "
            "replays from offset 0 at the next start"
        )
    else:
        print("usage: python -m portal_gateway.projector rebuild", file=sys.stderr)
        sys.exit(2)
