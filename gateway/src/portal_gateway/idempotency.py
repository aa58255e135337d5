"""Idempotency-Key for public write commands.

Same key and same body: the first final answer again. Same key, another body: 422. While
the first request is still running: 409 with Retry-After. Keys are scoped to the caller's
account. Keys are kept `retention` (24 hours, like Stripe's), then purged: a retry days
later is a new request to the gateway, and the services' own keys still stop money moving
twice.

A running request holds its key by a short lease that it renews while it runs; a holder
that died (a gateway crash, a key that could not be released while the database was down)
stops renewing, and the next retry takes the key over seconds later. Forwarding it again
is safe: the services are idempotent on the same key.

Only final answers are stored. An answer caused by a passing condition (5xx, 408, 425,
429, 401, a 202 for work still going on, anything with Retry-After, a request still in
flight below, a "not yet" answer such as a wallet that is not opened yet or an invoice
payment in progress) releases the key, so a retry gets the real answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Response
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from portal_chassis.logging import get_logger
from portal_chassis.mongo import ensure_indexes, index
from portal_chassis.problems import problem

log = get_logger(__name__)

PASSING_STATUSES = frozenset({202, 401, 408, 425, 429})
"""Answers that say "not now" (accepted but unfinished, an expired token, a timeout, too
early, too many)."""
NOT_YET_CODES = frozenset(
    {"idempotency_request_in_flight", "wallet_not_found", "payment_in_progress"}
)
"""Problem codes that say "not yet": the same request later gets another answer."""


def is_final(response: Response[Any]) -> bool:
    """Would the same request get the same answer later? Only then is it stored."""
    status = response.status_code or 200
    if status >= 500 or status in PASSING_STATUSES:
        return False
    if any(name.lower() == "retry-after" for name in response.headers):
        return False
    return _problem_code(response) not in NOT_YET_CODES


def _problem_code(response: Response[Any]) -> str | None:
    content = response.content
    if isinstance(content, bytes) and "json" in str(response.media_type or ""):
        with contextlib.suppress(ValueError):
            content = json.loads(content)
    code = content.get("code") if isinstance(content, dict) else None
    return code if isinstance(code, str) else None


def fingerprint(parts: tuple[str, str, bytes]) -> str:
    """What makes two requests "the same": method, path with query, body."""
    method, path, body = parts
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class IdempotencyStore:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        lease_seconds: float = 5.0,
        retention: timedelta = timedelta(hours=24),
    ) -> None:
        self.collection = db["idempotency_keys"]
        self.lease = timedelta(seconds=lease_seconds)
        self.retention = retention

    async def setup(self) -> None:
        await ensure_indexes(self.collection, [index("started", "started_at")])

    async def purge(self, now: datetime | None = None) -> int:
        """Forget keys older than the retention (FerretDB v1 has no TTL indexes)."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        result = await self.collection.delete_many({"started_at": {"$lt": cutoff}})
        return result.deleted_count

    async def run(
        self,
        scope: str,
        key: str | None,
        fingerprint_parts: tuple[str, str, bytes],
        call: Callable[[], Awaitable[Response[Any]]],
    ) -> Response[Any]:
        if not key:
            return await call()
        if len(key) > 200:
            return problem(400, "idempotency_key_invalid", "Idempotency-Key is at most 200 chars")
        doc_id = f"{scope}|{key}"
        holder = uuid.uuid4().hex
        refusal = await self.acquire(doc_id, fingerprint(fingerprint_parts), holder)
        if refusal is not None:
            return refusal
        renewal = asyncio.create_task(self._renew(doc_id, holder))
        try:
            response = await call()
        except BaseException:
            await self._release(doc_id, holder)
            raise
        finally:
            renewal.cancel()
        if not is_final(response):
            await self._release(doc_id, holder)
            return response
        await self._store(doc_id, holder, response)
        return response

    async def acquire(self, doc_id: str, fingerprint: str, holder: str) -> Response[Any] | None:
        """Hold the key for `holder` (None), or the answer to give instead of running."""
        while True:
            now = datetime.now(UTC)
            try:
                await self.collection.insert_one(
                    {
                        "_id": doc_id,
                        "fp": fingerprint,
                        "state": "in_flight",
                        "holder": holder,
                        "started_at": now,
                        "lease_until": now + self.lease,
                    }
                )
                return None
            except DuplicateKeyError:
                existing = await self.collection.find_one({"_id": doc_id})
            if existing is None:
                continue  # released meanwhile: try again
            if existing.get("fp") != fingerprint:
                return problem(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with another request",
                )
            if existing["state"] == "done":
                media_type = existing["media_type"]
                return Response(
                    existing["body"],
                    status_code=existing["status"],
                    media_type=media_type,
                    headers={"Idempotent-Replayed": "true", "content-type": media_type},
                )
            # Keys written before leases existed carry only `started_at`.
            lease_until = existing.get("lease_until") or existing.get("started_at") or now
            if lease_until > now:
                return problem(
                    409,
                    "idempotency_request_in_flight",
                    "a request with this Idempotency-Key is still running",
                    retry_after=1,
                )
            # Its holder died: take the key over, unless another retry just did.
            taken = await self.collection.update_one(
                {"_id": doc_id, "state": "in_flight", "holder": existing.get("holder")},
                {"$set": {"holder": holder, "lease_until": now + self.lease}},
            )
            if taken.modified_count == 1:
                return None

    async def _renew(self, doc_id: str, holder: str) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                renewed = await self.collection.update_one(
                    {"_id": doc_id, "holder": holder},
                    {"$set": {"lease_until": datetime.now(UTC) + self.lease}},
                )
            except PyMongoError as exc:  # the next tick tries again; at worst it lapses
                log.warning("idempotency lease not renewed", error=str(exc))
                continue
            if renewed.matched_count == 0:
                return  # taken over after a lapse: the other holder renews now

    async def _release(self, doc_id: str, holder: str) -> None:
        try:
            await self.collection.delete_one({"_id": doc_id, "holder": holder})
        except PyMongoError as exc:  # the lease lapses by itself within seconds
            log.warning("idempotency key not released", error=str(exc))

    async def _store(self, doc_id: str, holder: str, response: Response[Any]) -> None:
        body = (
            response.content
            if isinstance(response.content, bytes)
            else response.render(response.content, str(response.media_type or "application/json"))
        )
        try:
            await self.collection.update_one(
                {"_id": doc_id, "holder": holder},
                {
                    "$set": {
                        "state": "done",
                        "status": response.status_code,
                        "body": body,
                        "media_type": str(response.media_type or "application/json"),
                    }
                },
            )
        except PyMongoError as exc:
            # The answer is real: give it. A retry runs again (safe) once the lease lapses.
            log.warning("idempotency answer not stored", error=str(exc))
