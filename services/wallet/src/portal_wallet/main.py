"""Wiring only: settings -> runtime -> service -> app."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import Litestar

from portal_chassis.bus import declare_publications
from portal_chassis.clock import Clock, SystemClock
from portal_chassis.logging import configure_logging, get_logger
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

log = get_logger(__name__)


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
    sweeper: dict[str, asyncio.Task[Any]] = {}

    async def sweep() -> None:
        while True:
            await asyncio.sleep(settings.expiry_sweep_seconds)
            try:
                await service.expire_due()
            except Exception as exc:
                log.warning("expiry sweep failed", error=str(exc))

    async def start() -> None:
        await service.setup()
        sweeper["task"] = asyncio.create_task(sweep())

    async def stop() -> None:
        if "task" in sweeper:
            sweeper["task"].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper["task"]

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
