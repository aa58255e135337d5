"""The edge of the real gateway app (wired as in production) and its stores, on the real
MongoDB wire server: docs page, metrics port, revoked sessions, upload quota."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, post
from litestar.datastructures import State
from litestar.testing import AsyncTestClient
from pymongo import AsyncMongoClient

from portal_chassis.auth import Principal
from portal_chassis.problems import EXCEPTION_HANDLERS, ProblemError
from portal_contracts.events.identity import SessionRevoked
from portal_gateway.edge import UploadQuota, request_limits
from portal_gateway.main import create
from portal_gateway.sessions import RevokedSessions, RevokedSessionsProjection
from portal_gateway.settings import GatewaySettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(infra_env: Any, unique: str) -> Any:
    settings = GatewaySettings(mongodb_database=f"test_{unique}", metrics_port=0)
    app = create(settings)
    async with AsyncTestClient(app) as client:
        yield app, client


async def test_the_docs_page_loads_nothing_from_elsewhere_and_its_assets_answer(
    gateway: Any,
) -> None:
    _, client = gateway
    page = await client.get("/schema/swagger")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "an external asset"
    assert "cdn" not in html.lower()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert len(assets) >= 4  # bundle, preset, css, icon
    for asset in assets:
        r = await client.get(asset)
        assert r.status_code == 200, asset
        assert len(r.content) > 100
        assert r.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/schema/assets/../../settings.py")).status_code == 404
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'sha256-" in csp
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_metrics_are_on_their_own_port_not_on_the_public_one(gateway: Any) -> None:
    app, client = gateway
    # A request the metrics count (health is not counted): the test must not depend on
    # an earlier test of this module having made one.
    assert (await client.get("/schema/openapi.json")).status_code == 200
    public = await client.get("/metrics")
    assert public.status_code == 404
    assert "portal_http" not in public.text
    port = app.state.metrics.port
    async with httpx.AsyncClient() as http:
        private = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert private.status_code == 200
    assert "portal_http_requests_total" in private.text


async def test_login_profile_and_signed_in_answers_are_no_store_and_json_is_nosniff(
    gateway: Any,
) -> None:
    _, client = gateway
    for method, path in (
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("GET", "/api/v1/me"),
    ):
        # The upstreams are not running here: whatever the answer, it is never stored.
        r = await client.request(method, path, json={})
        assert r.headers["cache-control"] == "no-store", path
        assert r.headers["x-content-type-options"] == "nosniff", path
    r = await client.get("/api/v1/wallet", headers={"Authorization": "Bearer a.b.c"})
    assert r.status_code == 401 and r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


def _revoked(session_id: str, at: datetime) -> SessionRevoked:
    return SessionRevoked(
        user_id="u1", account_id="a1", session_id=session_id, reason="logout", occurred_at=at
    )


async def test_revoked_sessions_are_recorded_once_cached_and_purged(mongo_db: Any) -> None:
    projection = RevokedSessionsProjection(mongo_db, keep_seconds=1800)
    revoked = RevokedSessions(mongo_db, keep_seconds=1800)
    await revoked.setup()
    await revoked.refresh()
    assert not revoked.contains("s1")
    now = datetime.now(UTC)
    envelope: Any = None  # only the event matters
    await projection.handle(envelope, _revoked("s1", now))
    await projection.handle(envelope, _revoked("s1", now))  # redelivered
    await projection.handle(envelope, _revoked("s-old", now - timedelta(hours=2)))  # replayed
    await revoked.refresh()
    assert revoked.contains("s1") and not revoked.contains("s-old")
    assert not revoked.contains(None) and not revoked.contains("s2")
    assert await mongo_db["revoked_sessions"].count_documents({}) == 1
    await projection.handle(envelope, _revoked("s2", now))
    await revoked.refresh()  # only what is new since the last look
    assert revoked.contains("s2")
    await mongo_db["revoked_sessions"].update_one(
        {"_id": "s1"}, {"$set": {"recorded_at": now - timedelta(hours=1)}}
    )
    await revoked.purge()
    assert not revoked.contains("s1") and revoked.contains("s2")


class FakeVerifier:
    async def verify(self, token: str) -> Principal:
        if not token.startswith("acc-"):
            raise ProblemError(401, "invalid_token", "no")
        return Principal("u", token, frozenset({"owner"}), "s", token)


@post("/upload", request_max_body_size=10_000, status_code=201)
async def upload(request: Request[Any, Any, Any]) -> dict[str, int]:
    return {"size": len(await request.body())}


async def test_large_uploads_count_against_the_account_quota(infra: Any, mongo_db: Any) -> None:
    settings = GatewaySettings(upload_min_bytes=100)
    quota = UploadQuota(mongo_db, limit=1_000, window_seconds=3600)
    clients: list[AsyncMongoClient[dict[str, Any]]] = []

    async def connect() -> None:  # the test client serves the app on a loop of its own
        clients.append(AsyncMongoClient(infra.mongodb_uri, tz_aware=True))
        quota.usage = clients[0][mongo_db.name]["upload_quota"]

    async def disconnect() -> None:
        await clients[0].close()

    app = Litestar(
        route_handlers=[upload],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_limits(settings, quota)],
        state=State({"token_verifier": FakeVerifier()}),
        on_startup=[connect],
        on_shutdown=[disconnect],
    )
    body = b"x" * 600
    async with AsyncTestClient(app) as client:
        first = await client.post(
            "/upload", content=body, headers={"Authorization": "Bearer acc-1"}
        )
        assert first.status_code == 201
        second = await client.post(
            "/upload", content=body, headers={"Authorization": "Bearer acc-1"}
        )
        assert second.status_code == 429
        assert second.json()["code"] == "upload_quota_exceeded"
        assert 0 < int(second.headers["retry-after"]) <= 3600
        small = await client.post(
            "/upload", content=b"x" * 50, headers={"Authorization": "Bearer acc-1"}
        )
        assert small.status_code == 201  # small bodies are not uploads
        other = await client.post(
            "/upload", content=body, headers={"Authorization": "Bearer acc-2"}
        )
        assert other.status_code == 201  # per account
        anonymous = await client.post("/upload", content=body)
        assert anonymous.status_code == 201  # counted nowhere; the route's own guard decides
    # The refused upload was not counted: what is left is still usable.
    quota = UploadQuota(mongo_db, limit=1_000, window_seconds=3600)
    assert await quota.charge("acc-1", 400, time.time()) is None
    assert await quota.charge("acc-1", 1, time.time()) is not None
