"""The orders of the contacts list: each a key of the list row plus `_id`, so that rows with
equal keys keep one order from page to page (no row repeated or skipped by paging)."""

from __future__ import annotations

import unicodedata
from typing import Any, Literal, get_args

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from portal_contracts.events.crm import ContactGroup

ContactSort = Literal[
    "name",
    "-name",
    "updated_at",
    "-updated_at",
    "created_at",
    "-created_at",
    "group",
    "-group",
    "level",
    "-level",
]
DEFAULT_SORT: ContactSort = "-updated_at"
GROUPS: tuple[str, ...] = get_args(ContactGroup)  # the funnel's order, new leads first
# The row key behind each order: a readable name order (accents and case folded), the
# group's place in the funnel, and the level by the money that sets it (levels are
# admin-named, their names do not sort).
_KEYS = {
    "name": "name_key",
    "updated_at": "updated_at",
    "created_at": "created_at",
    "group": "group_rank",
    "level": "accumulated",
}


def order(sort: ContactSort) -> list[tuple[str, int]]:
    direction = DESCENDING if sort.startswith("-") else ASCENDING
    return [(_KEYS[sort.lstrip("-")], direction), ("_id", direction)]


def name_key(name: str) -> str:
    """`Đặng An` sorts beside `Dang An` and before `Em`: no case, no accents (đ is a d)."""
    folded = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold().strip()


def row_keys(name: str, group: str) -> dict[str, Any]:
    """The sort keys a contact's list row carries beside its fields."""
    return {"name_key": name_key(name), "group_rank": GROUPS.index(group)}


async def backfill(rows: AsyncCollection[dict[str, Any]]) -> int:
    """Give the sort keys to rows written before they existed (once; a no-op after)."""
    done = 0
    async for row in rows.find({"name_key": {"$exists": False}}, {"name": 1, "group": 1}):
        name, group = row.get("name", ""), row.get("group", "not_customer")
        # Only if unchanged since read: a row rewritten meanwhile has its own keys.
        matched = {"_id": row["_id"], "name": name, "group": group}
        await rows.update_one(matched, {"$set": row_keys(name, group)})
        done += 1
    return done
