"""Small lists managed by platform admins (departments, branches): id -> name."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from portal_chassis.auth import Principal
from portal_chassis.decider import DomainError, Forbidden
from portal_chassis.mongo import update_by_id


class ReferenceList:
    def __init__(
        self, collection: AsyncCollection[dict[str, Any]], what: str, defaults: dict[str, str]
    ) -> None:
        self.collection = collection
        self.what = what
        self.defaults = defaults

    @property
    def _plural(self) -> str:
        return self.what + ("es" if self.what.endswith(("ch", "sh", "s", "x")) else "s")

    async def setup(self) -> None:
        """Seed the defaults (kept if an admin renamed them)."""
        for key, name in self.defaults.items():
            await update_by_id(self.collection, key, {"$setOnInsert": {"name": name}})

    async def listing(self) -> dict[str, Any]:
        items = [
            {"id": d["_id"], "name": d["name"]}
            async for d in self.collection.find({}).sort("_id", 1)
        ]
        return {"items": items, "total": len(items)}

    async def put(self, principal: Principal, key: str, name: str) -> dict[str, str]:
        if "platform_admin" not in principal.roles:
            raise Forbidden("forbidden", f"only a platform admin manages {self._plural}")
        await update_by_id(self.collection, key, {"$set": {"name": name}})
        return {"id": key, "name": name}

    async def require(self, key: str) -> None:
        if not await self.collection.find_one({"_id": key}):
            raise DomainError(f"unknown_{self.what}", f"no {self.what} {key!r}")
