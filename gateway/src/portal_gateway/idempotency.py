"""Idempotency-Key for public write commands.

Same key and same body: the first response again. Same key, another body: 422. While
the first request is still running: 409. Keys are scoped to the caller's account.
A request that failed on our side (5xx) releases its key so the client can retry.
Keys are kept `retention` (24 hours, like Stripe's), then purged: a retry days later is a
new request to the gateway, and the services' own keys still stop money moving twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Response
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.mongo import ensure_indexes, index
from portal_chassis.problems import problem


class IdempotencyStore:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        in_flight_seconds: float,
        retention: timedelta = timedelta(hours=24),
    ) -> None:
        self.collection = db["idempotency_keys"]
        self.in_flight = timedelta(seconds=in_flight_seconds)
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
        method, path, body = fingerprint_parts
        fingerprint = hashlib.sha256(
            method.encode() + b" " + path.encode() + b"\n" + body
        ).hexdigest()
        doc_id = f"{scope}|{key}"
        now = datetime.now(UTC)
        try:
            await self.collection.insert_one(
                {"_id": doc_id, "fp": fingerprint, "state": "in_flight", "started_at": now}
            )
        except DuplicateKeyError:
            existing = await self.collection.find_one({"_id": doc_id})
            if existing is None:
                return await self.run(scope, key, fingerprint_parts, call)
            if existing["fp"] != fingerprint:
                return problem(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with another request",
                )
            if existing["state"] == "done":
                return Response(
                    existing["body"],
                    status_code=existing["status"],
                    media_type=existing["media_type"],
                    headers={"Idempotent-Replayed": "true"},
                )
            started = existing["started_at"]
            if now - started < self.in_flight:
                return problem(
                    409,
                    "idempotency_request_in_flight",
                    "a request with this Idempotency-Key is still running",
                )
            # The first attempt died mid-way; take the key over (the service below is
            # idempotent on the same key, so nothing is done twice).
            await self.collection.update_one({"_id": doc_id}, {"$set": {"started_at": now}})
        response = await call()
        if (response.status_code or 200) >= 500:
            await self.collection.delete_one({"_id": doc_id})
            return response
        body = (
            response.content
            if isinstance(response.content, bytes)
            else response.render(response.content, str(response.media_type or "application/json"))
        )
        await self.collection.update_one(
            {"_id": doc_id},
            {
                "$set": {
                    "state": "done",
                    "status": response.status_code,
                    "body": body,
                    "media_type": str(response.media_type or "application/json"),
                }
            },
        )
        return response
