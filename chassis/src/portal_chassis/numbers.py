"""Human-friendly document numbers (RP-2026-000123, TK-2026-000045).

FerretDB v1 has no atomic counter (its findAndModify is not atomic under concurrency),
but an insert under a unique `_id` is: a number is claimed by inserting it, moving on to
the next on a duplicate. A hint document makes the search start near the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


async def claim_slot(
    collection: AsyncCollection[dict[str, Any]],
    series: str,
    name: Callable[[int], str],
    *,
    first: int = 0,
) -> int:
    """The next free number of `series`, unique under concurrency (its `name(n)` is inserted)."""
    hint = await collection.find_one({"_id": f"next-{series}"})
    n = int(hint["value"]) if hint else first
    while True:
        try:
            await collection.insert_one({"_id": name(n)})
            break
        except DuplicateKeyError:
            n += 1
    with contextlib.suppress(DuplicateKeyError):  # only a hint
        await collection.update_one(
            {"_id": f"next-{series}", "value": {"$lt": n + 1}},
            {"$set": {"value": n + 1}},
            upsert=True,
        )
    return n


async def claim_number(collection: AsyncCollection[dict[str, Any]], prefix: str, year: int) -> str:
    """PREFIX-YEAR-NNNNNN, the next free one."""
    n = await claim_slot(
        collection, f"{prefix}-{year}", lambda k: f"{prefix}-{year}-{k:06d}", first=1
    )
    return f"{prefix}-{year}-{n:06d}"
