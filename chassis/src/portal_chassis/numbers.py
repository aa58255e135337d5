"""Human-friendly document numbers (RP-2026-000123, TK-2026-000045).

FerretDB v1 has no atomic counter (its findAndModify is not atomic under concurrency),
but an insert under a unique `_id` is: a number is claimed by inserting it, moving on to
the next on a duplicate. A hint document makes the search start near the end.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


async def claim_number(collection: AsyncCollection[dict[str, Any]], prefix: str, year: int) -> str:
    hint = await collection.find_one({"_id": f"next-{prefix}-{year}"})
    n = int(hint["value"]) if hint else 1
    while True:
        number = f"{prefix}-{year}-{n:06d}"
        try:
            await collection.insert_one({"_id": number})
            break
        except DuplicateKeyError:
            n += 1
    with contextlib.suppress(DuplicateKeyError):  # only a hint
        await collection.update_one(
            {"_id": f"next-{prefix}-{year}", "value": {"$lt": n + 1}},
            {"$set": {"value": n + 1}},
            upsert=True,
        )
    return number
