"""Event store on MongoDB, written to run unchanged on FerretDB v1.

One document per append (a "commit") holds all events of one command, so an append is
atomic without transactions. Its _id is "<stream>@<first version>", so exactly one of
two writers that loaded the same version succeeds, and streams are read by point
lookups; a unique index on `idem` records the command's idempotency key in the same
write, so a retried command finds the first result. Before each append a marker goes
into the small `outbox` collection; the relay deletes it once Kafka acknowledged every
event of the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.mongo import ensure_indexes, update_by_id
from portal_chassis.tracing import append_span, current_traceparent
from portal_contracts.base import DomainEvent
from portal_contracts.registry import parse_event

COMMITS = "commits"
SNAPSHOTS = "snapshots"

APPENDED = Counter(
    "portal_events_appended_total", "Events appended to the event store", ["topic", "type"]
)


class ConcurrencyError(Exception):
    """Another writer appended to the stream since it was loaded."""


class IdempotencyKeyReused(Exception):
    """The same idempotency key came with a different command."""


@dataclass(frozen=True)
class CommitMetadata:
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    tenant: str | None = None
    traceparent: str | None = None

    @classmethod
    def current(cls, tenant: str | None = None, actor: str | None = None) -> CommitMetadata:
        """Metadata of a command run now: the ids bound by the entrypoint, plus who/whose."""
        from portal_chassis.logging import current_ids

        correlation_id, causation_id = current_ids()
        return cls(
            correlation_id=correlation_id, causation_id=causation_id, actor=actor, tenant=tenant
        )

    def to_doc(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class StoredEvent:
    event_id: str
    stream_id: str
    version: int
    event: DomainEvent


@dataclass(frozen=True)
class Commit:
    commit_id: str
    stream_id: str
    first_version: int
    last_version: int
    events: list[StoredEvent]
    metadata: CommitMetadata
    recorded_at: datetime
    replayed: bool = False
    """True when this is the stored result of an earlier command with the same key."""


@dataclass
class AppendNotifier:
    """Wakes the relay at once after a local append instead of waiting for its poll."""

    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()


def request_fingerprint(payload: Any) -> str:
    """Stable hash of a command's payload, to tell a retry from a reused key."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _event_doc(event_id: str, version: int, event: DomainEvent) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event.event_type,
        "sv": event.schema_version,
        "v": version,
        "data": event.model_dump(mode="json"),
    }


def _commit_from_doc(doc: dict[str, Any], replayed: bool = False) -> Commit:
    stream_id = doc["stream_id"]
    return Commit(
        commit_id=doc["_id"],
        stream_id=stream_id,
        first_version=doc["first_version"],
        last_version=doc["last_version"],
        events=[
            StoredEvent(e["id"], stream_id, e["v"], parse_event(e["type"], e["sv"], e["data"]))
            for e in doc["events"]
        ],
        metadata=CommitMetadata(**doc.get("meta", {})),
        recorded_at=doc["recorded_at"],
        replayed=replayed,
    )


def commit_key(stream_id: str, first_version: int) -> str:
    """A commit's _id: the stream and its first version. Being the primary key, it makes
    two appends at the same version collide on every engine, and lets a stream be read by
    point lookups (FerretDB v1 on SQLite answers only _id queries without a full scan)."""
    return f"{stream_id}@{first_version:012d}"


