"""Bearer-token verification shared by the gateway and the services.

Until identity publishes a JWKS, tokens are verified with a configured key. The
caller's account id always comes from the token, never from the body or the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from portal_chassis.problems import ProblemError
from portal_chassis.settings import AuthSettings

STAFF_ROLES = frozenset({"support_agent", "technician", "sales", "billing_admin", "platform_admin"})


@dataclass(frozen=True)
class Principal:
    user_id: str
    account_id: str
    roles: frozenset[str]
    token: str

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.settings.secret,
                algorithms=[self.settings.algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={"require": ["exp", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise ProblemError(401, "token_expired", "the access token has expired") from None
        except jwt.PyJWTError:
            raise ProblemError(401, "invalid_token", "the access token is not valid") from None
        account_id = claims.get("account_id")
        if not isinstance(account_id, str) or not account_id:
            raise ProblemError(401, "invalid_token", "the access token names no account")
        roles = claims.get("roles") or []
        return Principal(str(claims["sub"]), account_id, frozenset(map(str, roles)), token)

    def mint(
        self,
        user_id: str,
        account_id: str,
        roles: list[str] | None = None,
        ttl: timedelta = timedelta(minutes=15),
        now: datetime | None = None,
    ) -> str:
        """Issue a token the way identity will; used by tests and `make dev`'s demo user."""
        now = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "sub": user_id,
            "account_id": account_id,
            "roles": roles or ["owner"],
            "aud": self.settings.audience,
            "iss": self.settings.issuer,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        return jwt.encode(claims, self.settings.secret, algorithm=self.settings.algorithm)


def bearer_token(request: Request[Any, Any, Any] | ASGIConnection[Any, Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "unauthenticated", "a bearer token is required")
    return token.strip()


def principal_from(request: Request[Any, Any, Any]) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(bearer_token(request))


def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    verifier: TokenVerifier = connection.app.state.token_verifier
    principal = verifier.verify(bearer_token(connection))
    if not principal.is_staff:
        raise ProblemError(403, "forbidden", "this needs a staff role")
