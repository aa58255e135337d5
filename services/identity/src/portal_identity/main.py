"""Wiring only: settings -> runtime -> service -> app."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar

from portal_chassis.auth import Principal
from portal_chassis.bus import declare_publications
from portal_chassis.clock import Clock, SystemClock
from portal_chassis.logging import configure_logging
from portal_chassis.periodic import Periodic
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.settings import AuthSettings
from portal_chassis.web import create_app
from portal_contracts.registry import events_of
from portal_identity.api import (
    AccountUsersController,
    AuthController,
    InternalController,
    MeController,
    StaffController,
)
from portal_identity.handlers import IdentityService
from portal_identity.settings import IdentitySettings
from portal_identity.tokens import KeyRing, TokenService


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
    background = Periodic()

    async def reload_keys() -> None:
        await service.keyring.load(service.clock.now())  # rotations made by other replicas

    async def purge_throttle() -> None:
        await service.throttle.purge(service.clock.now())

    async def purge_tokens() -> None:
        await service.tokens.purge(service.clock.now())
        await service.mfa.purge(service.clock.now())
        await service.purge_links(service.clock.now())

    background.every("keys", settings.key_reload_seconds, reload_keys)
    background.every("throttle", settings.throttle_purge_seconds, purge_throttle)
    background.every("tokens", settings.throttle_purge_seconds, purge_tokens)

    async def start() -> None:
        await service.setup()
        await background.start()

    return create_app(
        title="Identity service",
        route_handlers=[
            AuthController,
            MeController,
            AccountUsersController,
            StaffController,
            InternalController,
        ],
        runtime=runtime,
        on_start=[start],
        on_stop=[background.stop],
        state={"identity": service, "token_verifier": runtime.verifier},
    )


def app() -> Litestar:
    return create()
