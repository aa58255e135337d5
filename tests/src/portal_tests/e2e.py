"""Clients for end-to-end tests: a customer with a token, and a signed provider webhook."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from portal_chassis.auth import TokenVerifier
from portal_wallet.payments import sign

SECRET = "e2e-sandbox-secret"


class Customer:
    def __init__(self, base_url: str, verifier: TokenVerifier) -> None:
        self.account_id = f"acc-{uuid.uuid4().hex[:10]}"
        self.token = verifier.mint(f"user-{self.account_id}", self.account_id)
        self.http = httpx.Client(
            base_url=base_url, timeout=20, headers={"Authorization": f"Bearer {self.token}"}
        )

    def top_up(self, amount: Any = 100_000, **body: Any) -> httpx.Response:
        return self.http.post("/api/v1/wallet/top-ups", json={"amount": amount, **body})

    def dashboard(self) -> dict[str, Any]:
        r = self.http.get("/api/v1/dashboard")
        assert r.status_code == 200, r.text
        return r.json()

    def wait_for_balance(self, expected: int, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        board = self.dashboard()
        while board["wallet"]["balance"] != expected and time.monotonic() < deadline:
            time.sleep(0.2)
            board = self.dashboard()
        assert board["wallet"]["balance"] == expected, board
        return board


def webhook(
    base_url: str,
    payload: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    provider: str = "sandbox",
    signature: str | None = None,
) -> httpx.Response:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    header = (
        signature if signature is not None else sign(secret, raw, timestamp or int(time.time()))
    )
    return httpx.post(
        f"{base_url}/api/v1/payments/webhooks/{provider}",
        content=raw,
        headers={"Portal-Signature": header, "Content-Type": "application/json"},
        timeout=20,
    )


def paid(
    reference: str, amount: int, event_id: str | None = None, kind: str = "payment.succeeded"
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": kind,
        "reference": reference,
        "amount": amount,
        "currency": "VND",
    }
