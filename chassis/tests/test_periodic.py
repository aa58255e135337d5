"""Background steps: repeated, woken early on demand, never stopped by a failure."""

from __future__ import annotations

import asyncio

from portal_chassis.periodic import Periodic


async def test_a_step_repeats_survives_failures_and_stops() -> None:
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("the database blinked")

    background = Periodic()
    background.every("flaky", 0.02, flaky)
    await background.start()
    for _ in range(200):  # up to 2 s on a busy machine; usually 0.06 s
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.01)
    await background.stop()
    seen = len(calls)
    assert seen >= 3  # the first failure did not end the loop
    await asyncio.sleep(0.06)
    assert len(calls) == seen  # stopped means stopped


async def test_wake_runs_a_step_now_instead_of_at_the_next_tick() -> None:
    ran = asyncio.Event()

    async def step() -> None:
        ran.set()

    background = Periodic()
    background.every("slow", 3600, step)
    await background.start()
    try:
        background.wake("slow")
        await asyncio.wait_for(ran.wait(), timeout=2)
    finally:
        await background.stop()
