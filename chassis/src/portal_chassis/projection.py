"""Idempotent projections: each read-model document remembers, per stream, the last
version applied to it, in the same write as the change itself. Replays and duplicate
deliveries are therefore no-ops, and a crash between "apply" and "remember" cannot
happen. Rebuild = drop the read model and consume the topics again from offset 0
under a new consumer group.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Gauge
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.mongo import is_database_unavailable, update_by_id
from portal_contracts.envelope import EventEnvelope

LAG = Gauge(
    "portal_projection_lag_seconds",
    "Age of the newest event a projection has applied, when it applied it",
    ["projection"],
)


def _field(stream_id: str) -> str:
    return "_applied." + stream_id.replace(".", "_").replace("$", "_")


def _once(
    doc_id: Any, envelope: EventEnvelope, update: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The filter and update that apply `update` once per stream version."""
    marker = _field(envelope.subject)
    update = dict(update)
    update["$set"] = {**update.get("$set", {}), marker: envelope.streamversion}
    query = {
        "_id": doc_id,
        "$or": [{marker: {"$lt": envelope.streamversion}}, {marker: {"$exists": False}}],
    }
    return query, update


def applied_already(doc: dict[str, Any], envelope: EventEnvelope) -> bool:
    """Whether `doc` (as read, with its markers) has seen this stream version."""
    seen = doc.get("_applied", {}).get(_field(envelope.subject).partition(".")[2])
    return seen is not None and seen >= envelope.streamversion


def apply_in_memory(doc: dict[str, Any], update: dict[str, Any]) -> None:
    """Apply a `$set`/`$inc`/`$unset` update (dotted paths) to a document held in memory,
    as the database will: a batch reads a document once and keeps it current itself."""
    for operator, fields in update.items():
        for path, value in fields.items():
            *parents, leaf = path.split(".")
            target = doc
            for name in parents:
                target = target.setdefault(name, {})
            if operator == "$set":
                target[leaf] = value
            elif operator == "$inc":
                target[leaf] = target.get(leaf, 0) + value
            elif operator == "$unset":
                target.pop(leaf, None)
            else:
                raise ValueError(f"{operator} is not applied in memory")


class BatchWrites:
    """The read-model writes of one consumer batch, sent at its end as one ordered
    `bulk_write` per collection instead of one command per event.

    Each write keeps apply_once's guard (the stream's version marker in its filter), so a
    batch delivered again, or a bulk retried after it was partly applied, changes nothing.
    `docs` lets a handler read a document once per batch and keep it current in memory
    (apply_in_memory), which is safe because one document's events are handled in order
    within a batch (consumer lanes) and a batch is flushed before the next one starts.
    """

    def __init__(self) -> None:
        self.docs: dict[tuple[str, Any], dict[str, Any]] = {}
        self._writes: dict[str, tuple[AsyncCollection[dict[str, Any]], list[_Write]]] = {}

    async def read(
        self, collection: AsyncCollection[dict[str, Any]], doc_id: Any
    ) -> dict[str, Any]:
        """The document as this batch has it: read once, then kept current in memory."""
        key = (collection.full_name, doc_id)
        doc = self.docs.get(key)
        if doc is None:
            doc = self.docs[key] = await collection.find_one({"_id": doc_id}) or {}
        return doc

    def apply_once(
        self,
        collection: AsyncCollection[dict[str, Any]],
        doc_id: Any,
        envelope: EventEnvelope,
        update: dict[str, Any],
        doc: dict[str, Any] | None = None,
    ) -> bool:
        """Queue `update` for `doc_id` (guarded as apply_once's). With `doc`, the document
        as `read` returned it: a version it has seen is skipped, and the update is applied
        to it in memory."""
        if doc is not None and applied_already(doc, envelope):
            return False
        query, full = _once(doc_id, envelope, update)
        _, writes = self._writes.setdefault(collection.full_name, (collection, []))
        writes.append(_Write(query, full, _owner.get()))
        if doc is not None:
            apply_in_memory(doc, full)
        return True

    def __len__(self) -> int:
        return sum(len(writes) for _, writes in self._writes.values())

    async def flush(self) -> list[tuple[Any, BaseException]]:
        """Write everything; returns the writes that failed for their own reason, with
        the owner (the consumer's record) each was queued for. Errors of the
        infrastructure propagate and leave the writes queued: the caller retries."""
        failed: list[tuple[Any, BaseException]] = []
        for name, (collection, writes) in list(self._writes.items()):
            try:
                await collection.bulk_write(
                    [UpdateOne(w.query, w.update, upsert=True) for w in writes], ordered=True
                )
            except Exception as exc:
                if is_database_unavailable(exc):
                    raise
                # Usually a duplicate key (BulkWriteError): an upsert whose guard did not
                # match (a version seen before, or a document another writer inserted just
                # now). One by one, as apply_once does; those already applied are no-ops.
                for w in writes:
                    try:
                        await _apply(collection, w.query, w.update)
                    except Exception as one:
                        if is_database_unavailable(one):
                            raise
                        failed.append((w.owner, one))
            del self._writes[name]
        return failed


class _Write:
    __slots__ = ("owner", "query", "update")

    def __init__(self, query: dict[str, Any], update: dict[str, Any], owner: Any) -> None:
        self.query, self.update, self.owner = query, update, owner


_batch: ContextVar[BatchWrites | None] = ContextVar("batch_writes", default=None)
_owner: ContextVar[Any] = ContextVar("batch_write_owner", default=None)


def current_batch() -> BatchWrites | None:
    """The batch a consumer with `batch_writes` is handling (None elsewhere)."""
    return _batch.get()


@contextmanager
def _setting(var: ContextVar[Any], value: Any) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def batch_scope(batch: BatchWrites) -> AbstractContextManager[None]:
    """Handlers run inside queue their writes on `batch`."""
    return _setting(_batch, batch)


def write_owner(owner: Any) -> AbstractContextManager[None]:
    """Writes queued inside belong to `owner` (a failed one dead-letters it)."""
    return _setting(_owner, owner)


async def _apply(
    collection: AsyncCollection[dict[str, Any]], query: dict[str, Any], update: dict[str, Any]
) -> Any:
    try:
        return await collection.update_one(query, update, upsert=True)
    except DuplicateKeyError:
        # The document exists: either it has seen this version, or another lane inserted
        # it a moment ago (batches run streams concurrently). Without the upsert the
        # update applies in the second case only.
        return await collection.update_one(query, update)


async def apply_once(
    collection: AsyncCollection[dict[str, Any]],
    doc_id: Any,
    envelope: EventEnvelope,
    update: dict[str, Any],
) -> bool:
    """Apply `update` to document `doc_id` unless this stream version was applied already."""
    query, update = _once(doc_id, envelope, update)
    result = await _apply(collection, query, update)
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

    async def start_rebuild(self, read_models: list[str]) -> str:
        """Drop the read models and switch to a new group that starts from offset 0."""
        db = self.collection.database
        for name in read_models:
            await db.drop_collection(name)
        group = f"{self.name}-{uuid.uuid4().hex[:8]}"
        await update_by_id(
            self.collection,
            self.name,
            {"$set": {"group_id": group, "rebuilt_at": datetime.now(UTC)}},
        )
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
