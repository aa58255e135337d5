"""Idempotency-Key semantics of the gateway on the real wire server."""

import asyncio

import pytest
from litestar import Response

from portal_gateway.idempotency import IdempotencyStore

pytestmark = pytest.mark.integration


async def test_same_key_same_body_replays_other_body_422_in_flight_409(mongo_db):
    store = IdempotencyStore(mongo_db, in_flight_seconds=60)
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


async def test_a_failed_request_releases_its_key(mongo_db):
    store = IdempotencyStore(mongo_db, in_flight_seconds=60)
    outcomes = iter([503, 201])

    async def flaky() -> Response[bytes]:
        return Response(b"{}", status_code=next(outcomes), media_type="application/json")

    request = ("POST", "/x", b"{}")
    assert (await store.run("a", "k", request, flaky)).status_code == 503
    assert (await store.run("a", "k", request, flaky)).status_code == 201


async def test_an_abandoned_in_flight_key_is_taken_over(mongo_db):
    store = IdempotencyStore(mongo_db, in_flight_seconds=0.1)
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

    store = IdempotencyStore(mongo_db, in_flight_seconds=60, retention=timedelta(hours=24))
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
