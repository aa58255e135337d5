"""Start a new stream once per Idempotency-Key: validate, allocate, run once.

A command that creates a stream (a ticket, a repair, an invoice) takes its id from its
key: the first request under a key names the stream, a retry gets the same id (and the
stream, if the first request got that far; if it died before, the retry starts it), a
different request under the same key is refused. The command is decided on the new
stream's empty state before anything is allocated (numbers, stored files), so a refused
request stores nothing and leaves its key free for a corrected one; it then runs once,
under the key, so two copies racing on one id append once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from portal_chassis.commands import CommandRunner, Outcome
from portal_chassis.decider import DomainError
from portal_chassis.eventstore import CommitMetadata

C = TypeVar("C")
S = TypeVar("S")

START_KEY = "start"
"""The append's idempotency key on the new stream (the stream itself is the request's)."""


@dataclass(frozen=True)
class Started(Generic[S]):
    """The stream's id and what its command did (no commit when an earlier request
    started it: `created` is False)."""

    id: str
    outcome: Outcome[S]

    @property
    def state(self) -> S:
        return self.outcome.state

    @property
    def created(self) -> bool:
        return self.outcome.commit is not None and not self.outcome.replayed


class StreamStarts:
    """Request key -> the id of the stream it started, in one small collection
    (`{_id: key, fp: fingerprint, <id_field>: id}`; `id_field` keeps a table's shape)."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]], id_field: str = "id") -> None:
        self.collection = collection
        self.id_field = id_field

    async def claim(self, key: str, fingerprint: str, new_id: str) -> str:
        """The id the first request under `key` chose (`new_id` if this is the first)."""
        try:
            await self.collection.insert_one({"_id": key, "fp": fingerprint, self.id_field: new_id})
            return new_id
        except DuplicateKeyError:
            earlier = await self.earlier(key, fingerprint)
        assert earlier is not None  # entries are never deleted
        return earlier

    async def earlier(self, key: str, fingerprint: str) -> str | None:
        """The id the first request under `key` chose, None if there was none: a retry
        looks first when the first request changed what its checks would now refuse."""
        found = await self.collection.find_one({"_id": key})
        if found is None:
            return None
        if found.get("fp", fingerprint) != fingerprint:
            raise DomainError(
                "idempotency_key_reused", "this Idempotency-Key was used for another request"
            )
        return str(found[self.id_field])

    async def start(
        self,
        runner: CommandRunner[C, S],
        *,
        new_id: str,
        stream_of: Callable[[str], str],
        command: Callable[[str], C],
        key: str | None,
        fingerprint: str,
        allocate: Callable[[C], Awaitable[C]] | None = None,
        metadata: CommitMetadata | None = None,
    ) -> Started[S]:
        """Start the stream `command(id)` opens, once per `key` (None: every call anew).

        `key` is scoped by the caller (e.g. "<account>|<Idempotency-Key>"); `fingerprint`
        tells a retry from another request; `allocate` gives the command its numbers and
        files once it passed `decide`.
        """
        runner.decider.decide(command(new_id), runner.decider.initial_state)
        stream_id = new_id if key is None else await self.claim(key, fingerprint, new_id)
        if stream_id != new_id:  # a retry: the first request may have started it
            state, version = await runner.load(stream_of(stream_id))
            if version > 0:
                return Started(stream_id, Outcome(None, state, version))
        outcome = await runner.run(
            stream_of(stream_id),
            command(stream_id),
            idempotency_key=START_KEY if key else None,
            fingerprint=fingerprint,
            metadata=metadata,
            allocate=allocate,
        )
        return Started(stream_id, outcome)
