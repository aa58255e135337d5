"""Wiring only: settings -> runtime -> adapters -> the use cases' Deps -> app."""

from __future__ import annotations

import httpx
from litestar import Litestar

from portal_billing import follow_ups, payments, reactions, renewals, streams
from portal_billing.api import (
    BillingAccountController,
    ClaimsController,
    ContractsController,
    InvoicesController,
    OrdersController,
    PlansController,
    PurchasesController,
    SubscriptionsController,
)
from portal_billing.deps import (
    Deps,
    build_deps,
)
from portal_billing.settings import BillingSettings
from portal_billing.wallet import HttpWallet, WalletPort
from portal_chassis.bus import declare_publications
from portal_chassis.clock import Clock, clock_from_env
from portal_chassis.logging import configure_logging
from portal_chassis.periodic import Periodic
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.service_auth import ServiceClient, ServiceTokenSource
from portal_chassis.web import create_app
from portal_contracts.registry import events_of


def bootstrap(
    settings: BillingSettings | None = None,
    clock: Clock | None = None,
    wallet: WalletPort | None = None,
) -> tuple[ServiceRuntime, Deps, list[httpx.AsyncClient]]:
    settings = settings or BillingSettings()
    runtime = ServiceRuntime(settings)
    assert runtime.store is not None
    clients: list[httpx.AsyncClient] = []
    if wallet is None:
        identity = httpx.AsyncClient(base_url=settings.identity_url, timeout=10)
        wallet_http = httpx.AsyncClient(
            base_url=settings.wallet_url, timeout=settings.wallet_timeout_seconds
        )
        clients = [identity, wallet_http]
        wallet = HttpWallet(ServiceClient(wallet_http, ServiceTokenSource.of(settings, identity)))
    deps = build_deps(runtime.store, runtime.db, settings, wallet, clock or clock_from_env())
    declare_publications(runtime.broker, "billing", events_of("billing"))
    reactions.register(runtime.broker, deps, max_attempts=settings.consumer_max_attempts)
    return runtime, deps, clients


def create(settings: BillingSettings | None = None) -> Litestar:
    settings = settings or BillingSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime, deps, clients = bootstrap(settings)
    background = Periodic()
    background.every("expiry", settings.expiry_sweep_seconds, lambda: renewals.check_expiry(deps))
    background.every(
        "credits", settings.expiry_sweep_seconds, lambda: follow_ups.retry_credits(deps)
    )
    background.every(
        "follow-ups", settings.expiry_sweep_seconds, lambda: follow_ups.resume_follow_ups(deps)
    )
    background.every(
        "payments", settings.payment_sweep_seconds, lambda: payments.resume_payments(deps)
    )

    async def start() -> None:
        await streams.setup(deps)
        await background.start()

    async def stop() -> None:
        await background.stop()
        for client in clients:
            await client.aclose()

    return create_app(
        title="Billing service",
        route_handlers=[
            PlansController,
            OrdersController,
            SubscriptionsController,
            ContractsController,
            InvoicesController,
            PurchasesController,
            ClaimsController,
            BillingAccountController,
        ],
        runtime=runtime,
        on_start=[start],
        on_stop=[stop],
        state={"billing": deps},
    )


def app() -> Litestar:
    return create()
