"""Signing keys (ES256, rotated without logging anyone out), access tokens, sessions and
rotating refresh tokens with reuse detection.

A session is one refresh-token family. Every refresh marks the presented token used and
issues the next one; presenting a used token again revokes the whole family (someone
holds a stolen copy). Logout and password changes revoke families too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwt.algorithms import ECAlgorithm
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.auth import Principal
from portal_chassis.decider import Conflict, Unauthenticated
from portal_chassis.mongo import ensure_indexes
from portal_chassis.settings import AuthSettings

ALGORITHM = "ES256"
SUCCESSOR_WAIT_SECONDS = 5.0
"""How long a refresh within the grace waits for the first one's tokens."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    public_jwk: dict[str, Any]
    created_at: datetime
    retired_at: datetime | None


class KeyRing:
    """Keys in identity's database; the newest active one signs, all live ones verify."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], verify_window: timedelta) -> None:
        self.collection = db["signing_keys"]
        self.verify_window = verify_window
        self.keys: dict[str, SigningKey] = {}

    async def load(self, now: datetime) -> None:
        keys = {}
        async for doc in self.collection.find({}).sort("created_at", DESCENDING):
            retired = doc.get("retired_at")
            if retired and retired + self.verify_window < now:
                continue  # every token it signed has expired: drop it from the JWKS
            private = serialization.load_pem_private_key(doc["private_pem"].encode(), None)
            assert isinstance(private, ec.EllipticCurvePrivateKey)
            keys[doc["_id"]] = SigningKey(
                doc["_id"], private, doc["public_jwk"], doc["created_at"], retired
            )
        self.keys = keys
        if not self.active_keys():
            await self.rotate(now)

    def active_keys(self) -> list[SigningKey]:
        return sorted(
            (k for k in self.keys.values() if k.retired_at is None),
            key=lambda k: k.created_at,
            reverse=True,
        )

    def signing_key(self) -> SigningKey:
        return self.active_keys()[0]

    async def rotate(self, now: datetime) -> str:
        """Add a new signing key; older ones keep verifying until their tokens expire."""
        private = ec.generate_private_key(ec.SECP256R1())
        kid = f"k-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        await self.collection.insert_one(
            {
                "_id": kid,
                "private_pem": pem,
                "public_jwk": jwk,
                "created_at": now,
                "retired_at": None,
            }
        )
        await self.collection.update_many(
            {"_id": {"$ne": kid}, "retired_at": None}, {"$set": {"retired_at": now}}
        )
        await self.load(now)
        return kid

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk for k in self.keys.values()]}


class TokenService:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        keyring: KeyRing,
        auth: AuthSettings,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
        reuse_grace: timedelta = timedelta(0),
    ) -> None:
        self.sessions = db["sessions"]
        self.refresh_tokens = db["refresh_tokens"]
        self.refresh_uses = db["refresh_token_uses"]
        self.successors = db["refresh_token_successors"]
        self.keyring = keyring
        self.auth = auth
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.reuse_grace = reuse_grace

    async def setup(self) -> None:
        await ensure_indexes(
            self.refresh_tokens,
            [
                IndexModel([("session_id", ASCENDING)], name="session"),
                IndexModel([("expires_at", ASCENDING)], name="expiry"),
            ],
        )
        await ensure_indexes(
            self.sessions,
            [
                IndexModel([("user_id", ASCENDING)], name="user"),
                IndexModel([("revoked", ASCENDING), ("revoked_at", ASCENDING)], name="revoked"),
            ],
        )
        await ensure_indexes(self.refresh_uses, [IndexModel([("at", ASCENDING)], name="at")])
        await ensure_indexes(self.successors, [IndexModel([("at", ASCENDING)], name="at")])

    async def purge(self, now: datetime) -> dict[str, int]:
        """Forget what can no longer matter (FerretDB v1 has no TTL indexes).

        Every refresh writes a token, so without this the collection grows by about a
        hundred rows a day per active user. An expired token is refused whether or not it
        is stored; a use older than the refresh lifetime belongs to an expired token; a
        session revoked that long ago has no live token left (its history stays in the
        security log's events).
        """
        horizon = now - self.refresh_ttl
        tokens = await self.refresh_tokens.delete_many({"expires_at": {"$lt": now}})
        uses = await self.refresh_uses.delete_many({"at": {"$lt": horizon}})
        sessions = await self.sessions.delete_many(
            {"revoked": True, "revoked_at": {"$lt": horizon}}
        )
        # a successor is handed out only within the grace: then it can go
        successors = await self.successors.delete_many(
            {"at": {"$lt": now - max(self.reuse_grace, timedelta(minutes=1))}}
        )
        return {
            "refresh_token_successors": successors.deleted_count,
            "refresh_tokens": tokens.deleted_count,
            "refresh_token_uses": uses.deleted_count,
            "sessions": sessions.deleted_count,
        }

    def access_token(
        self, user_id: str, account_id: str, roles: list[str], session_id: str, now: datetime
    ) -> str:
        key = self.keyring.signing_key()
        claims = self._claims(user_id, account_id, roles, session_id, now)
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})

    def _claims(
        self, user_id: str, account_id: str, roles: list[str], session_id: str, now: datetime
    ) -> dict[str, Any]:
        return {
            "sub": user_id,
            "account_id": account_id,
            "roles": roles,
            "sid": session_id,
            "aud": self.auth.audience,
            "iss": self.auth.issuer,
            "iat": int(now.timestamp()),
            "exp": int((now + self.access_ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }

    def decoy(self, user_id: str, account_id: str, now: datetime) -> dict[str, Any]:
        """Tokens shaped like a new session's that open nothing, for an answer that must
        look like a sign-in without being one (a registration of an address in use).

        The access token is signed by a throwaway key under the signing key's id, so every
        verifier refuses it; the refresh token and session are stored nowhere.
        """
        throwaway = ec.generate_private_key(ec.SECP256R1())
        session_id = uuid.uuid4().hex
        claims = self._claims(user_id, account_id, ["owner"], session_id, now)
        headers = {"kid": self.keyring.signing_key().kid}
        return {
            "access_token": jwt.encode(claims, throwaway, algorithm=ALGORITHM, headers=headers),
            "token_type": "Bearer",
            "expires_in": int(self.access_ttl.total_seconds()),
            "refresh_token": secrets.token_urlsafe(32),
            "refresh_expires_in": int(self.refresh_ttl.total_seconds()),
            "session_id": session_id,
        }

    def service_token(self, client_id: str, now: datetime, ttl: timedelta) -> dict[str, Any]:
        """A short-lived token with the `service` role, for calls between services."""
        key = self.keyring.signing_key()
        claims = {
            "sub": f"service:{client_id}",
            "account_id": "platform",
            "roles": ["service"],
            "aud": self.auth.audience,
            "iss": self.auth.issuer,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(ttl.total_seconds()),
        }

    def verify(self, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthenticated("invalid_token", "the access token is not valid") from None
        key = self.keyring.keys.get(str(kid))
        if key is None:
            raise Unauthenticated("invalid_token", "the access token is not valid")
        from portal_chassis.auth import decode_claims

        return decode_claims(token, key.private_key.public_key(), ALGORITHM, self.auth)

    @staticmethod
    def _hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    async def open_session(
        self,
        user_id: str,
        account_id: str,
        roles: list[str],
        *,
        method: str,
        client_address: str,
        user_agent: str,
        now: datetime,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        session_id = session_id or uuid.uuid4().hex
        await self.sessions.insert_one(
            {
                "_id": session_id,
                "user_id": user_id,
                "account_id": account_id,
                "method": method,
                "client_address": client_address,
                "user_agent": user_agent,
                "created_at": now,
                "revoked": False,
            }
        )
        return await self._issue(user_id, account_id, roles, session_id, now)

    async def _issue(
        self, user_id: str, account_id: str, roles: list[str], session_id: str, now: datetime
    ) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(32)
        await self.refresh_tokens.insert_one(
            {
                "_id": self._hash(refresh),
                "session_id": session_id,
                "user_id": user_id,
                "account_id": account_id,
                "used": False,
                "expires_at": now + self.refresh_ttl,
                "issued_at": now,
            }
        )
        return {
            "access_token": self.access_token(user_id, account_id, roles, session_id, now),
            "token_type": "Bearer",
            "expires_in": int(self.access_ttl.total_seconds()),
            "refresh_token": refresh,
            "refresh_expires_in": int(self.refresh_ttl.total_seconds()),
            "session_id": session_id,
        }

    async def refresh(
        self, token: str, roles_of: Any, now: datetime
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Rotate; returns (new tokens, None) or (None, revoked session) on reuse.

        `roles_of(user_id)` gives the user's current roles (role changes apply at refresh).
        A token used again within `reuse_grace` of its first use, while its session lives,
        is two tabs of one browser refreshing at once, not a thief: it gets the tokens the
        first use got (one successor per token, however many refreshes race), as with the
        reuse interval of Auth0 or the grace period of Okta. After the grace, a reuse
        revokes the session.
        """
        digest = self._hash(token)
        doc = await self.refresh_tokens.find_one({"_id": digest})
        if doc is None:
            raise Unauthenticated("invalid_refresh_token", "the refresh token is not valid")
        session = await self.sessions.find_one({"_id": doc["session_id"]})
        if not doc.get("used") and (
            session is None or session.get("revoked") or doc["expires_at"] < now
        ):
            raise Unauthenticated("invalid_refresh_token", "the session has ended")
        # One use per token, decided by a unique insert: FerretDB's findAndModify is not
        # atomic under concurrency, an insert under a unique _id is. The session was checked
        # first, so the one winner of a race is not undone by the losers' revocation.
        if doc.get("used") or not await self._claim_use(digest, now):
            if not await self._within_grace(digest, doc, session, now):
                session = await self.revoke_session(doc["session_id"], "refresh_token_reuse", now)
                return None, session
            return await self._successor(token, digest), None
        await self.refresh_tokens.update_one(
            {"_id": digest}, {"$set": {"used": True, "used_at": now}}
        )
        # "last used" of the sessions list: a session in use refreshes every few minutes
        await self.sessions.update_one({"_id": doc["session_id"]}, {"$set": {"last_used_at": now}})
        roles = await roles_of(doc["user_id"])
        if roles is None:
            raise Unauthenticated("invalid_refresh_token", "the user no longer exists")
        tokens = await self._issue(doc["user_id"], doc["account_id"], roles, doc["session_id"], now)
        if self.reuse_grace > timedelta(0):
            # Sealed with a key only the presented token gives: the database alone never
            # holds a usable refresh token, and only a holder of this one can open it.
            nonce = secrets.token_bytes(12)
            sealed = nonce + _sealer(token).encrypt(nonce, json.dumps(tokens).encode(), None)
            await self.successors.insert_one({"_id": digest, "sealed": sealed, "at": now})
        return tokens, None

    async def _successor(self, token: str, digest: str) -> dict[str, Any]:
        """The tokens the first use of `token` got (it may still be writing them)."""
        deadline = time.monotonic() + SUCCESSOR_WAIT_SECONDS
        while True:
            doc = await self.successors.find_one({"_id": digest})
            if doc is not None:
                sealed = bytes(doc["sealed"])
                plain = _sealer(token).decrypt(sealed[:12], sealed[12:], None)
                return json.loads(plain)  # type: ignore[no-any-return]
            if time.monotonic() >= deadline:
                # The first use died half-way: nothing to hand out; a retry may find it.
                raise Conflict(
                    "refresh_in_progress", "the session is being refreshed", retry_after=1
                )
            await asyncio.sleep(0.05)

    async def _within_grace(
        self, digest: str, doc: dict[str, Any], session: dict[str, Any] | None, now: datetime
    ) -> bool:
        if self.reuse_grace <= timedelta(0) or doc["expires_at"] < now:
            return False
        if session is None or session.get("revoked"):
            return False
        first_use = await self.refresh_uses.find_one({"_id": digest})
        return first_use is not None and now - first_use["at"] <= self.reuse_grace

    async def _claim_use(self, digest: str, now: datetime) -> bool:
        try:
            await self.refresh_uses.insert_one({"_id": digest, "at": now})
        except DuplicateKeyError:
            return False
        return True

    async def revoke_session(
        self, session_id: str, reason: str, now: datetime
    ) -> dict[str, Any] | None:
        """Revoke a family; returns the session if this call revoked it."""
        return await self.sessions.find_one_and_update(
            {"_id": session_id, "revoked": False},
            {"$set": {"revoked": True, "revoked_reason": reason, "revoked_at": now}},
        )

    async def session_of_refresh(self, token: str) -> dict[str, Any] | None:
        doc = await self.refresh_tokens.find_one({"_id": self._hash(token)})
        return None if doc is None else await self.sessions.find_one({"_id": doc["session_id"]})

    async def session(self, session_id: str) -> dict[str, Any] | None:
        return await self.sessions.find_one({"_id": session_id})

    async def active_sessions(self, user_id: str) -> list[dict[str, Any]]:
        return [s async for s in self.sessions.find({"user_id": user_id, "revoked": False})]

    async def is_active(self, session_id: str) -> bool:
        doc = await self.sessions.find_one({"_id": session_id})
        return doc is not None and not doc.get("revoked")


def _sealer(token: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"refresh-successor:" + token.encode()).digest())


__all__ = ["DuplicateKeyError", "KeyRing", "SigningKey", "TokenService"]
