"""An event store that counts what it reads, stream by stream: for tests that hold a use
case to one read per stream it touches (and one idempotency-key lookup per command)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from portal_chassis.eventstore import Commit, EventStore, StoredEvent


class CountingEventStore(EventStore):
    """`reads[stream]`: how often the stream's commits were read (a load from a snapshot
    reads the snapshot and then the commits after it: one read); `key_lookups[stream]`:
    how often an idempotency key was looked up before a command."""

    def __init__(self, store: EventStore) -> None:
        super().__init__(store.db)
        self.reads: Counter[str] = Counter()
        self.key_lookups: Counter[str] = Counter()

    def reset(self) -> None:
        self.reads.clear()
        self.key_lookups.clear()

    async def read_stream(
        self, stream_id: str, after_version: int = 0, until: datetime | None = None
    ) -> list[StoredEvent]:
        self.reads[stream_id] += 1
        return await super().read_stream(stream_id, after_version, until)

    async def stream_version(self, stream_id: str) -> int:
        self.reads[stream_id] += 1
        return await super().stream_version(stream_id)

    async def replay_for_key(
        self, stream_id: str, key: str, fingerprint: str | None
    ) -> Commit | None:
        self.key_lookups[stream_id] += 1
        return await super().replay_for_key(stream_id, key, fingerprint)
