"""Two-factor login: one-time codes from an authenticator app (TOTP, RFC 6238), plus
single-use recovery codes.

Secrets stay in identity's database, never in events. A code counts once: the time step
it belongs to is recorded per user and an older or equal step is refused (RFC 6238 §5.2),
so a code read over a shoulder cannot be replayed within its 30 seconds. The check that
decides is an atomic conditional update, safe under concurrent logins.

After a right password a user with 2FA gets a short-lived login challenge instead of
tokens; the challenge takes a few wrong codes, then dies. Across challenges, a user's wrong
codes are counted too: too many in a window lock the second factor for a while.

Counting is done with numbered slots, each a document inserted under a unique `_id` (the
one write FerretDB v1 makes atomic under concurrency; its findAndModify and conditional
updates are not): a code is checked only by a request that took a free slot first, so
concurrent guesses can never check more codes than there are slots.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.decider import Conflict
from portal_chassis.mongo import ensure_indexes, index, replace_by_id

STEP_SECONDS = 30
RECOVERY_CODES = 10
CHALLENGE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
ISSUER = "Customer portal"
_CODE = re.compile(r"[0-9]{6}")  # not \d: it matches other scripts' digits too


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code `code` is, allowing one step of clock drift, or None."""
    if not _CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes like `k7q2m-x9d4a`, shown once; only their hashes are kept."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
    return [
        "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]


def recovery_hash(code: str) -> str:
    normalised = re.sub(r"[\s-]", "", code.lower())
    return hashlib.sha256(normalised.encode()).hexdigest()


@dataclass(frozen=True)
class Challenge:
    user_id: str
    attempts: int
    """Codes checked on this challenge before this one."""


@dataclass(frozen=True)
class FailureLimits:
    per_window: int = 10
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)


