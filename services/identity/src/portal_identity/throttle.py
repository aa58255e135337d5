"""Login throttling that slows attackers without locking the real user out for long.

Three counters per hourly window, in MongoDB (shared by every replica):
- (email, client address): after `backoff_after` failures, exponential back-off
  (1 s, 2 s, 4 s ... capped) that a successful login resets; an attacker elsewhere
  does not slow the real user down.
- client address: a ceiling per hour for one source trying many accounts.
- account (email): at most `account_limit` attempts per hour from addresses this user
  has never logged in from; addresses with an earlier successful login are exempt, so
  the owner can still get in while their account is under attack.

Every attempt takes a numbered slot *before* its password is checked. A slot is a
document inserted under a unique `_id`, the one write FerretDB v1 makes atomic under
concurrency (its findAndModify is not), so concurrent guesses each get their own number
and cannot all slip past one check.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.mongo import ensure_indexes, index, replace_by_id

WINDOW_SECONDS = 3600
KEEP = timedelta(seconds=2 * WINDOW_SECONDS)
"""Counters are bucketed by the hour; after two windows nobody reads them again."""


@dataclass(frozen=True)
class ThrottleLimits:
    backoff_after: int
    backoff_cap_seconds: int
    account_limit: int
    address_limit: int
    registrations_per_address: int = 100
    registrations_per_email: int = 5


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], limits: ThrottleLimits) -> None:
        self.hints = db["login_throttle"]
        self.slots = db["login_attempts"]
        self.known = db["known_login_addresses"]
        self.limits = limits

    async def setup(self) -> None:
        # the purge deletes by time; without these it reads every counter ever written
        await ensure_indexes(self.slots, [index("at", "at")])
        await ensure_indexes(self.hints, [index("expires", "expires")])

    @staticmethod
    def _buckets(email: str, address: str, now: datetime) -> tuple[str, str, str]:
        digest, hour = email_hash(email), int(now.timestamp()) // WINDOW_SECONDS
        return (
            f"pair:{digest}:{address}:{hour}",
            f"addr:{address}:{hour}",
            f"acct:{digest}:{hour}",
        )

    async def _take_slot(self, bucket: str, now: datetime) -> int:
        """This attempt's number in the bucket (0, 1, 2 ...), unique under concurrency."""
        hint = await self.hints.find_one({"_id": bucket})
        n = int(hint["next"]) if hint else 0
        while True:
            try:
                await self.slots.insert_one({"_id": f"{bucket}:{n}", "at": now})
                break
            except DuplicateKeyError:
                n += 1
        # Only a hint: a lost race here costs a few extra probes, nothing more.
        with contextlib.suppress(DuplicateKeyError):
            await self.hints.update_one(
                {"_id": bucket, "next": {"$lt": n + 1}},
                {"$set": {"next": n + 1, "expires": now + KEEP}},
                upsert=True,
            )
        return n

    async def purge(self, now: datetime) -> int:
        """Forget the counters of finished windows (FerretDB v1 has no TTL indexes)."""
        slots = await self.slots.delete_many({"at": {"$lt": now - KEEP}})
        hints = await self.hints.delete_many({"expires": {"$lt": now}})
        return slots.deleted_count + hints.deleted_count

    async def _base(self, bucket: str) -> int:
        doc = await self.hints.find_one({"_id": f"{bucket}:base"})
        return int(doc["value"]) if doc else 0

    async def _failures(self, bucket: str, now: datetime) -> int:
        """Failed attempts before this one (successes give their slot back)."""
        return await self._take_slot(bucket, now) - await self._base(bucket)

    async def _give_back(self, bucket: str, now: datetime) -> None:
        # Not atomic, and need not be: a lost increment only makes the cap stricter.
        await replace_by_id(
            self.hints,
            f"{bucket}:base",
            {"value": await self._base(bucket) + 1, "expires": now + KEEP},
        )

    async def _backoff(
        self, pair: str, failures: int, now: datetime, slot: int | None = None
    ) -> int:
        """Seconds left of the back-off after `failures` failures (0: none)."""
        if failures < self.limits.backoff_after:
            return 0
        delay = min(2 ** (failures - self.limits.backoff_after), self.limits.backoff_cap_seconds)
        hint = await self.hints.find_one({"_id": pair})
        last = slot if slot is not None else (int(hint["next"]) if hint else 0)
        previous = await self._previous_at(pair, last) or now
        return max(0, int((previous - now).total_seconds()) + delay)

    async def _previous_at(self, bucket: str, n: int) -> datetime | None:
        doc = await self.slots.find_one({"_id": f"{bucket}:{n - 1}"}) if n > 0 else None
        return doc["at"] if doc else None

    async def begin(self, email: str, address: str, now: datetime) -> int:
        """Count this attempt; the seconds to wait if it must be refused (0: go ahead)."""
        pair, source, account = self._buckets(email, address, now)
        window_left = WINDOW_SECONDS - int(now.timestamp()) % WINDOW_SECONDS
        waits = [0]

        base = await self._base(pair)
        # A refusal decided before taking a slot does not lengthen the back-off, so a
        # client that waits the Retry-After it was given gets its turn.
        hint = await self.hints.find_one({"_id": pair})
        early = await self._backoff(pair, (int(hint["next"]) if hint else 0) - base, now)
        if early:
            return early
        # Concurrent attempts all pass that check; their slots tell them apart.
        n = await self._take_slot(pair, now)
        waits.append(await self._backoff(pair, n - base, now, slot=n))
        if await self._failures(source, now) >= self.limits.address_limit:
            waits.append(window_left)
        if await self._failures(account, now) >= self.limits.account_limit and not (
            await self._known(email, address)
        ):
            waits.append(window_left)
        return max(waits)

    async def registration(self, email: str, address: str, now: datetime) -> int:
        """Count a registration attempt (any outcome); seconds to wait if refused (0: go)."""
        hour = int(now.timestamp()) // WINDOW_SECONDS
        window_left = WINDOW_SECONDS - int(now.timestamp()) % WINDOW_SECONDS
        by_address = await self._take_slot(f"reg-addr:{address}:{hour}", now)
        by_email = await self._take_slot(f"reg-email:{email_hash(email)}:{hour}", now)
        if (
            by_address >= self.limits.registrations_per_address
            or by_email >= self.limits.registrations_per_email
        ):
            return window_left
        return 0

    async def succeeded(self, email: str, address: str, now: datetime) -> None:
        pair, source, account = self._buckets(email, address, now)
        await self._give_back(source, now)
        await self._give_back(account, now)
        hint = await self.hints.find_one({"_id": pair})
        # Back-off restarts after this attempt (failures are counted from here on).
        await replace_by_id(
            self.hints,
            f"{pair}:base",
            {"value": int(hint["next"]) if hint else 0, "expires": now + KEEP},
        )
        await replace_by_id(self.known, f"{email_hash(email)}:{address}", {"last_login": now})

    async def _known(self, email: str, address: str) -> bool:
        return await self.known.find_one({"_id": f"{email_hash(email)}:{address}"}) is not None
