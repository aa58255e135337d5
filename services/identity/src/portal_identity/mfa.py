"""Two-factor login: one-time codes from an authenticator app (TOTP, RFC 6238), plus
single-use recovery codes.

Secrets stay in identity's database, never in events. A code counts once: the time step
it belongs to is recorded per user and an older or equal step is refused (RFC 6238 §5.2),
so a code read over a shoulder cannot be replayed within its 30 seconds. The check that
decides is an atomic conditional update, safe under concurrent logins.

After a right password a user with 2FA gets a short-lived login challenge instead of
tokens; the challenge takes a few wrong codes, then dies.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.decider import Conflict
from portal_chassis.mongo import replace_by_id

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


class TwoFactorStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.enrolled = db["totp"]
        self.pending = db["totp_pending"]
        self.challenges = db["login_challenges"]

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
                "attempts": 0,
                "expires_at": now + CHALLENGE_TTL,
            }
        )
        return token

    async def challenge(self, token: str, now: datetime) -> Challenge | None:
        doc = await self.challenges.find_one({"_id": _digest(token)})
        if doc is None or doc["expires_at"] < now or doc["attempts"] >= MAX_ATTEMPTS:
            return None
        return Challenge(doc["user_id"], doc["attempts"])

    async def failed(self, token: str) -> int:
        """Count a wrong code; the challenge dies at MAX_ATTEMPTS. Returns attempts so far."""
        await self.challenges.update_one({"_id": _digest(token)}, {"$inc": {"attempts": 1}})
        doc = await self.challenges.find_one({"_id": _digest(token)})
        attempts = int(doc["attempts"]) if doc else MAX_ATTEMPTS
        if attempts >= MAX_ATTEMPTS:
            await self.challenges.delete_one({"_id": _digest(token)})
        return attempts

    async def finish(self, token: str) -> bool:
        """Consume the challenge; only one of concurrent submissions wins."""
        return (await self.challenges.delete_one({"_id": _digest(token)})).deleted_count == 1

    async def purge(self, now: datetime) -> int:
        result = await self.challenges.delete_many({"expires_at": {"$lt": now}})
        return result.deleted_count


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
