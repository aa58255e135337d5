"""Blue/green rebuilds: a projection is rebuilt beside the live one and readers switch
over in one status write, so nobody ever reads an empty or half-built read model.

The status document (`projection_status`, `_id` = the projection) names the collections
readers use (`read_models`: default name -> current name). A rebuild is requested there
(`rebuild`: a new consumer group and new collection names); whoever runs the projection
claims it and:
1. replays the topics from offset 0 under the new group into the new collections while
   the live projection keeps serving and updating the old ones;
2. once caught up, pauses the live handler (its `Gate`), replays what arrived meanwhile
   (the last pass: the new collections now hold every event the live ones hold, and
   more), switches `read_models` and removes `rebuild` in one update, points the live
   handler at the new collections and lets it go on. The live handler then re-applies
   events the replay already applied, which the projections' per-stream idempotency
   turns into no-ops;
3. drops the old collections after a grace period (a reader that read the status just
   before the switch still finds its old document meanwhile).
Readers therefore see the old read model, then a newer one: never empty, never older.
The pause covers the process that runs the rebuild. Other replicas of the projector
follow the switch at their watcher's next tick (about a second); an event one of them
applies to the old collections in that second is missing from the new ones until the
stream's next event (balances are carried by every wallet event; counters are not):
rebuild with one projector replica until the pause spans replicas.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.consumer import EventHandler, Record, is_transient, lanes
from portal_chassis.logging import get_logger
from portal_chassis.settings import InfraSettings
from portal_chassis.topics import client_options, topic_partitions

log = get_logger(__name__)

STATUS = "projection_status"
STALE_AFTER = timedelta(seconds=60)
"""A running rebuild whose progress did not move for this long lost its process: it is
claimed again (and resumes from its group's committed offsets)."""


def read_model_names(doc: Mapping[str, Any] | None, defaults: list[str]) -> dict[str, str]:
    """The collections readers use now, by default name."""
    current = (doc or {}).get("read_models") or {}
    return {name: str(current.get(name, name)) for name in defaults}


class Gate:
    """Lets handlers through concurrently until it is closed; closing waits for the ones
    inside to finish (the live projection's pause)."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._inside = 0

    @asynccontextmanager
    async def passing(self) -> AsyncIterator[None]:
        while not self._open.is_set():  # re-checked: it may close again before we run
            await self._open.wait()
        self._inside += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._inside -= 1
            if self._inside == 0:
                self._idle.set()

    @asynccontextmanager
    async def closed(self) -> AsyncIterator[None]:
        self._open.clear()
        try:
            await self._idle.wait()
            yield
        finally:
            self._open.set()


async def request_rebuild(
    db: AsyncDatabase[dict[str, Any]], projection: str, defaults: list[str]
) -> dict[str, Any] | None:
    """Ask for a rebuild (None: one is already requested or under way)."""
    suffix = uuid.uuid4().hex[:8]
    rebuild = {
        "state": "requested",
        "group_id": f"{projection}-{suffix}",
        "read_models": {name: f"{name}_{suffix}" for name in defaults},
        "requested_at": datetime.now(UTC),
        "applied": 0,
        "total": 0,
    }
    try:
        await db[STATUS].update_one(
            {"_id": projection, "rebuild": {"$exists": False}},
            {"$set": {"rebuild": rebuild}},
            upsert=True,
        )
    except DuplicateKeyError:
        return None  # the document exists and has a rebuild
    return rebuild


async def withdraw_request(db: AsyncDatabase[dict[str, Any]], projection: str, group: str) -> bool:
    """Take back a request nobody claimed."""
    result = await db[STATUS].update_one(
        {"_id": projection, "rebuild.group_id": group, "rebuild.state": "requested"},
        {"$unset": {"rebuild": ""}},
    )
    return result.modified_count > 0


async def claim(db: AsyncDatabase[dict[str, Any]], projection: str) -> dict[str, Any] | None:
    """The requested (or abandoned) rebuild, now ours; None if there is none to take."""
    now = datetime.now(UTC)
    doc = await db[STATUS].find_one({"_id": projection})
    rebuild = (doc or {}).get("rebuild")
    if not rebuild:
        return None
    stale = rebuild["state"] == "running" and rebuild.get("updated_at", now) < now - STALE_AFTER
    if rebuild["state"] != "requested" and not stale:
        return None
    result = await db[STATUS].update_one(
        {
            "_id": projection,
            "rebuild.group_id": rebuild["group_id"],
            "rebuild.state": rebuild["state"],
            "rebuild.updated_at": rebuild.get("updated_at"),
        },
        {"$set": {"rebuild.state": "running", "rebuild.updated_at": now}},
    )
    return dict(rebuild) if result.modified_count else None


class LiveProjection:
    """What a rebuild needs of the projection running in the same process."""

    gate: Gate

    def use_read_models(self, names: dict[str, str]) -> None: ...


class BlueGreenRebuild:
    """Runs one claimed rebuild to its switch-over (see the module's docstring)."""

    GRACE = 5.0
    """Seconds between the switch and dropping the old collections."""
    PAUSE_BELOW = 100
    """The live handler is paused for the last pass once a pass started this close."""
    MAX_PASSES = 10
    PROGRESS_EVERY = 1.0

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        projection: str,
        defaults: list[str],
        topics: list[str],
        handler_for: Callable[[dict[str, str]], EventHandler],
        infra: InfraSettings,
        live: LiveProjection | None = None,
        *,
        max_attempts: int = 3,
        concurrency: int = 16,
    ) -> None:
        self.db = db
        self.projection = projection
        self.defaults = defaults
        self.topics = topics
        self.handler_for = handler_for
        self.infra = infra
        self.live = live
        self.max_attempts = max_attempts
        self.gate = asyncio.Semaphore(concurrency)
        self._progress_at = 0.0

    async def run(self, rebuild: dict[str, Any]) -> dict[str, str]:
        """Replay, pause the live handler, last pass, switch; the new read models' names."""
        group, names = rebuild["group_id"], dict(rebuild["read_models"])
        handle = self.handler_for(names)
        client = AIOKafkaConsumer(
            group_id=group,
            bootstrap_servers=self.infra.kafka_bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"{self.projection}-rebuild",
            **client_options(self.infra),
        )
        await client.start()
        try:
            tps = await topic_partitions(self.infra, self.topics)
            client.assign(tps)
            for tp in tps:
                done = await client.committed(tp)
                if done is None:
                    await client.seek_to_beginning(tp)
                else:
                    client.seek(tp, done)
            # Passes until little is left, so the live handler's pause stays short.
            for _ in range(self.MAX_PASSES):
                if await self._catch_up(client, tps, handle, group) <= self.PAUSE_BELOW:
                    break
            old = await self.current()
            if self.live is None:
                await self._catch_up(client, tps, handle, group)
                await self._switch(group, names, new_group=True)
            else:
                async with self.live.gate.closed():
                    await self._catch_up(client, tps, handle, group)  # the last pass
                    await self._switch(group, names, new_group=False)
                    self.live.use_read_models(names)
        finally:
            await client.stop()
        log.info("projection rebuilt and switched", projection=self.projection, read_models=names)
        await asyncio.sleep(self.GRACE)
        for name, collection in old.items():
            if collection != names[name]:
                await self.db.drop_collection(collection)
        return names

    async def current(self) -> dict[str, str]:
        return read_model_names(
            await self.db[STATUS].find_one({"_id": self.projection}), self.defaults
        )

    async def _catch_up(
        self,
        client: AIOKafkaConsumer,
        tps: list[TopicPartition],
        handle: EventHandler,
        group: str,
    ) -> int:
        """Consume until every partition's position reaches its end offset of now; how
        many records were behind at the start."""
        ends = await client.end_offsets(tps) if tps else {}
        total = sum(ends.values())
        behind: int | None = None
        while True:
            positions = {tp: await client.position(tp) for tp in tps}
            done = sum(positions.values())
            behind = total - done if behind is None else behind
            await self._progress(group, done, total)
            if all(positions[tp] >= ends[tp] for tp in tps):
                return behind
            batch = await client.getmany(timeout_ms=500, max_records=500)
            records = [Record.decode(r) for rs in batch.values() for r in rs]
            await asyncio.gather(*(self._lane(lane, handle) for lane in lanes(records)))
            if records:
                await client.commit()  # after the batch's effects are stored

    async def _lane(self, lane: list[Record], handle: EventHandler) -> None:
        async with self.gate:
            for record in lane:
                await self._apply(record, handle)

    async def _apply(self, record: Record, handle: EventHandler) -> None:
        if record.envelope is None or record.event is None:
            return  # unknown or undecodable: the live consumer skipped or dead-lettered it
        failures, delay = 0, 0.2
        while True:
            try:
                await handle(record.envelope, record.event)
                return
            except Exception as exc:
                if is_transient(exc):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                failures += 1
                if failures >= self.max_attempts:
                    # The live consumer dead-lettered it; a redrive applies it to whichever
                    # read models are current then.
                    log.warning(
                        "rebuild skipped a failing event",
                        projection=self.projection,
                        event_id=record.envelope.id,
                        error=f"{type(exc).__name__}: {exc}"[:300],
                    )
                    return
                await asyncio.sleep(0.2 * failures)

    async def _progress(self, group: str, done: int, total: int) -> None:
        now = asyncio.get_running_loop().time()
        if done < total and now - self._progress_at < self.PROGRESS_EVERY:
            return
        self._progress_at = now
        await self.db[STATUS].update_one(
            {"_id": self.projection, "rebuild.group_id": group},
            {
                "$set": {
                    "rebuild.applied": done,
                    "rebuild.total": total,
                    "rebuild.updated_at": datetime.now(UTC),
                }
            },
        )

    async def _switch(self, group: str, names: dict[str, str], *, new_group: bool) -> None:
        """Readers move to the new collections: one update of the status document."""
        fields: dict[str, Any] = {"read_models": names, "rebuilt_at": datetime.now(UTC)}
        if new_group:
            # No projector is running: when it starts it carries on from the replay's
            # position. A running one keeps its group (its subscription cannot move).
            fields["group_id"] = group
        await self.db[STATUS].update_one(
            {"_id": self.projection, "rebuild.group_id": group},
            {"$set": fields, "$unset": {"rebuild": ""}},
        )


async def run_requested(
    db: AsyncDatabase[dict[str, Any]],
    make: Callable[[], BlueGreenRebuild],
    running: dict[str, asyncio.Task[Any]],
) -> None:
    """One tick of a projector's watcher: follow a switch made by another replica, and
    start a requested rebuild if there is one."""
    task = running.get("task")
    if task is not None and not task.done():
        return  # ours switches the live projection itself
    rebuild = make()
    if rebuild.live is not None:
        rebuild.live.use_read_models(await rebuild.current())
    claimed = await claim(db, rebuild.projection)
    if claimed is not None:
        running["task"] = asyncio.create_task(_logged(rebuild.run(claimed), rebuild.projection))


async def _logged(work: Awaitable[Any], projection: str) -> None:
    try:
        await work
    except Exception as exc:
        # Claimed again once its progress is stale (STALE_AFTER): it resumes from its
        # committed offsets.
        log.error("rebuild failed", projection=projection, error=f"{type(exc).__name__}: {exc}")
