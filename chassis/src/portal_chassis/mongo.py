"""MongoDB helpers that behave the same on MongoDB and FerretDB v1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection


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
