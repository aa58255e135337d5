"""Wiring only: settings -> runtime -> the use cases' Deps -> app."""

from __future__ import annotations

from litestar import Litestar

from portal_chassis.bus import declare_publications
from portal_chassis.clock import Clock, SystemClock
from portal_chassis.logging import configure_logging
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.web import create_app
from portal_contracts.registry import events_of
from portal_repairs import deps as repairs_deps
from portal_repairs.api import RepairsController
from portal_repairs.deps import Deps, build_deps
from portal_repairs.settings import RepairsSettings


def bootstrap(
    settings: RepairsSettings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime, Deps]:
    settings = settings or RepairsSettings()
    runtime = ServiceRuntime(settings)
    assert runtime.store is not None
    deps = build_deps(runtime.store, runtime.db, settings, clock or SystemClock())
    declare_publications(runtime.broker, "repairs", events_of("repairs"))
    return runtime, deps


def create(settings: RepairsSettings | None = None) -> Litestar:
    settings = settings or RepairsSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime, deps = bootstrap(settings)

    async def start() -> None:
        await repairs_deps.setup(deps)

    return create_app(
        title="Repairs service",
        route_handlers=[RepairsController],
        runtime=runtime,
        on_start=[start],
        state={"repairs": deps},
    )


def app() -> Litestar:
    return create()
