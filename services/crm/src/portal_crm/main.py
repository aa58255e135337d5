"""Wiring only: settings -> runtime -> service -> app."""

from __future__ import annotations

from litestar import Litestar

from portal_chassis.bus import declare_publications
from portal_chassis.clock import Clock, SystemClock
from portal_chassis.logging import configure_logging
from portal_chassis.periodic import Periodic
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.web import create_app
from portal_contracts.registry import events_of
from portal_crm import reactions
from portal_crm.api import (
    ActivitiesController,
    ContactsController,
    CrmSettingsController,
    CustomersController,
    CustomerSideController,
)
from portal_crm.handlers import CrmService
from portal_crm.settings import CrmSettings


def bootstrap(
    settings: CrmSettings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime, CrmService]:
    settings = settings or CrmSettings()
    runtime = ServiceRuntime(settings)
    assert runtime.store is not None
    service = CrmService(runtime.store, runtime.db, settings, clock or SystemClock())
    declare_publications(runtime.broker, "crm", events_of("crm"))
    reactions.register(runtime.broker, service, max_attempts=settings.consumer_max_attempts)
    return runtime, service


def create(settings: CrmSettings | None = None) -> Litestar:
    settings = settings or CrmSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime, service = bootstrap(settings)
    background = Periodic()
    background.every("levels", settings.recompute_seconds, service.recompute_levels)
    service.wake_recompute = lambda: background.wake("levels")

    async def start() -> None:
        await service.setup()
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
        state={"crm": service},
    )


def app() -> Litestar:
    return create()
