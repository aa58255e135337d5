"""Wiring only: settings -> runtime -> the use cases' Deps -> app."""

from __future__ import annotations

from litestar import Litestar

from portal_chassis.bus import declare_publications
from portal_chassis.clock import Clock, SystemClock
from portal_chassis.logging import configure_logging
from portal_chassis.periodic import Periodic
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.web import create_app
from portal_contracts.registry import events_of
from portal_crm import deps as crm_deps
from portal_crm import loyalty, reactions
from portal_crm.api import (
    ActivitiesController,
    ContactsController,
    CrmSettingsController,
    CustomersController,
    CustomerSideController,
)
from portal_crm.deps import Deps
from portal_crm.settings import CrmSettings


def bootstrap(
    settings: CrmSettings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime, Deps]:
    settings = settings or CrmSettings()
    runtime = ServiceRuntime(settings)
    assert runtime.store is not None
    deps = crm_deps.build_deps(runtime.store, runtime.db, settings, clock or SystemClock())
    declare_publications(runtime.broker, "crm", events_of("crm"))
    reactions.register(runtime.broker, deps, max_attempts=settings.consumer_max_attempts)
    return runtime, deps


def create(settings: CrmSettings | None = None) -> Litestar:
    settings = settings or CrmSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime, deps = bootstrap(settings)
    background = Periodic()
    background.every("levels", settings.recompute_seconds, lambda: loyalty.recompute_levels(deps))
    deps.wake_recompute = lambda: background.wake("levels")

    async def start() -> None:
        await crm_deps.setup(deps)
        await background.start()

    return create_app(
        title="CRM service",
        route_handlers=[
            ContactsController,
            CustomersController,
            CrmSettingsController,
            ActivitiesController,
            CustomerSideController,
        ],
        runtime=runtime,
        on_start=[start],
        on_stop=[background.stop],
        state={"crm": deps},
    )


def app() -> Litestar:
    return create()
