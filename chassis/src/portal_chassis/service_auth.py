"""Calls between services: a client-credentials token from identity, cached until near expiry.

The token carries the `service` role; the called service verifies it like any other
token (identity's JWKS), so no shared secret travels between services.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from portal_chassis.problems import ProblemError


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

    def forget(self) -> None:
        self._token = None

    async def headers(self, extra: dict[str, str] | None = None) -> dict[str, Any]:
        return {"authorization": f"Bearer {await self.token()}", **(extra or {})}
