"""The wallet as billing sees it: an HTTP port (adapter) with a service token.

Every call carries an Idempotency-Key chosen by billing, so a retry after a timeout or a
crash moves money once.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from portal_chassis.decider import DomainError
from portal_chassis.logging import get_logger
from portal_chassis.problems import ProblemError
from portal_chassis.service_auth import ServiceTokenSource

log = get_logger(__name__)


class WalletPort(Protocol):
    async def debit(
        self, account_id: str, amount: int, currency: str, reference: str, key: str
    ) -> dict[str, Any]: ...

    async def credit(
        self, account_id: str, amount: int, currency: str, reason: str, reference: str, key: str
    ) -> dict[str, Any]: ...

    async def top_up(
        self, account_id: str, amount: int, currency: str, method: str, key: str
    ) -> dict[str, Any]: ...

    async def balance(self, account_id: str) -> dict[str, Any]: ...


class HttpWallet:
    def __init__(self, client: httpx.AsyncClient, tokens: ServiceTokenSource) -> None:
        self.client = client
        self.tokens = tokens

    async def _call(
        self, method: str, path: str, key: str | None = None, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        for attempt in range(2):
            headers = await self.tokens.headers({"idempotency-key": key} if key else None)
            try:
                answer = await self.client.request(method, path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                raise ProblemError(
                    503, "wallet_unavailable", f"the wallet did not answer ({type(exc).__name__})"
                ) from None
            if answer.status_code == 401 and attempt == 0:
                self.tokens.forget()  # expired or rotated: fetch a fresh token once
                continue
            break
        payload: dict[str, Any] = answer.json() if answer.content else {}
        if answer.status_code < 300:
            return payload
        if answer.status_code == 422:
            code = str(payload.get("code", "wallet_refused"))
            detail = (
                "the wallet balance is too low for this payment"
                if code == "insufficient_balance"
                else str(payload.get("detail", "the wallet refused"))
            )
            extra = {k: payload[k] for k in ("balance", "amount", "currency") if k in payload}
            raise DomainError(code, detail, **extra)
        if 400 <= answer.status_code < 500:
            raise ProblemError(
                answer.status_code,
                str(payload.get("code", "wallet_refused")),
                str(payload.get("detail", "the wallet refused")),
            )
        log.warning("wallet failed", path=path, status=answer.status_code)
        raise ProblemError(503, "wallet_unavailable", "the wallet failed; try again")

    async def debit(
        self, account_id: str, amount: int, currency: str, reference: str, key: str
    ) -> dict[str, Any]:
        return await self._call(
            "POST",
            f"/v1/wallets/{account_id}/debits",
            key,
            {
                "amount": amount,
                "currency": currency,
                "reason": "invoice_payment",
                "reference": reference,
            },
        )

    async def credit(
        self, account_id: str, amount: int, currency: str, reason: str, reference: str, key: str
    ) -> dict[str, Any]:
        return await self._call(
            "POST",
            f"/v1/wallets/{account_id}/credits",
            key,
            {"amount": amount, "currency": currency, "reason": reason, "reference": reference},
        )

    async def top_up(
        self, account_id: str, amount: int, currency: str, method: str, key: str
    ) -> dict[str, Any]:
        return await self._call(
            "POST",
            f"/v1/wallets/{account_id}/top-ups",
            key,
            {"amount": amount, "currency": currency, "method": method},
        )

    async def balance(self, account_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/v1/wallets/{account_id}")
