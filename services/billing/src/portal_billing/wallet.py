"""The wallet as billing sees it: an HTTP port (adapter) with a service token.

Every call carries an Idempotency-Key chosen by billing, so a retry after a timeout or a
crash moves money once.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from portal_chassis.decider import DomainError, Unavailable
from portal_chassis.logging import get_logger
from portal_chassis.service_auth import ServiceClient

log = get_logger(__name__)

# Answers after which the wallet may still act (a request timeout, a concurrent call with
# the same key, a rate limit): the outcome is unknown, so the call is retried with its key.
UNSETTLED_STATUSES = frozenset({408, 409, 425, 429})


class WalletUnavailable(Unavailable):
    """The wallet did not answer, failed, or could not settle the call yet: whether money
    moved is unknown. Retrying with the same Idempotency-Key is safe."""

    def __init__(self, detail: str, wallet_status: int | None = None) -> None:
        super().__init__("wallet_unavailable", detail)
        self.wallet_status = wallet_status


class WalletRefused(DomainError):
    """The wallet answered no (its own 4xx and code): nothing moved."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(code, detail, **extra)
        self.status_code = status


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
    def __init__(self, wallet: ServiceClient) -> None:
        self.wallet = wallet

    async def _call(
        self, method: str, path: str, key: str | None = None, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        headers = {"idempotency-key": key} if key else None
        try:
            answer = await self.wallet.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise WalletUnavailable(f"the wallet did not answer ({type(exc).__name__})") from None
        payload: dict[str, Any] = answer.json() if answer.content else {}
        if answer.status_code < 300:
            return payload
        status = answer.status_code
        if status >= 500 or status in UNSETTLED_STATUSES:
            log.warning("wallet failed", path=path, status=status)
            raise WalletUnavailable("the wallet failed; try again", wallet_status=status)
        code = str(payload.get("code", "wallet_refused"))
        detail = (
            "the wallet balance is too low for this payment"
            if code == "insufficient_balance"
            else str(payload.get("detail", "the wallet refused"))
        )
        extra = {k: payload[k] for k in ("balance", "amount", "currency") if k in payload}
        raise WalletRefused(status, code, detail, **extra)

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
