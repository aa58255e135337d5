"""Liveness and readiness from what the process sees, not from a trivial "I answered".

Two watchdogs run beside the service:
- `DatabaseHealth` pings the service's own database every `interval`. A ping that fails
  (the database is away: refused, timed out) means "not ready, still live": the process
  is fine and recovers by itself when the database returns. A ping that has not returned
  long after every driver deadline has passed means the client itself is wedged (the
  outage once left every call waiting for ever inside PyMongo's topology lock): then
  liveness fails, so the orchestrator restarts the process instead of leaving it hung.
  The ping is never cancelled (cancelling inside the driver is how locks get lost);
  while it is pending, no new ping starts.
- `LoopWatchdog` measures how late a short sleep wakes up: an event loop that falls
  far behind (blocked by synchronous work, starved) is not live either.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from typing import Any

from prometheus_client import Gauge

from portal_chassis.logging import get_logger

log = get_logger(__name__)

LOOP_LAG = Gauge("portal_event_loop_lag_seconds", "How late the event loop woke up a timer")
DB_UP = Gauge("portal_database_up", "1 while the service's own database answers a ping")

Ping = Callable[[], Coroutine[Any, Any, Any]]


class DatabaseHealth:
    def __init__(
        self,
        ping: Ping,
        *,
        interval: float = 1.0,
        deadline: float = 15.0,
        wedged_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ping = ping
        self.interval = interval
        self.deadline = deadline
        """A ping pending longer than this is reported as not answering."""
        self.wedged_after = wedged_after
        """A ping pending longer than this means the client is wedged: not live."""
        self.clock = clock
        self.state = "unknown"
        self.last_ok: float | None = None
        self._pending: asyncio.Task[Any] | None = None
        self._pending_since = 0.0
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> None:
        """One probe: start a ping unless one is still pending, then look at it."""
        if self._pending is None:
            self._pending = asyncio.create_task(self.ping(), name="database-ping")
            self._pending_since = self.clock()
        pending = self._pending
        waited = self.clock() - self._pending_since
        # asyncio.wait neither cancels a ping that outlives this probe nor raises its error.
        await asyncio.wait({pending}, timeout=max(self.deadline - waited, 0.01))
        if not pending.done():
            if self.state != "not answering":
                log.error(
                    "database ping not answering",
                    seconds=round(self.clock() - self._pending_since, 1),
                )
            self.state = "not answering"
            DB_UP.set(0)
            return
        self._pending = None
        exc = pending.exception()
        if exc is None:
            if self.state != "ok":
                log.info("database reachable")
            self.state = "ok"
            self.last_ok = self.clock()
            DB_UP.set(1)
        else:
            state = f"down: {type(exc).__name__}"
            if state != self.state:
                log.warning("database unreachable", error=str(exc)[:300])
            self.state = state
            DB_UP.set(0)

    async def refresh(self) -> None:
        """Probe now unless a ping is already pending (that one is awaited by `run`)."""
        if self._pending is None:
            await self.check()

    def ready(self) -> bool:
        return self.state == "ok"

    def wedged(self) -> bool:
        return self._pending is not None and self.clock() - self._pending_since > self.wedged_after

    def report(self) -> dict[str, Any]:
        report: dict[str, Any] = {"mongodb": self.state}
        if self.wedged():
            report["mongodb"] = "wedged"
        return report

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a watchdog never dies of what it watches
                log.warning("database health check failed", error=str(exc))
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="database-health")

    async def stop(self) -> None:
        for task in (self._task, self._pending):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._pending = None


class LoopWatchdog:
    def __init__(self, *, tick: float = 0.5, max_lag: float = 10.0, window: float = 30.0) -> None:
        self.tick = tick
        self.max_lag = max_lag
        self.window = window
        """A stall this recent still counts: probes come seconds apart and would miss it."""
        self.lag = 0.0
        self._stalled_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.tick)
            self.lag = max(0.0, loop.time() - before - self.tick)
            LOOP_LAG.set(self.lag)
            if self.lag > self.max_lag:
                self._stalled_at = loop.time()
                log.error("event loop lagging", lag_seconds=round(self.lag, 1))

    def live(self) -> bool:
        if self._stalled_at is None:
            return True
        return asyncio.get_running_loop().time() - self._stalled_at > self.window

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="loop-watchdog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
