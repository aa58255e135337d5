"""Idempotency-Key semantics of the gateway on the real wire server."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Response
from pymongo.errors import AutoReconnect

from portal_chassis.problems import PROBLEM_JSON, problem
from portal_gateway.idempotency import IdempotencyStore, fingerprint

pytestmark = pytest.mark.integration


async def test_same_key_same_body_replays_other_body_422_in_flight_409(mongo_db):
    store = IdempotencyStore(mongo_db, lease_seconds=60)
    calls = 0
    release = asyncio.Event()

    async def slow_create() -> Response[bytes]:
        nonlocal calls
        calls += 1
        await release.wait()
        return Response(b'{"id": "t1"}', status_code=201, media_type="application/json")

    request = ("POST", "/api/v1/wallet/top-ups", b'{"amount": 1}')
    first = asyncio.create_task(store.run("acc|topup", "k1", request, slow_create))
    for _ in range(500):  # until the first request holds the key (not a fixed sleep)
        if calls:
            break
        await asyncio.sleep(0.01)
    in_flight = await store.run("acc|topup", "k1", request, slow_create)
    assert in_flight.status_code == 409 and in_flight.content["code"] == (
        "idempotency_request_in_flight"
    )
    release.set()
    done = await first
    assert done.status_code == 201
    replay = await store.run("acc|topup", "k1", request, slow_create)
    assert replay.status_code == 201 and replay.content == b'{"id": "t1"}'
    assert replay.headers["Idempotent-Replayed"] == "true"
    other = await store.run("acc|topup", "k1", ("POST", request[1], b'{"amount": 2}'), slow_create)
    assert other.status_code == 422 and other.content["code"] == "idempotency_key_reused"
    assert calls == 1
    # Keys are scoped per account: another account's identical key is a new request.
    fresh = await store.run("other|topup", "k1", request, slow_create)
    assert fresh.status_code == 201 and calls == 2


def _problem(status: int, code: str, **headers: str) -> Response[bytes]:
    body = json.dumps({"status": status, "code": code}).encode()
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


@pytest.mark.parametrize(
    "passing",
    [
        _problem(503, "wallet_unavailable"),
        _problem(502, "upstream_error"),
        _problem(429, "too_many_requests"),
        _problem(408, "request_timeout"),
        _problem(425, "too_early"),
        _problem(401, "token_expired"),
        _problem(409, "idempotency_request_in_flight"),
        _problem(404, "wallet_not_found"),
        _problem(409, "busy", **{"Retry-After": "2"}),
        _problem(409, "payment_in_progress"),
        Response(b'{"id": "inv-1", "payments_in_progress": [{}]}', status_code=202),
        problem(503, "service_unavailable", "the wallet service did not answer"),
    ],
    ids=lambda r: f"{r.status_code}",
)
async def test_an_answer_caused_by_a_passing_condition_is_not_stored(mongo_db, passing):
    store = IdempotencyStore(mongo_db, lease_seconds=60)
    outcomes = iter([passing, Response(b'{"id": "t1"}', status_code=201)])
    calls = 0

    async def flaky() -> Response[Any]:
        nonlocal calls
        calls += 1
        return next(outcomes)

    request = ("POST", "/x", b"{}")
    assert (await store.run("a", "k", request, flaky)).status_code == passing.status_code
    real = await store.run("a", "k", request, flaky)
    assert real.status_code == 201 and real.content == b'{"id": "t1"}' and calls == 2
    replay = await store.run("a", "k", request, flaky)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert calls == 2


@pytest.mark.parametrize(
    "final",
    [_problem(404, "invoice_not_found"), _problem(400, "validation_error"), _problem(409, "paid")],
    ids=lambda r: f"{r.status_code}",
)
async def test_a_final_refusal_is_stored_and_replayed(mongo_db, final):
    store = IdempotencyStore(mongo_db, lease_seconds=60)
    calls = 0

    async def refuse() -> Response[Any]:
        nonlocal calls
        calls += 1
        return final

    request = ("POST", "/x", b"{}")
    assert (await store.run("a", "k", request, refuse)).status_code == final.status_code
    replay = await store.run("a", "k", request, refuse)
    assert replay.status_code == final.status_code and calls == 1


async def _until_not_in_flight(run: Callable[[], Awaitable[Response[Any]]]) -> Response[Any]:
    """Retry as a client would (it honours Retry-After); generous for a slow machine."""
    deadline = time.monotonic() + 20
    while True:
        response = await run()
        if response.status_code != 409 or time.monotonic() > deadline:
            return response
        assert response.headers["Retry-After"]
        await asyncio.sleep(0.2)


async def test_a_key_held_by_a_dead_request_is_usable_again_within_seconds(mongo_db):
    store = IdempotencyStore(mongo_db, lease_seconds=1)
    request = ("POST", "/api/v1/wallet/top-ups", b'{"amount": 1}')
    # A gateway took the key and died: nothing renews or releases it.
    assert await store.acquire("acc|k", fingerprint(request), holder="dead-gateway") is None
    calls = 0

    async def create() -> Response[bytes]:
        nonlocal calls
        calls += 1
        return Response(b'{"id": "t1"}', status_code=201, media_type="application/json")

    first = await store.run("acc", "k", request, create)
    assert first.status_code == 409 and calls == 0  # held: not run twice at once
    started = time.monotonic()
    retried = await _until_not_in_flight(lambda: store.run("acc", "k", request, create))
    assert retried.status_code == 201 and calls == 1
    assert time.monotonic() - started < 15  # seconds (the lease), not a minute


async def test_a_key_that_could_not_be_released_is_usable_again_within_seconds(
    mongo_db, monkeypatch
):
    store = IdempotencyStore(mongo_db, lease_seconds=1)
    request = ("POST", "/x", b"{}")

    async def database_down(*_: Any, **__: Any) -> None:
        raise AutoReconnect("connection refused")

    async def outage() -> Response[Any]:
        monkeypatch.setattr(store.collection, "delete_one", database_down)
        return _problem(503, "service_unavailable")

    assert (await store.run("a", "k", request, outage)).status_code == 503
    monkeypatch.undo()  # the database is back

    async def create() -> Response[bytes]:
        return Response(b'{"id": "t1"}', status_code=201, media_type="application/json")

    retried = await _until_not_in_flight(lambda: store.run("a", "k", request, create))
    assert retried.status_code == 201


async def test_a_running_request_keeps_its_key_beyond_the_lease(mongo_db):
    store = IdempotencyStore(mongo_db, lease_seconds=1.5)
    release = asyncio.Event()
    calls = 0

    async def slow() -> Response[bytes]:
        nonlocal calls
        calls += 1
        await release.wait()
        return Response(b'{"id": "t1"}', status_code=201, media_type="application/json")

    request = ("POST", "/x", b"{}")
    first = asyncio.create_task(store.run("a", "k", request, slow))
    for _ in range(50):  # four leases pass while it runs: it renews, nobody takes over
        await asyncio.sleep(0.12)
        assert (await store.run("a", "k", request, slow)).status_code == 409
    release.set()
    assert (await first).status_code == 201 and calls == 1


async def test_an_abandoned_in_flight_key_is_taken_over(mongo_db):
    store = IdempotencyStore(mongo_db, lease_seconds=0.1)
    request = ("POST", "/x", b"{}")
    await mongo_db["idempotency_keys"].insert_one(
        {"_id": "a|k", "fp": None, "state": "in_flight"}
    )  # crashed gateway, other shape

    async def ok() -> Response[bytes]:
        return Response(b"{}", status_code=201, media_type="application/json")

    # Different fingerprint (None) -> treated as another request: refused, not run.
    assert (await store.run("a", "k", request, ok)).status_code == 422


async def test_keys_are_purged_after_the_retention_and_recent_ones_kept(mongo_db):
    from datetime import UTC, datetime, timedelta

    store = IdempotencyStore(mongo_db, lease_seconds=60, retention=timedelta(hours=24))
    await store.setup()
    calls = 0

    async def create() -> Response[bytes]:
        nonlocal calls
        calls += 1
        return Response(b'{"id": "t"}', status_code=201, media_type="application/json")

    request = ("POST", "/api/v1/tickets", b"{}")
    await store.run("acc", "old", request, create)
    await store.run("acc", "new", request, create)
    await store.collection.update_one(
        {"_id": "acc|old"}, {"$set": {"started_at": datetime.now(UTC) - timedelta(hours=25)}}
    )
    assert await store.purge() == 1
    assert await store.collection.find_one({"_id": "acc|new"}) is not None
    await store.run("acc", "new", request, create)  # still remembered: a replay
    assert calls == 2
    await store.run("acc", "old", request, create)  # forgotten: a new request
    assert calls == 3
