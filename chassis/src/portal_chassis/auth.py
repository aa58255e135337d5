"""Bearer-token verification shared by the gateway and every service.

Tokens are ES256 JWTs issued by identity. Verifiers fetch identity's JWKS, cache it and
refresh it when a token names an unknown key id (key rotation), at most every few
seconds. The caller's account id always comes from the token, never from the body or
the path.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import jwt
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from portal_chassis.logging import get_logger
from portal_chassis.problems import ProblemError
from portal_chassis.settings import AuthSettings

log = get_logger(__name__)

STAFF_ROLES = frozenset({"support_agent", "technician", "sales", "billing_admin", "platform_admin"})
ACCOUNT_MANAGERS = frozenset({"owner", "admin"})
UNVERIFIED_MARK = "email_unverified"
"""Carried among a token's roles while the user's address is unproved (like `dept:<id>`)."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    account_id: str
    roles: frozenset[str]
    session_id: str | None
    token: str

    @property
    def is_staff(self) -> bool:
        """Platform staff (our side), as opposed to a customer account's staff user."""
        return bool(self.roles & STAFF_ROLES)

    @property
    def manages_account(self) -> bool:
        return bool(self.roles & ACCOUNT_MANAGERS)

    @property
    def department(self) -> str | None:
        """A platform staff member's department (carried as the role `dept:<id>`)."""
        return next((r[5:] for r in self.roles if r.startswith("dept:")), None)

    @property
    def email_verified(self) -> bool:
        return UNVERIFIED_MARK not in self.roles

    def require_verified_email(self) -> None:
        """Paying, inviting and changing the address wait until the address is proved."""
        if not self.email_verified:
            raise ProblemError(
                403, "email_unverified", "confirm your email address first (see the mail we sent)"
            )


async def verified_email(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: the caller's address is proved (payments, invitations, email changes)."""
    (await principal_from(connection)).require_verified_email()


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal: ...


def decode_claims(token: str, key: Any, algorithm: str, settings: AuthSettings) -> Principal:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "sub", "aud", "iss"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise ProblemError(401, "token_expired", "the access token has expired") from None
    except jwt.PyJWTError:
        raise ProblemError(401, "invalid_token", "the access token is not valid") from None
    account_id = claims.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise ProblemError(401, "invalid_token", "the access token names no account")
    roles = claims.get("roles") or []
    return Principal(
        str(claims["sub"]), account_id, frozenset(map(str, roles)), claims.get("sid"), token
    )


class JwksVerifier:
    def __init__(self, settings: AuthSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.client = client or httpx.AsyncClient(timeout=5)
        self._keys: dict[str, tuple[Any, str]] = {}
        self._fetched_at = 0.0
        self._attempted_at = -float("inf")
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return bool(self._keys) and (
            time.monotonic() - self._fetched_at < self.settings.jwks_cache_seconds
        )

    async def _fetch(self, asked: float) -> None:
        async with self._lock:
            if self._attempted_at >= asked:
                return  # fetched (or tried) while this caller waited for the lock
            self._attempted_at = time.monotonic()
            try:
                response = await self.client.get(self.settings.jwks_url)
                response.raise_for_status()
                keys = {}
                for jwk in response.json().get("keys", []):
                    algorithm = jwk.get("alg", "ES256")
                    keys[jwk["kid"]] = (jwt.PyJWK(jwk, algorithm).key, algorithm)
            except (httpx.HTTPError, ValueError, KeyError, jwt.PyJWTError) as exc:
                # The keys we have stay in use; the next try comes after the throttle.
                log.warning("could not fetch the JWKS", url=self.settings.jwks_url, error=str(exc))
                return
            self._keys = keys
            self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> Principal:
        try:
            kid = str(jwt.get_unverified_header(token).get("kid"))
        except jwt.PyJWTError:
            raise ProblemError(401, "invalid_token", "the access token is not valid") from None
        # A stale key set, or an unknown kid (maybe identity rotated its key): fetch again,
        # but at most every few seconds (identity down: not once per request). Meanwhile
        # an unknown kid is refused at once: waiting for the next allowed refresh would
        # hold every forged token's request for seconds.
        asked = time.monotonic()
        if (not self._fresh() or kid not in self._keys) and (
            asked - self._attempted_at >= self.settings.jwks_min_refresh_seconds
        ):
            await self._fetch(asked)
        if not self._keys:
            raise ProblemError(503, "auth_unavailable", "tokens cannot be checked right now")
        if kid not in self._keys:
            raise ProblemError(401, "invalid_token", "the access token is not valid")
        key, algorithm = self._keys[kid]
        return decode_claims(token, key, algorithm, self.settings)

    async def ready(self) -> dict[str, str]:
        if not self._fresh():
            await self._fetch(time.monotonic())
        return {"jwks": "ok" if self._keys else "down"}


def bearer_token(request: Request[Any, Any, Any] | ASGIConnection[Any, Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProblemError(401, "unauthenticated", "a bearer token is required")
    return token.strip()


async def principal_from(
    request: Request[Any, Any, Any] | ASGIConnection[Any, Any, Any, Any],
) -> Principal:
    cached = request.scope.get("principal")
    if isinstance(cached, Principal):
        return cached
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(bearer_token(request))
    request.scope["principal"] = principal  # type: ignore[typeddict-unknown-key]
    return principal


async def optional_principal(
    request: Request[Any, Any, Any] | ASGIConnection[Any, Any, Any, Any],
) -> Principal | None:
    """For public reads: None without a token; a token that is sent must be valid."""
    if not request.headers.get("authorization"):
        return None
    return await principal_from(request)


async def signed_in_unless_anonymous(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard of public reads: anonymous callers pass, a sent token must be valid."""
    await optional_principal(connection)


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: a valid token before anything else of the request is looked at."""
    await principal_from(connection)


async def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = await principal_from(connection)
    if not principal.is_staff:
        # Not "a staff role": a customer account's own `staff` users are refused too.
        raise ProblemError(403, "forbidden", "this is for platform staff only")


def require_roles(principal: Principal, roles: frozenset[str], what: str) -> None:
    if not principal.roles & roles:
        raise ProblemError(403, "forbidden", f"{what} needs one of: {', '.join(sorted(roles))}")
