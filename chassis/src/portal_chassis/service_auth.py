"""Calls between services: a client-credentials token from identity, cached until near expiry.

The token carries the `service` role; the called service verifies it like any other
token (identity's JWKS), so no shared secret travels between services.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import httpx

from portal_chassis.problems import ProblemError

SERVICE_TOKEN_PATH = "/v1/auth/service-token"


class CallerSettings(Protocol):
    """The settings of a service that calls others: its client credentials at identity."""

    @property
    def service_client_id(self) -> str: ...

    @property
    def service_client_secret(self) -> str: ...


class Tokens(Protocol):
    async def headers(self, extra: dict[str, str] | None = None) -> dict[str, Any]: ...

    def forget(self) -> None: ...


class ServiceTokenSource:
    def __init__(
        self, token_url: str, client_id: str, client_secret: str, client: httpx.AsyncClient
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.client = client
        self._token: str | None = None
        self._valid_until = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._valid_until:
                answer = await self.client.post(
                    self.token_url,
                    json={"client_id": self.client_id, "client_secret": self.client_secret},
                )
                if answer.status_code != 200:
                    raise ProblemError(
                        503, "service_auth_failed", "this service could not get a service token"
                    )
                body = answer.json()
                self._token = str(body["access_token"])
                # Renew a minute early so a token never expires in flight.
                self._valid_until = time.monotonic() + max(5, int(body["expires_in"]) - 60)
            return self._token

    @classmethod
    def of(cls, settings: CallerSettings, identity: httpx.AsyncClient) -> ServiceTokenSource:
        """This service's tokens, from identity (`identity` is based at identity's URL)."""
        return cls(
            SERVICE_TOKEN_PATH, settings.service_client_id, settings.service_client_secret, identity
        )

    def forget(self) -> None:
        self._token = None

    async def headers(self, extra: dict[str, str] | None = None) -> dict[str, Any]:
        return {"authorization": f"Bearer {await self.token()}", **(extra or {})}


class ServiceClient:
    """Calls to one other service, each carrying this service's token.

    A 401 means the token expired or predates a key rotation: the token is renewed and
    the call sent once more. Transport errors are the caller's to interpret (only it knows
    whether the call may have taken effect).
    """

    def __init__(self, client: httpx.AsyncClient, tokens: Tokens) -> None:
        self.client = client
        self.tokens = tokens

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        for attempt in range(2):
            sent = await self.tokens.headers(headers)
            answer = await self.client.request(method, path, json=json, headers=sent)
            if answer.status_code != 401 or attempt:
                break
            self.tokens.forget()
        return answer