class TwoFactorStore:
    def __init__(
        self, db: AsyncDatabase[dict[str, Any]], limits: FailureLimits | None = None
    ) -> None:
        self.enrolled = db["totp"]
        self.pending = db["totp_pending"]
        self.challenges = db["login_challenges"]
        self.attempts = db["login_challenge_attempts"]
        self.user_slots = db["second_factor_failures"]
        self.locks = db["second_factor_locks"]
        self.limits = limits or FailureLimits()

    async def setup(self) -> None:
        await ensure_indexes(self.attempts, [index("expires", "expires_at")])
        await ensure_indexes(self.user_slots, [index("expires", "expires_at")])
        await ensure_indexes(self.locks, [index("user", "user_id", "until")])

    async def is_enabled(self, user_id: str) -> bool:
        return await self.enrolled.find_one({"_id": user_id}, {"_id": 1}) is not None

    async def begin(self, user_id: str, email: str, now: datetime) -> dict[str, str]:
        """A new secret to scan; it takes effect once a code from it is confirmed."""
        if await self.is_enabled(user_id):
            raise Conflict("two_factor_enabled", "two-factor login is on already")
        secret = pyotp.random_base32()
        await replace_by_id(self.pending, user_id, {"secret": secret, "created_at": now})
        uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
            name=email, issuer_name=ISSUER
        )
        return {"secret": secret, "otpauth_uri": uri}

    async def confirm(self, user_id: str, code: str, now: datetime) -> list[str] | None:
        """Turn 2FA on if `code` comes from the pending secret; the recovery codes, or None."""
        pending = await self.pending.find_one({"_id": user_id})
        if pending is None or now - pending["created_at"] > timedelta(minutes=30):
            raise Conflict("two_factor_setup_missing", "start the setup again")
        step = matching_step(pending["secret"], code, now)
        if step is None:
            return None
        codes = new_recovery_codes()
        try:
            await self.enrolled.insert_one(
                {
                    "_id": user_id,
                    "secret": pending["secret"],
                    "last_step": step,
                    "recovery": [recovery_hash(c) for c in codes],
                    "enabled_at": now,
                }
            )
        except DuplicateKeyError:
            raise Conflict("two_factor_enabled", "two-factor login is on already") from None
        await self.pending.delete_one({"_id": user_id})
        return codes

    async def verify(self, user_id: str, code: str, now: datetime) -> bool:
        """A one-time code (each counts once) or a recovery code (each works once)."""
        doc = await self.enrolled.find_one({"_id": user_id})
        if doc is None:
            return False
        step = matching_step(doc["secret"], code.strip(), now)
        if step is not None:
            taken = await self.enrolled.update_one(
                {"_id": user_id, "last_step": {"$lt": step}}, {"$set": {"last_step": step}}
            )
            return taken.modified_count == 1
        hashed = recovery_hash(code)
        used = await self.enrolled.update_one(
            {"_id": user_id, "recovery": hashed}, {"$pull": {"recovery": hashed}}
        )
        return used.modified_count == 1

    async def recovery_left(self, user_id: str) -> int:
        doc = await self.enrolled.find_one({"_id": user_id}, {"recovery": 1})
        return len(doc["recovery"]) if doc else 0

    async def disable(self, user_id: str) -> bool:
        return (await self.enrolled.delete_one({"_id": user_id})).deleted_count == 1

    # -------------------------------------------------------------- login challenges

    async def open_challenge(self, user_id: str, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        await self.challenges.insert_one(
            {
                "_id": _digest(token),
                "user_id": user_id,
                "expires_at": now + CHALLENGE_TTL,
            }
        )
        return token

    async def take_attempt(self, token: str, now: datetime) -> Challenge | None:
        """A slot to check one code on this challenge, or None (dead, or all slots taken)."""
        digest = _digest(token)
        doc = await self.challenges.find_one({"_id": digest})
        if doc is None or doc["expires_at"] < now:
            return None
        slot = await _free_slot(self.attempts, digest, MAX_ATTEMPTS, now + CHALLENGE_TTL, now)
        return None if slot is None else Challenge(doc["user_id"], slot)

    async def failed(self, token: str, attempt: Challenge) -> int:
        """Count a wrong code; the challenge dies at MAX_ATTEMPTS. Returns attempts so far."""
        attempts = attempt.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await self.challenges.delete_one({"_id": _digest(token)})
        return attempts

    # -------------------------------------------------- wrong codes per user, any challenge

    def _window(self, user_id: str, now: datetime) -> str:
        seconds = int(self.limits.window.total_seconds())
        return f"{user_id}:{int(now.timestamp()) // seconds}"

    async def locked_for(self, user_id: str, now: datetime) -> int:
        """Seconds left of this user's second-factor lock (0: not locked)."""
        doc = await self.locks.find_one({"user_id": user_id, "until": {"$gt": now}})
        return 0 if doc is None else max(1, math.ceil((doc["until"] - now).total_seconds()))

    async def take_user_slot(self, user_id: str, now: datetime) -> int | None:
        """A slot for one code check of this user in the current window, or None (full).

        A right code gives its slot back (`release_user_slot`), so the slots held are the
        wrong codes of the window plus the checks in flight.
        """
        return await _free_slot(
            self.user_slots,
            self._window(user_id, now),
            self.limits.per_window,
            now + self.limits.window * 2,
            now,
        )

    async def release_user_slot(self, user_id: str, slot: int, now: datetime) -> None:
        await self.user_slots.delete_one({"_id": f"{self._window(user_id, now)}:{slot}"})

    async def lock(self, user_id: str, now: datetime) -> tuple[datetime, bool]:
        """Lock the second factor: until when, and whether this call locked it.

        One lock per window, by a unique insert: concurrent guesses that all hit the limit
        record it (and tell the user) once.
        """
        window = self._window(user_id, now)
        until = now + self.limits.lock
        try:
            await self.locks.insert_one(
                {"_id": window, "user_id": user_id, "until": until, "locked_at": now}
            )
        except DuplicateKeyError:
            doc = await self.locks.find_one({"_id": window})
            return (doc["until"] if doc else until), False
        return until, True

    async def finish(self, token: str) -> bool:
        """Consume the challenge; only one of concurrent submissions wins."""
        return (await self.challenges.delete_one({"_id": _digest(token)})).deleted_count == 1

    async def purge(self, now: datetime) -> int:
        deleted = 0
        for collection in (self.challenges, self.attempts, self.user_slots):
            deleted += (await collection.delete_many({"expires_at": {"$lt": now}})).deleted_count
        deleted += (await self.locks.delete_many({"until": {"$lt": now}})).deleted_count
        return deleted


async def _free_slot(
    collection: AsyncCollection[dict[str, Any]],
    bucket: str,
    slots: int,
    expires_at: datetime,
    now: datetime,
) -> int | None:
    """Take the first free slot of `bucket` (0 .. slots-1) by a unique insert, or None."""
    for n in range(slots):
        try:
            await collection.insert_one(
                {"_id": f"{bucket}:{n}", "at": now, "expires_at": expires_at}
            )
        except DuplicateKeyError:
            continue
        return n
    return None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
