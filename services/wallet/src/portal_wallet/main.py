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
from portal_wallet import reactions
from portal_wallet.api import (
    HeldPaymentsController,
    MoneyController,
    WalletController,
    WebhookController,
)
from portal_wallet.handlers import WalletService, expiry_delta
from portal_wallet.payments import SandboxProvider
from portal_wallet.projections import TransactionsProjection
from portal_wallet.settings import WalletSettings


def bootstrap(
    settings: WalletSettings | None = None,
    clock: Clock | None = None,
    group_id: str = "wallet-transactions",
) -> tuple[ServiceRuntime, WalletService]:
    settings = settings or WalletSettings()
    runtime = ServiceRuntime(settings)
    assert runtime.store is not None
    provider = SandboxProvider(
        settings.sandbox_secret,
        expiry=expiry_delta(settings),
        bank_bin=settings.bank_bin,
        bank_account=settings.bank_account,
    )
    service = WalletService(
        runtime.store, runtime.db, settings, {provider.name: provider}, clock or SystemClock()
    )
    declare_publications(runtime.broker, "wallet", events_of("wallet"))
    reactions.register(
        runtime.broker,
        service,
        TransactionsProjection(runtime.db),
        max_attempts=settings.consumer_max_attempts,
        projection_group=group_id,
    )
    return runtime, service


def create(settings: WalletSettings | None = None) -> Litestar:
    settings = settings or WalletSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime, service = bootstrap(settings)
    background = Periodic()
    background.every("expiry", settings.expiry_sweep_seconds, service.expire_due)

    async def start() -> None:
        await service.setup()
        await background.start()

    async def stop() -> None:
        await background.stop()

    return create_app(
        title="Wallet service",
        route_handlers=[
            WalletController,
            MoneyController,
            HeldPaymentsController,
            WebhookController,
        ],
        runtime=runtime,
        on_start=[start],
        on_stop=[stop],
        state={"wallet": service},
    )


def app() -> Litestar:
    """Factory for uvicorn: `uvicorn --factory portal_wallet.main:app`."""
    return create()
