"""Sessions identity has revoked (logout, password change, refresh-token reuse).

An access token is self-contained and lives up to 15 minutes; without this, a logged-out
token kept working until it expired. Identity publishes `SessionRevoked`; the projector
records each one in `revoked_sessions`, and every gateway replica re-reads the rows added
since its last look about every second into a set. The check per request is a set lookup:
identity is never asked per request, and a revoked token is refused within seconds of the
logout. Rows older than any access token can be are purged.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.logging import get_logger
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.identity import SessionRevoked

log = get_logger(__name__)

REVOKED_SESSIONS = "revoked_sessions"
GROUP = "gateway-revoked-sessions"
OVERLAP = timedelta(seconds=30)
"""Each re-read looks this far behind the last one: clocks of pods differ a little."""


class RevokedSessionsProjection:
    """Projector side: one row per revoked session, keyed by the session id."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], keep_seconds: float) -> None:
        self.rows = db[REVOKED_SESSIONS]
        self.keep = timedelta(seconds=keep_seconds)

    async def handle(self, envelope: EventEnvelope, event: DomainEvent) -> None:
        if not isinstance(event, SessionRevoked):
            return
        now = datetime.now(UTC)
        if event.occurred_at < now - self.keep:
            return  # every token of that session has expired already (a replay)
        with contextlib.suppress(DuplicateKeyError):  # a concurrent redelivery recorded it
            await self.rows.update_one(
                {"_id": event.session_id},
                {
                    "$setOnInsert": {
                        "user_id": event.user_id,
                        "revoked_at": event.occurred_at,
                        "recorded_at": now,
                    }
                },
                upsert=True,
            )


class RevokedSessions:
    """Gateway side: the revoked session ids, cached in memory and refreshed often."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], keep_seconds: float) -> None:
        self.rows = db[REVOKED_SESSIONS]
        self.keep = timedelta(seconds=keep_seconds)
        self._ids: set[str] = set()
        self._since: datetime | None = None
        self._indexed = False

    async def setup(self) -> None:
        await self.rows.create_index([("recorded_at", ASCENDING)], name="recorded_at")
        self._indexed = True

    def contains(self, session_id: str | None) -> bool:
        return session_id is not None and session_id in self._ids

    async def refresh(self) -> None:
        """Run every second or so; the first run (or the first after a database outage at
        start-up) also declares the index, so the gateway starts without the database."""
        if not self._indexed:
            await self.setup()
        started = datetime.now(UTC)
        query = {} if self._since is None else {"recorded_at": {"$gte": self._since - OVERLAP}}
        async for row in self.rows.find(query, {"_id": 1}):
            self._ids.add(str(row["_id"]))
        self._since = started

    async def purge(self) -> None:
        """Drop rows no token can need any more, and start the set afresh from the rest."""
        await self.rows.delete_many({"recorded_at": {"$lt": datetime.now(UTC) - self.keep}})
        ids: set[str] = set()
        started = datetime.now(UTC)
        async for row in self.rows.find({}, {"_id": 1}):
            ids.add(str(row["_id"]))
        self._ids, self._since = ids, started
