"""MongoDB helpers that behave the same on MongoDB and FerretDB v1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


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
            await collection.create_indexes([index])


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
