"""Load stream -> decide -> append, with optimistic-concurrency retry and cached state.

The latest (version, state) of recently used streams stays in memory and snapshots are
written every `snapshot_every` events, so a command reads only the commits appended
since: its latency does not grow with the stream's length. A command on a stream held in
memory reads nothing: it is decided on that state and appended after its version, so a
stream another process moved on meanwhile fails the append (and is read again); a
decision that stores nothing on such a state is checked against the stored stream first.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from portal_chassis.decider import Decider, DomainError
from portal_chassis.eventstore import (
    Commit,
    CommitMetadata,
    ConcurrencyError,
    EventStore,
)
from portal_chassis.logging import get_logger

C = TypeVar("C")
S = TypeVar("S")

log = get_logger(__name__)


@dataclass(frozen=True)
class Outcome(Generic[S]):
    """What a command did: the commit it made (None when it decided nothing) and the state."""

    commit: Commit | None
    state: S
    version: int

    @property
    def replayed(self) -> bool:
        return self.commit is not None and self.commit.replayed


class TooMuchContention(Exception):
    pass


class CommandRunner(Generic[C, S]):
    def __init__(
        self,
        store: EventStore,
        decider: Decider[C, S, Any],
        kind: str,
        *,
        snapshot_every: int = 50,
        max_attempts: int = 30,
        cache_size: int = 10_000,
    ) -> None:
        self.store = store
        self.decider = decider
        self.kind = kind
        self.snapshot_every = snapshot_every
        self.max_attempts = max_attempts
        self._cache: OrderedDict[str, tuple[int, S]] = OrderedDict()
        self._cache_size = cache_size
        self._snapshot_versions: dict[str, int] = {}

    async def load(self, stream_id: str) -> tuple[S, int]:
        cached = self._cache.get(stream_id)
        if cached is not None:
            version, state = cached
        else:
            version, state = 0, self.decider.initial_state
            snap = await self.store.load_snapshot(stream_id, self.kind, self.decider.state_version)
            if snap is not None:
                version, state = snap[0], self.decider.load_state(snap[1])
                self._snapshot_versions[stream_id] = version
        for stored in await self.store.read_stream(stream_id, after_version=version):
            state = self.decider.evolve(state, stored.event)
            version = stored.version
        self._remember(stream_id, version, state)
        return state, version

    async def current(self, stream_id: str) -> tuple[S, int]:
        """The state this process last saw (read only if it is not in memory): for what a
        use case needs again right after its own command, or a fact that never changes."""
        cached = self._cache.get(stream_id)
        if cached is None:
            return await self.load(stream_id)
        self._cache.move_to_end(stream_id)
        return cached[1], cached[0]

    async def state_at(self, stream_id: str, instant: datetime) -> tuple[S, int]:
        """The state as it was at a past instant, folded from the stored events."""
        state, version = self.decider.initial_state, 0
        for stored in await self.store.read_stream(stream_id, until=instant):
            state = self.decider.evolve(state, stored.event)
            version = stored.version
        return state, version

    def _remember(self, stream_id: str, version: int, state: S) -> None:
        self._cache[stream_id] = (version, state)
        self._cache.move_to_end(stream_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def run(
        self,
        stream_id: str,
        command: C,
        *,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        metadata: CommitMetadata | None = None,
        now: datetime | None = None,
        prepare: Callable[[C, S], Awaitable[C]] | None = None,
        allocate: Callable[[C], Awaitable[C]] | None = None,
    ) -> Outcome[S]:
        """Decide and append; domain errors from `decide` propagate and store nothing.

        `prepare` gives the command the inputs its decision needs for the state it is
        decided on (a document number, say), before each attempt: allocated up front,
        never asked for by the decider afterwards.

        `allocate` gives it what is stored outside the stream (a payment reference, a
        stored file, a document number), once: only after the command passed `decide` on
        the state it runs on, so a refused command allocates nothing; the command with
        what was allocated is then decided again (and kept for any later attempt).
        """
        allocated = allocate is None
        if metadata is None:
            metadata = CommitMetadata.current()
        if idempotency_key:
            earlier = await self.store.replay_for_key(stream_id, idempotency_key, fingerprint)
            if earlier is not None:
                state, version = await self.load(stream_id)
                return Outcome(earlier, state, version)
        read = stream_id not in self._cache  # False: decided on the state in memory
        for attempt in range(self.max_attempts):
            state, version = await self.current(stream_id)
            ready = command if prepare is None else await prepare(command, state)
            try:
                events = list(self.decider.decide(ready, state))
            except DomainError:
                if read:
                    raise
                events = []
            if not events:
                if not read:  # refused or nothing to do: make sure on the stored stream
                    self._cache.pop(stream_id, None)
                    read = True
                    continue
                return Outcome(None, state, version)
            if not allocated:
                assert allocate is not None
                command, allocated = await allocate(command), True
                continue  # decided again, with what was allocated
            try:
                commit = await self.store.append(
                    stream_id,
                    version,
                    events,
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprint,
                    metadata=metadata,
                    now=now,
                )
            except ConcurrencyError:
                self._cache.pop(stream_id, None)
                read = True
                # Jittered back-off keeps many writers on one stream from colliding again.
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            if commit.replayed:
                state, version = await self.load(stream_id)
                return Outcome(commit, state, version)
            new_state = self.decider.fold(state, events)
            self._remember(stream_id, commit.last_version, new_state)
            await self._maybe_snapshot(stream_id, commit.last_version, new_state)
            return Outcome(commit, new_state, commit.last_version)
        log.warning("command gave up after contention", stream_id=stream_id)
        raise TooMuchContention(stream_id)

    async def _maybe_snapshot(self, stream_id: str, version: int, state: S) -> None:
        last = self._snapshot_versions.get(stream_id, 0)
        if version - last >= self.snapshot_every:
            await self.store.save_snapshot(
                stream_id,
                self.kind,
                self.decider.state_version,
                version,
                self.decider.dump_state(state),
            )
            self._snapshot_versions[stream_id] = version
