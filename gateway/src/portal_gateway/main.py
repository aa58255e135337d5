"""Wiring only: the public gateway app."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar

from portal_chassis.logging import configure_logging
from portal_chassis.periodic import Periodic
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.web import create_app
from portal_gateway.api import (
    DashboardController,
    PaymentsController,
    StaffDashboardController,
    WalletController,
)
from portal_gateway.billing_routes import CONTROLLERS as BILLING_CONTROLLERS
from portal_gateway.crm_routes import CONTROLLERS as CRM_CONTROLLERS
from portal_gateway.dashboard import DashboardQueries
from portal_gateway.idempotency import IdempotencyStore
from portal_gateway.identity_routes import (
    AccountUsersController,
    AuthController,
    MeController,
    StaffController,
    WellKnownController,
)
from portal_gateway.repairs_routes import RepairsController
from portal_gateway.settings import GatewaySettings
from portal_gateway.tickets_routes import TicketsController
from portal_gateway.upstream import Upstream
from portal_gateway.wallet_staff_routes import HeldPaymentsController

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
    upstreams = {
        "wallet": wallet,
        "identity": identity,
        "repairs": repairs,
        "tickets": tickets,
        "billing": billing,
        "crm": crm,
    }
    idempotency = IdempotencyStore(
        runtime.db,
        settings.idempotency_lease_seconds,
        timedelta(hours=settings.idempotency_retention_hours),
    )
    background = Periodic()
    background.every("idempotency-purge", settings.idempotency_purge_seconds, idempotency.purge)

    async def start() -> None:
        await idempotency.setup()
        await background.start()

    async def close() -> None:
        await background.stop()
        for upstream in upstreams.values():
            await upstream.close()

    return create_app(
        title="Customer portal API",
        description=DESCRIPTION,
        route_handlers=[
            AuthController,
            MeController,
            AccountUsersController,
            StaffController,
            WellKnownController,
            WalletController,
            PaymentsController,
            DashboardController,
            StaffDashboardController,
            HeldPaymentsController,
            RepairsController,
            TicketsController,
            *BILLING_CONTROLLERS,
            *CRM_CONTROLLERS,
        ],
        runtime=runtime,
        on_start=[start],
        on_stop=[close],
        readiness_checks=[u.ready for u in upstreams.values()],
        state={
            "upstreams": upstreams,
            "idempotency": idempotency,
            "dashboard": DashboardQueries(runtime.db),
            "settings": settings,
        },
    )


def app() -> Litestar:
    return create()