class EventStore:
    """Collections: `commits` (the log), `outbox` (commits not yet relayed: small, so the
    relay never scans history), `idempotency` (key -> commit, for point lookups),
    `snapshots`."""

    OUTBOX_GRACE = timedelta(seconds=60)
    """A pending marker whose commit never appeared (writer died) is dropped after this."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db
        self.commits = db[COMMITS]
        self.snapshots = db[SNAPSHOTS]
        self.outbox = db["outbox"]
        self.idempotency = db["idempotency"]
        self.notifier = AppendNotifier()
        self._tails: dict[str, int] = {}

    async def setup(self) -> None:
        # Enforced on insert by both engines; looked up only on the rare collision path.
        await ensure_indexes(
            self.commits,
            [IndexModel([("idem", ASCENDING)], unique=True, name="idempotency_unique")],
        )

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        *,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        metadata: CommitMetadata | None = None,
        now: datetime | None = None,
    ) -> Commit:
        """Append all events atomically after `expected_version`.

        Raises ConcurrencyError if the stream moved on; returns the stored commit of the
        first attempt (replayed=True) if the idempotency key was used before.
        """
        if not events:
            raise ValueError("nothing to append")
        with append_span(stream_id, expected_version + 1, len(events)):
            # The commit remembers the append's span: the relay publishes it as a child.
            metadata = metadata or CommitMetadata()
            traceparent = current_traceparent() or metadata.traceparent
            return await self._append(
                stream_id,
                expected_version,
                events,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                metadata=replace(metadata, traceparent=traceparent),
                now=now,
            )

    async def _append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        *,
        idempotency_key: str | None,
        fingerprint: str | None,
        metadata: CommitMetadata,
        now: datetime | None,
    ) -> Commit:
        first = expected_version + 1
        commit_id = commit_key(stream_id, first)
        stored = [
            StoredEvent(str(uuid.uuid4()), stream_id, expected_version + i, event)
            for i, event in enumerate(events, start=1)
        ]
        recorded_at = now or datetime.now(UTC)
        idem = self._idem(stream_id, idempotency_key) or f"auto:{uuid.uuid4()}"
        # 1. Announce the commit to the relay first: whoever wins this version, its commit
        #    is then always relayed, even if this process dies right after inserting it.
        marker = {"stream_id": stream_id, "first_version": first, "at": datetime.now(UTC)}
        await update_by_id(self.outbox, commit_id, {"$set": marker})
        doc = {
            "_id": commit_id,
            "stream_id": stream_id,
            "first_version": first,
            "last_version": expected_version + len(events),
            "idem": idem,
            "fp": fingerprint,
            "events": [_event_doc(s.event_id, s.version, s.event) for s in stored],
            "meta": metadata.to_doc(),
            "recorded_at": recorded_at,
        }
        # 2. The append itself: one document, atomic; _id and idem are unique.
        try:
            await self.commits.insert_one(doc)
        except DuplicateKeyError:
            if idempotency_key:
                earlier = await self.find_by_idempotency_key(stream_id, idempotency_key, scan=True)
                if earlier is not None:
                    return self._check_fingerprint(earlier, fingerprint)
            raise ConcurrencyError(stream_id) from None
        # 3. Index the key for fast retries (if this is lost, the unique index still
        #    catches the retry and the slow path above finds the commit).
        if idempotency_key:
            with contextlib.suppress(DuplicateKeyError):
                await self.idempotency.insert_one({"_id": idem, "commit_id": commit_id})
        self._tails[stream_id] = expected_version + len(events)
        for event in events:  # only new appends: an idempotent replay returned above
            APPENDED.labels(event.topic(), event.event_type).inc()
        self.notifier.notify()
        return Commit(
            commit_id,
            stream_id,
            first,
            expected_version + len(events),
            stored,
            metadata,
            recorded_at,
        )

    async def append_latest(
        self,
        stream_id: str,
        events: Sequence[DomainEvent],
        metadata: CommitMetadata | None = None,
    ) -> Commit:
        """Append facts that need no decision (e.g. a security log) at the stream's end."""
        for _ in range(50):
            version = await self.stream_version(stream_id)
            try:
                return await self.append(stream_id, version, events, metadata=metadata)
            except ConcurrencyError:
                continue
        raise ConcurrencyError(stream_id)

    @staticmethod
    def _idem(stream_id: str, key: str | None) -> str | None:
        return f"{stream_id}|{key}" if key else None

    def _check_fingerprint(
        self, found: tuple[Commit, str | None], fingerprint: str | None
    ) -> Commit:
        commit, stored_fp = found
        if fingerprint and stored_fp and fingerprint != stored_fp:
            raise IdempotencyKeyReused(commit.stream_id)
        return commit

    async def find_by_idempotency_key(
        self, stream_id: str, key: str, *, scan: bool = False
    ) -> tuple[Commit, str | None] | None:
        idem = self._idem(stream_id, key)
        marker = await self.idempotency.find_one({"_id": idem})
        doc = await self.commits.find_one({"_id": marker["commit_id"]}) if marker else None
        if doc is None and scan:
            doc = await self.commits.find_one({"idem": idem})
        if doc is None:
            return None
        return _commit_from_doc(doc, replayed=True), doc.get("fp")

    async def replay_for_key(
        self, stream_id: str, key: str, fingerprint: str | None
    ) -> Commit | None:
        found = await self.find_by_idempotency_key(stream_id, key)
        return None if found is None else self._check_fingerprint(found, fingerprint)

    async def _commits_after(self, stream_id: str, after_version: int) -> Any:
        version = after_version
        while True:
            doc = await self.commits.find_one({"_id": commit_key(stream_id, version + 1)})
            if doc is None:
                return
            yield doc
            version = int(doc["last_version"])

    async def read_stream(
        self, stream_id: str, after_version: int = 0, until: datetime | None = None
    ) -> list[StoredEvent]:
        """Events after a version, by point lookups (cost ~ events read, not history)."""
        out: list[StoredEvent] = []
        async for doc in self._commits_after(stream_id, after_version):
            if until is not None and doc["recorded_at"] > until:
                break
            out.extend(_commit_from_doc(doc).events)
        return out

    async def stream_version(self, stream_id: str) -> int:
        version = self._tails.get(stream_id, 0)
        async for doc in self._commits_after(stream_id, version):
            version = int(doc["last_version"])
        self._tails[stream_id] = version
        return version

    # --- outbox ---

    async def unpublished(self, limit: int) -> list[Commit]:
        """Pending commits in stream order (the outbox holds only what is not relayed)."""
        return (await self.unpublished_batch(limit))[0]

    async def unpublished_batch(self, limit: int) -> tuple[list[Commit], int]:
        """Pending commits in stream order, and how many outbox markers were read (at most
        `limit`; fewer means that is the whole backlog)."""
        markers = [
            m
            async for m in self.outbox.find({})
            .sort([("stream_id", ASCENDING), ("first_version", ASCENDING)])
            .limit(limit)
        ]
        commits: list[Commit] = []
        blocked: set[str] = set()
        cutoff = datetime.now(UTC) - self.OUTBOX_GRACE
        # One round trip for the whole batch, not one per pending commit.
        ids = [m["_id"] for m in markers]
        found = {d["_id"]: d async for d in self.commits.find({"_id": {"$in": ids}})} if ids else {}
        for marker in markers:
            if marker["stream_id"] in blocked:
                continue
            doc = found.get(marker["_id"])
            if doc is None:
                # A writer is between its marker and its insert, or died there: wait,
                # and never relay this stream's later commits before it.
                blocked.add(marker["stream_id"])
                await self.outbox.delete_one({"_id": marker["_id"], "at": {"$lt": cutoff}})
                continue
            commits.append(_commit_from_doc(doc))
        return commits, len(markers)

    async def mark_published(self, commit_ids: Sequence[str]) -> None:
        if commit_ids:
            await self.outbox.delete_many({"_id": {"$in": list(commit_ids)}})

    async def unpublished_count(self) -> int:
        return await self.outbox.count_documents({})

    # --- snapshots ---

    async def load_snapshot(
        self, stream_id: str, kind: str, state_version: int
    ) -> tuple[int, dict[str, Any]] | None:
        doc = await self.snapshots.find_one({"_id": f"{kind}|{stream_id}"})
        if doc is None or doc.get("state_version") != state_version:
            return None
        return int(doc["version"]), json.loads(doc["state"])

    async def save_snapshot(
        self, stream_id: str, kind: str, state_version: int, version: int, state: dict[str, Any]
    ) -> None:
        # Stored as JSON text: state may hold lists of lists, which FerretDB v1 refuses.
        body = {
            "version": version,
            "state_version": state_version,
            "state": json.dumps(state, default=str),
        }
        with contextlib.suppress(DuplicateKeyError):  # a newer snapshot is already there
            await self.snapshots.update_one(
                {
                    "_id": f"{kind}|{stream_id}",
                    "$or": [
                        {"version": {"$lt": version}},
                        {"state_version": {"$ne": state_version}},
                    ],
                },
                {"$set": body},
                upsert=True,
            )
