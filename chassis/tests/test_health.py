"""Liveness tells a wedged database client from a database that is merely down;
readiness is about the service's own database, dependencies are only reported."""

import asyncio
import functools
import time
from typing import Any

import pytest
from litestar import Request, get
from litestar.testing import AsyncTestClient
from pymongo.errors import ServerSelectionTimeoutError

from portal_chassis.health import DatabaseHealth, LoopWatchdog
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.settings import InfraSettings, ServiceSettings
from portal_chassis.web import create_app
from portal_tests.helpers import eventually

UNREACHABLE_MONGODB = "mongodb://127.0.0.1:9/"
UNREACHABLE_KAFKA = "127.0.0.1:9"


async def test_a_database_that_answers_is_ready_and_live():
    async def ping() -> dict[str, Any]:
        return {"ok": 1}

    health = DatabaseHealth(ping, deadline=1, wedged_after=2)
    await health.check()
    assert health.ready() and not health.wedged()
    assert health.report() == {"mongodb": "ok"}


async def test_a_database_that_is_down_is_not_ready_but_still_live():
    async def ping() -> None:
        raise ServerSelectionTimeoutError("no servers")

    health = DatabaseHealth(ping, deadline=1, wedged_after=2)
    await health.check()
    assert not health.ready()
    assert not health.wedged()
    assert health.report() == {"mongodb": "down: ServerSelectionTimeoutError"}


async def test_a_call_that_never_returns_is_a_wedged_client():
    started = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def ping() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()  # like a call stuck behind the driver's topology lock
        return {"ok": 1}

    health = DatabaseHealth(ping, deadline=0.05, wedged_after=0.3)
    await health.check()
    assert health.report() == {"mongodb": "not answering"}
    assert not health.wedged()  # not yet: maybe only slow
    await asyncio.sleep(0.5)
    await health.check()
    assert health.wedged()
    assert health.report() == {"mongodb": "wedged"}
    assert calls == 1  # no pile of pings behind the stuck one, and it was never cancelled
    release.set()
    await asyncio.sleep(0.05)
    await health.check()
    assert health.ready() and not health.wedged()


async def test_a_blocked_event_loop_is_not_live():
    watchdog = LoopWatchdog(tick=0.01, max_lag=0.2, window=0.5)
    watchdog.start()
    try:
        await asyncio.sleep(0.05)
        assert watchdog.live()
        time.sleep(0.5)  # noqa: ASYNC251 - synchronous work that holds the loop, on purpose
        await asyncio.sleep(0.05)
        assert not watchdog.live()
        await asyncio.sleep(0.6)
        assert watchdog.live()  # it caught up, and the stall is old news
    finally:
        await watchdog.stop()


@get("/things")
async def things(request: Request[Any, Any, Any]) -> list[str]:
    runtime: ServiceRuntime = request.app.state.runtime
    return [doc["_id"] async for doc in runtime.db["things"].find()]


def _app(mongodb_uri: str, kafka: str) -> tuple[Any, ServiceRuntime]:
    infra = InfraSettings(KAFKA_BOOTSTRAP_SERVERS=kafka, MONGODB_URI=mongodb_uri)
    runtime = ServiceRuntime(
        ServiceSettings(service_name="healthtest"), infra, with_event_store=False
    )
    # Kafka may never come: do not wait the usual 15 s for it at start.
    runtime.start = functools.partial(runtime.start, wait_for_kafka=0.5)  # type: ignore[method-assign]
    return create_app(title="t", route_handlers=[things], runtime=runtime), runtime


async def test_kafka_away_is_reported_but_the_service_stays_ready(infra):
    app, _ = _app(infra.mongodb_uri, UNREACHABLE_KAFKA)
    async with AsyncTestClient(app=app) as client:
        r = await client.get("/health/ready")
        assert r.status_code == 200, r.text
        assert r.json()["checks"]["mongodb"] == "ok"
        assert r.json()["checks"]["kafka"].startswith("down")
        assert (await client.get("/things")).status_code == 200


async def test_own_database_away_is_unready_still_live_and_requests_get_a_quick_503(infra):
    app, _ = _app(UNREACHABLE_MONGODB, infra.kafka_bootstrap_servers)
    async with AsyncTestClient(app=app, timeout=30) as client:

        async def seen_down() -> Any:
            r = await client.get("/health/ready")
            assert r.status_code == 503, r.text  # "unknown" until the first ping fails
            assert r.json()["code"] == "not_ready"
            return r if r.json()["checks"]["mongodb"].startswith("down") else None

        r = await eventually(seen_down, timeout=30)
        assert r.json()["checks"]["kafka"] == "ok"
        live = await client.get("/health/live")
        assert live.status_code == 200, live.text
        loop = asyncio.get_running_loop()
        started = loop.time()
        r = await client.get("/things")
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "database_unavailable"
        assert r.headers["retry-after"] == "5"
        # Bounded by the driver's server-selection deadline, not a hang (room for slow CI).
        assert loop.time() - started < 15


@pytest.mark.parametrize("wedged", [True, False])
async def test_liveness_fails_only_for_a_wedged_client(infra, wedged):
    app, runtime = _app(infra.mongodb_uri, infra.kafka_bootstrap_servers)
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/health/live")).status_code == 200
        if wedged:
            runtime.database_health.wedged = lambda: True  # type: ignore[method-assign]
        r = await client.get("/health/live")
        assert r.status_code == (503 if wedged else 200), r.text
        assert r.json()["checks"]["mongodb_client"] == ("wedged" if wedged else "ok")
