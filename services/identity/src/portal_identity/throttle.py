"""Login throttling that slows attackers without locking the real user out for long.

Three counters per hour-long window, all in MongoDB (shared by every replica):
- (email, client address): after `backoff_after` failures, exponential back-off
  (1 s, 2 s, 4 s ... capped); an attacker elsewhere does not slow the real user down.
- client address: a hard ceiling per hour for one source trying many accounts.
- account (email): at most `account_limit` failures per hour from addresses this user
  has never logged in from; addresses with an earlier successful login are exempt, so
  the owner can still get in while their account is under attack.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ThrottleLimits:
    backoff_after: int
    backoff_cap_seconds: int
    account_limit: int
    address_limit: int


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], limits: ThrottleLimits) -> None:
        self.counters = db["login_throttle"]
        self.known = db["known_login_addresses"]
        self.limits = limits

    async def _get(self, key: str, now: datetime) -> dict[str, Any]:
        doc = await self.counters.find_one({"_id": key})
        if doc is None or doc["window_start"] + WINDOW <= now:
            return {"failures": 0, "last_failure": None}
        return doc

    async def retry_after(self, email: str, address: str, now: datetime) -> int:
        """Seconds the caller must wait before trying again (0: go ahead)."""
        digest = email_hash(email)
        waits = [0]
        pair = await self._get(f"pair:{digest}:{address}", now)
        if pair["failures"] >= self.limits.backoff_after and pair["last_failure"]:
            delay = min(
                2 ** (pair["failures"] - self.limits.backoff_after), self.limits.backoff_cap_seconds
            )
            waits.append(
                int((pair["last_failure"] + timedelta(seconds=delay) - now).total_seconds()) + 1
            )
        source = await self._get(f"addr:{address}", now)
        if source["failures"] >= self.limits.address_limit:
            waits.append(int((source["window_start"] + WINDOW - now).total_seconds()) + 1)
        account = await self._get(f"acct:{digest}", now)
        if account["failures"] >= self.limits.account_limit and not await self._known(
            digest, address
        ):
            waits.append(int((account["window_start"] + WINDOW - now).total_seconds()) + 1)
        return max(waits)

    async def failed(self, email: str, address: str, now: datetime) -> None:
        digest = email_hash(email)
        for key in (f"pair:{digest}:{address}", f"addr:{address}", f"acct:{digest}"):
            doc = await self.counters.find_one_and_update(
                {"_id": key, "window_start": {"$gt": now - WINDOW}},
                {"$inc": {"failures": 1}, "$set": {"last_failure": now}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:  # no live window: start one
                await self.counters.replace_one(
                    {"_id": key},
                    {"window_start": now, "failures": 1, "last_failure": now},
                    upsert=True,
                )

    async def succeeded(self, email: str, address: str, now: datetime) -> None:
        digest = email_hash(email)
        await self.counters.delete_one({"_id": f"pair:{digest}:{address}"})
        await self.known.replace_one(
            {"_id": f"{digest}:{address}"}, {"last_login": now}, upsert=True
        )

    async def _known(self, digest: str, address: str) -> bool:
        return await self.known.find_one({"_id": f"{digest}:{address}"}) is not None
