"""Wiring only: settings -> runtime -> the use cases' Deps -> app (and the SLA sweep)."""

from __future__ import annotations

import httpx
from litestar import Litestar

from portal_chassis.bus import declare_publications
from portal_chassis.clock import Clock, clock_from_env
from portal_chassis.logging import configure_logging
from portal_chassis.periodic import Periodic
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.web import create_app
from portal_contracts.registry import events_of
from portal_tickets import deps as tickets_deps
from portal_tickets import sweeps
from portal_tickets.api import TicketsController
from portal_tickets.codes import BillingCodes
from portal_tickets.deps import Deps, build_deps
from portal_tickets.settings import TicketsSettings


def bootstrap(
    settings: TicketsSettings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime, Deps]:
    settings = settings or TicketsSettings()
    runtime = ServiceRuntime(settings)
    assert runtime.store is not None
    billing = httpx.AsyncClient(base_url=settings.billing_url, timeout=10)
    deps = build_deps(
        runtime.store,
        runtime.db,
        settings,
        clock or clock_from_env(),
        codes=BillingCodes(billing),
    )
    declare_publications(runtime.broker, "tickets", events_of("tickets"))
    return runtime, deps


def create(settings: TicketsSettings | None = None) -> Litestar:
    settings = settings or TicketsSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime, deps = bootstrap(settings)
    background = Periodic()
    background.every("sweep", settings.sweep_seconds, lambda: sweeps.sweep(deps))

    async def start() -> None:
        await tickets_deps.setup(deps)
        await background.start()

    return create_app(
        title="Tickets service",
        route_handlers=[TicketsController],
        runtime=runtime,
        on_start=[start],
        on_stop=[background.stop],
        state={"tickets": deps},
    )


def app() -> Litestar:
    return create()
