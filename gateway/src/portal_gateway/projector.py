"""The dashboard projector: consumes every context's topic into the gateway's read
models. Runs as its own process/deployment (`uvicorn --factory portal_gateway.projector:app`)
with health and metrics. `python -m portal_gateway.projector rebuild` (or `portal
projections rebuild`) requests a blue/green rebuild, which the running projector performs
beside the live read models (portal_chassis.rebuild).
"""

from __future__ import annotations

import asyncio
import sys
from functools import partial
from typing import Any

from litestar import Litestar
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.consumer import subscribe
from portal_chassis.logging import configure_logging
from portal_chassis.periodic import Periodic
from portal_chassis.projection import ProjectionStatus
from portal_chassis.rebuild import BlueGreenRebuild, request_rebuild, run_requested
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.settings import InfraSettings, ServiceSettings
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
    rebuild_poll_seconds: float = 1.0
    """How often the projector looks for a requested rebuild."""


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
    background = Periodic()
    rebuilding: dict[str, asyncio.Task[Any]] = {}
    background.every(
        "rebuild",
        getattr(settings, "rebuild_poll_seconds", 1.0),
        lambda: run_requested(
            runtime.db,
            partial(
                blue_green,
                runtime.db,
                settings,
                projection,
                max_attempts=settings.consumer_max_attempts,
            ),
            rebuilding,
        ),
    )

    async def lag() -> dict[str, Any]:
        return {"projection": await status.report()}

    async def subscribe_from_stored_group() -> None:
        # The consumer group and the read models' collections live in the database: a
        # rebuild may have moved them.
        await projection.setup()
        group = await status.group_id()
        register(runtime, projection, group, settings.consumer_max_attempts)

    async def stop() -> None:
        await background.stop()
        task = rebuilding.get("task")
        if task is not None:
            task.cancel()  # claimed again when this or another projector starts

    return create_app(
        title="Dashboard projector",
        route_handlers=[],
        runtime=runtime,
        before_start=[subscribe_from_stored_group],
        on_start=[background.start],
        on_stop=[stop],
        readiness_checks=[lag],
    )


def blue_green(
    db: AsyncDatabase[dict[str, Any]],
    infra: InfraSettings,
    live: DashboardProjection | None = None,
    *,
    topics: list[str] | None = None,
    max_attempts: int = 3,
) -> BlueGreenRebuild:
    """The dashboards' rebuild: beside `live` when the projector runs it, alone otherwise
    (`portal projections rebuild` with no projector running)."""
    return BlueGreenRebuild(
        db,
        PROJECTION,
        READ_MODELS,
        topics if topics is not None else TOPICS,
        lambda names: DashboardProjection(db, read_models=names, live=False).handle,
        infra,
        live,
        max_attempts=max_attempts,
    )


def app() -> Litestar:
    return create()


async def rebuild(settings: ServiceSettings | None = None) -> dict[str, Any] | None:
    """Request a rebuild (None: one is already requested or under way)."""
    settings = settings or ProjectorSettings()
    runtime = ServiceRuntime(settings, with_event_store=False)
    try:
        return await request_rebuild(runtime.db, PROJECTION, READ_MODELS)
    finally:
        await runtime.mongo.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["rebuild"]:
        requested = asyncio.run(rebuild())
        if requested is None:
            print("a rebuild is already requested or under way", file=sys.stderr)
            sys.exit(1)
        print(
            f"rebuild requested: the running projector replays into "
            f"{sorted(requested['read_models'].values())} under group "
            f"{requested['group_id']} and switches readers over when caught up"
        )
    else:
        print("usage: python -m portal_gateway.projector rebuild", file=sys.stderr)
        sys.exit(2)
