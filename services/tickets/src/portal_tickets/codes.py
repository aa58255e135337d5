"""Checking a ticket's related order, invoice or contract code against billing (HTTP port).

The caller's own token is passed on: billing answers only for codes of the caller's
account (staff see every account's), so nobody learns another customer's numbers.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from portal_chassis.auth import Principal
from portal_chassis.decider import DomainError, Unavailable


class RelatedCodes(Protocol):
    async def check(self, principal: Principal, code: str, account_id: str) -> str:
        """The code's kind (order, invoice, contract); DomainError when it is not known."""
        ...


class BillingCodes:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def check(self, principal: Principal, code: str, account_id: str) -> str:
        try:
            answer = await self.client.get(
                f"/v1/billing/codes/{code}",
                headers={"authorization": f"Bearer {principal.token}"},
            )
        except httpx.HTTPError as exc:
            raise Unavailable(
                "billing_unavailable", f"billing did not answer ({type(exc).__name__})"
            ) from None
        if answer.status_code == 200 and answer.json().get("account_id") == account_id:
            return str(answer.json()["kind"])
        if answer.status_code in (200, 404):
            raise DomainError(
                "unknown_related_code",
                "no order, invoice or contract of this account has this code",
                related_code=code,
            )
        raise Unavailable("billing_unavailable", "billing could not check the code")
