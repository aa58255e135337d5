"""Background steps a service repeats while it runs (sweeps, schedulers, reloads).

Each step runs every `seconds`, or at once when `wake(name)` is called (a request that
queued work need not wait for the next tick). A failing step is logged and tried again at
the next tick; it never stops the loop or the service.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from portal_chassis.logging import get_logger

log = get_logger(__name__)

Step = Callable[[], Awaitable[Any]]


@dataclass
class _Job:
    seconds: float
    step: Step
    woken: asyncio.Event = field(default_factory=asyncio.Event)


class Periodic:
    def __init__(self) -> None:
        self._jobs: dict[str, _Job] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def every(self, name: str, seconds: float, step: Step) -> None:
        self._jobs[name] = _Job(seconds, step)

    def wake(self, name: str) -> None:
        job = self._jobs.get(name)
        if job is not None:
            job.woken.set()

    async def _loop(self, name: str, job: _Job) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(job.woken.wait(), timeout=job.seconds)
            job.woken.clear()
            try:
                await job.step()
            except Exception as exc:
                log.warning("background step failed", step=name, error=str(exc))

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(name, job), name=name)
            for name, job in self._jobs.items()
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
