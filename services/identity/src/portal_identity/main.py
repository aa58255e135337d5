"""Wiring only: settings -> runtime -> service -> app."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from litestar import Litestar

from portal_chassis.auth import Principal
from portal_chassis.bus import declare_publications
from portal_chassis.clock import Clock, SystemClock
from portal_chassis.logging import configure_logging, get_logger
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.settings import AuthSettings
from portal_chassis.web import create_app
from portal_contracts.registry import events_of
from portal_identity.api import (
    AccountUsersController,
    AuthController,
    MeController,
    StaffController,
)
from portal_identity.handlers import IdentityService
from portal_identity.settings import IdentitySettings
from portal_identity.tokens import KeyRing, TokenService

log = get_logger(__name__)


class LocalVerifier:
    """Identity checks tokens against its own key ring (reloaded on an unknown kid)."""

    def __init__(self, tokens: TokenService, keyring: KeyRing, clock: Clock) -> None:
        self.tokens = tokens
        self.keyring = keyring
        self.clock = clock

    async def verify(self, token: str) -> Principal:
        import jwt

        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            kid = None
        if kid and kid not in self.keyring.keys:
            await self.keyring.load(self.clock.now())
        return self.tokens.verify(token)


def bootstrap(
    settings: IdentitySettings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime, IdentityService]:
    settings = settings or IdentitySettings()
    clock = clock or SystemClock()
    auth = AuthSettings()
    runtime = ServiceRuntime(settings, auth=auth)
    assert runtime.store is not None
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    # Retired keys stay published until every token they signed has expired.
    keyring = KeyRing(runtime.db, verify_window=access_ttl + timedelta(minutes=5))
    tokens = TokenService(
        runtime.db,
        keyring,
        auth,
        access_ttl,
        timedelta(days=settings.refresh_token_days),
        reuse_grace=timedelta(seconds=settings.refresh_reuse_grace_seconds),
    )
    service = IdentityService(runtime.store, runtime.db, settings, tokens, keyring, clock)
    runtime.verifier = LocalVerifier(tokens, keyring, clock)
    declare_publications(runtime.broker, "identity", events_of("identity"))
    return runtime, service


def create(settings: IdentitySettings | None = None) -> Litestar:
    settings = settings or IdentitySettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime, service = bootstrap(settings)
    tasks: dict[str, asyncio.Task[Any]] = {}

    async def reload_keys() -> None:
        # Picks up rotations made by other replicas.
        while True:
            await asyncio.sleep(settings.key_reload_seconds)
            try:
                await service.keyring.load(service.clock.now())
            except Exception as exc:
                log.warning("key reload failed", error=str(exc))

    async def purge_throttle() -> None:
        while True:
            await asyncio.sleep(settings.throttle_purge_seconds)
            try:
                await service.throttle.purge(service.clock.now())
            except Exception as exc:
                log.warning("throttle purge failed", error=str(exc))

    async def start() -> None:
        await service.setup()
        tasks["keys"] = asyncio.create_task(reload_keys())
        tasks["throttle"] = asyncio.create_task(purge_throttle())

    async def stop() -> None:
        for task in tasks.values():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return create_app(
        title="Identity service",
        route_handlers=[AuthController, MeController, AccountUsersController, StaffController],
        runtime=runtime,
        on_start=[start],
        on_stop=[stop],
        state={"identity": service, "token_verifier": runtime.verifier},
    )


def app() -> Litestar:
    return create()
