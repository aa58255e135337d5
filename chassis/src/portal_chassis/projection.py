"""Idempotent projections: each read-model document remembers, per stream, the last
version applied to it, in the same write as the change itself. Replays and duplicate
deliveries are therefore no-ops, and a crash between "apply" and "remember" cannot
happen. Rebuilds run beside the live read models (portal_chassis.rebuild).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Gauge
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.mongo import update_by_id
from portal_contracts.envelope import EventEnvelope

LAG = Gauge(
    "portal_projection_lag_seconds",
    "Age of the newest event a projection has applied, when it applied it",
    ["projection"],
)


VERSION = "_v"
"""A read-model document's change counter (apply_once increments it)."""


def _field(stream_id: str) -> str:
    return "_applied." + stream_id.replace(".", "_").replace("$", "_")


async def apply_once(
    collection: AsyncCollection[dict[str, Any]],
    doc_id: Any,
    envelope: EventEnvelope,
    update: dict[str, Any],
) -> bool:
    """Apply `update` to document `doc_id` unless this stream version was applied already."""
    marker = _field(envelope.subject)
    update = dict(update)
    update["$set"] = {**update.get("$set", {}), marker: envelope.streamversion}
    # `_v` moves with every applied change: a reader watching for changes reads it alone.
    update["$inc"] = {**update.get("$inc", {}), VERSION: 1}
    query = {
        "_id": doc_id,
        "$or": [{marker: {"$lt": envelope.streamversion}}, {marker: {"$exists": False}}],
    }
    try:
        result = await collection.update_one(query, update, upsert=True)
    except DuplicateKeyError:
        # The document exists: either it has seen this version, or another lane inserted
        # it a moment ago (batches run streams concurrently). Without the upsert the
        # update applies in the second case only.
        result = await collection.update_one(query, update)
    return result.modified_count > 0 or result.upserted_id is not None


async def insert_once(collection: AsyncCollection[dict[str, Any]], doc: dict[str, Any]) -> bool:
    """Insert a row keyed by the event id; a redelivery is a duplicate and is ignored."""
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


class ProjectionStatus:
    """Where a projection is: its consumer group (new on rebuild) and its lag."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], name: str) -> None:
        self.collection = db["projection_status"]
        self.name = name
        self._unsaved = 0
        self._saved_at: datetime | None = None

    async def group_id(self) -> str:
        doc = await self.collection.find_one({"_id": self.name})
        if doc and doc.get("group_id"):
            return str(doc["group_id"])
        group = f"{self.name}-{uuid.uuid4().hex[:8]}"
        try:
            await self.collection.insert_one({"_id": self.name, "group_id": group})
        except DuplicateKeyError:
            doc = await self.collection.find_one({"_id": self.name})
            assert doc is not None
            return str(doc["group_id"])
        return group

    PERSIST_EVERY = 1.0
    """Seconds between writes of the status document (the gauge is live)."""

    async def applied(self, envelope: EventEnvelope) -> None:
        now = datetime.now(UTC)
        lag = max(0.0, (now - envelope.time).total_seconds())
        LAG.labels(self.name).set(lag)
        self._unsaved += 1
        last = self._saved_at
        if last is not None and (now - last).total_seconds() < self.PERSIST_EVERY:
            return  # one status write per second, not one per event
        self._saved_at = now
        applied, self._unsaved = self._unsaved, 0
        await update_by_id(
            self.collection,
            self.name,
            {
                "$set": {
                    "last_event_time": envelope.time,
                    "last_applied_at": now,
                    "lag_seconds": lag,
                },
                "$inc": {"applied": applied},
            },
        )

    async def report(self) -> dict[str, Any]:
        doc = await self.collection.find_one({"_id": self.name}) or {}
        return {
            "projection": self.name,
            "group_id": doc.get("group_id"),
            "applied": doc.get("applied", 0),
            "lag_seconds": doc.get("lag_seconds"),
            "last_event_time": doc.get("last_event_time"),
        }


async def upsert_if_newer(
    collection: AsyncCollection[dict[str, Any]],
    doc_id: Any,
    version: int,
    fields: dict[str, Any],
    on_insert: dict[str, Any] | None = None,
) -> bool:
    """Write a row rebuilt from an aggregate's state, unless a newer version is stored."""
    update: dict[str, Any] = {"$set": {**fields, "version": version}}
    if on_insert:
        update["$setOnInsert"] = on_insert
    try:
        await collection.update_one(
            {
                "_id": doc_id,
                "$or": [{"version": {"$lt": version}}, {"version": {"$exists": False}}],
            },
            update,
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # a newer row is already there
    return True
