"""Billing's wallet adapter: every answer of the wallet becomes a domain error of its own,
so the use cases tell "nothing moved" from "outcome unknown" by type, not by HTTP status."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from portal_billing.wallet import HttpWallet, WalletRefused, WalletUnavailable
from portal_chassis.service_auth import ServiceClient


class FixedTokens:
    def __init__(self) -> None:
        self.forgotten = 0

    async def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"authorization": "Bearer t", **(extra or {})}

    def forget(self) -> None:
        self.forgotten += 1


def wallet(answer: Any) -> tuple[HttpWallet, FixedTokens]:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer

    tokens = FixedTokens()
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://w")
    return HttpWallet(ServiceClient(client, tokens)), tokens


async def debit(port: HttpWallet) -> dict[str, Any]:
    return await port.debit("acc-1", 100_000, "VND", "PF-1", key="pay-1")


async def test_a_debit_taken_returns_the_wallet_answer():
    port, _ = wallet(httpx.Response(201, json={"id": "tx-1", "amount": 100_000}))
    assert (await debit(port))["id"] == "tx-1"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.Response(500, json={"code": "error"}),
        httpx.Response(503, json={"code": "unavailable"}),
        httpx.Response(409, json={"code": "request_in_progress"}),
        httpx.Response(429, json={"code": "too_many_requests"}),
    ],
    ids=["timeout", "no-connection", "500", "503", "409-same-key-running", "429"],
)
async def test_an_unsettled_answer_is_wallet_unavailable(answer):
    port, _ = wallet(answer)
    with pytest.raises(WalletUnavailable) as caught:
        await debit(port)
    assert caught.value.code == "wallet_unavailable" and caught.value.status_code == 503


async def test_insufficient_balance_is_a_refusal_with_the_figures():
    body = {"code": "insufficient_balance", "balance": 5_000, "amount": 100_000, "currency": "VND"}
    port, _ = wallet(httpx.Response(422, json=body))
    with pytest.raises(WalletRefused) as caught:
        await debit(port)
    refused = caught.value
    assert (refused.status_code, refused.code) == (422, "insufficient_balance")
    assert refused.extra == {"balance": 5_000, "amount": 100_000, "currency": "VND"}
    assert "too low" in refused.detail


async def test_another_refusal_keeps_the_wallet_status_and_code():
    port, _ = wallet(httpx.Response(404, json={"code": "wallet_not_found", "detail": "no"}))
    with pytest.raises(WalletRefused) as caught:
        await debit(port)
    assert (caught.value.status_code, caught.value.code) == (404, "wallet_not_found")


async def test_an_expired_service_token_is_renewed_once():
    answers = iter([httpx.Response(401), httpx.Response(201, json={"id": "tx-2"})])
    port, tokens = wallet(lambda _request: next(answers))
    assert (await debit(port))["id"] == "tx-2"
    assert tokens.forgotten == 1
