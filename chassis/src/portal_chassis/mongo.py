"""MongoDB helpers that behave the same on MongoDB and FerretDB v1."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pymongo
from prometheus_client import Counter
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    ConnectionFailure,
    DuplicateKeyError,
    ExecutionTimeout,
    PyMongoError,
    WTimeoutError,
)

from portal_chassis.settings import InfraSettings

COMMANDS = Counter(
    "portal_mongo_commands_total",
    "Database commands sent (round trips), by database, collection and command",
    ["database", "collection", "command"],
)


class CommandCounter(monitoring.CommandListener):
    """Counts every command the client sends: the bench reads it from /metrics to see
    which collection and operation the database's work goes to."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        target = event.command.get(name)
        if name == "getMore":
            target = event.command.get("collection")
        collection = target if isinstance(target, str) else ""
        COMMANDS.labels(event.database_name, collection, name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


_COUNTER = CommandCounter()


def make_client(infra: InfraSettings) -> AsyncMongoClient[dict[str, Any]]:
    """The one way a service opens its database: every step of a call has a deadline.

    Without them a call made while the database is away can wait for ever (PyMongo's
    defaults: no socket timeout, no pool wait limit, 20 s connects), and a pile of such
    calls is how a service hung for good after an outage. Server selection gives up
    first, so a request made while the database is down fails fast (then: a 503). Not
    `timeoutMS`: it overrides serverSelectionTimeoutMS, and every request made during an
    outage would wait the whole budget before failing.
    """
    fast = int(infra.mongodb_server_selection_seconds * 1000)
    budget = int(infra.mongodb_timeout_seconds * 1000)
    return AsyncMongoClient(
        infra.mongodb_uri,
        tz_aware=True,
        connect=False,
        serverSelectionTimeoutMS=fast,
        connectTimeoutMS=fast,
        socketTimeoutMS=budget,
        waitQueueTimeoutMS=budget,
        event_listeners=[_COUNTER],
    )


def is_database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or did not answer in time (not a rule broken:
    a duplicate key or a bad query is the caller's own failure)."""
    if isinstance(exc, ConnectionFailure | ExecutionTimeout | WTimeoutError):
        return True
    return isinstance(exc, PyMongoError) and exc.timeout


async def ensure_indexes(
    collection: AsyncCollection[dict[str, Any]], indexes: Sequence[IndexModel]
) -> None:
    """Create missing indexes one by one.

    FerretDB v1.24 drops the connection (a panic in its handler) when one
    createIndexes command lists several indexes that all exist already, which is what
    every service restart does; one index per command, skipping existing names, works
    on both engines.
    """
    existing = {index["name"] async for index in await collection.list_indexes()}
    for index in indexes:
        if index.document["name"] not in existing:
            # Building an index on a large collection may take minutes: not a hung call.
            with pymongo.timeout(INDEX_BUILD_SECONDS):
                await collection.create_indexes([index])


INDEX_BUILD_SECONDS = 600.0


def index(name: str, *keys: str) -> IndexModel:
    """An index from keys written as in a sort: "account_id", "-created_at" (descending)."""
    return IndexModel(
        [(k[1:], DESCENDING) if k.startswith("-") else (k, ASCENDING) for k in keys], name=name
    )


async def ensure_read_model_indexes(
    db: AsyncDatabase[dict[str, Any]], indexes: Mapping[str, Sequence[IndexModel]]
) -> None:
    """The indexes behind a service's list queries, collection by collection.

    FerretDB v1 on SQLite scans for any filter not on `_id` whatever the indexes; a real
    MongoDB uses them, and without them every customer's list page scans every tenant's
    rows.
    """
    for collection, models in indexes.items():
        await ensure_indexes(db[collection], models)


async def update_by_id(
    collection: AsyncCollection[dict[str, Any]], doc_id: Any, update: dict[str, Any]
) -> None:
    """Upsert one document by `_id`, safe when two writers upsert the same new `_id`.

    Two concurrent upserts of a missing `_id` both try the insert; the loser gets
    E11000 (FerretDB v1 always, MongoDB too before 4.2's automatic retry). By then
    the document exists, so the same update applied without upsert is what we meant.
    """
    try:
        await collection.update_one({"_id": doc_id}, update, upsert=True)
    except DuplicateKeyError:
        await collection.update_one({"_id": doc_id}, update)


async def replace_by_id(
    collection: AsyncCollection[dict[str, Any]], doc_id: Any, doc: dict[str, Any]
) -> None:
    """Write a whole document by `_id` (last write wins), safe under the same race."""
    try:
        await collection.replace_one({"_id": doc_id}, doc, upsert=True)
    except DuplicateKeyError:
        await collection.replace_one({"_id": doc_id}, doc)
