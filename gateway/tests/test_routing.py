"""The prefix table: who may call a prefix, how big a body may be, what reaches the service
(path, query, headers), and service-to-service routes that never do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from portal_chassis.auth import Principal
from portal_chassis.problems import ProblemError
from portal_gateway.main import create
from portal_gateway.routing import PREFIXES, SMALL, WITH_FILES, Access
from portal_gateway.settings import GatewaySettings

pytestmark = pytest.mark.integration


class Tokens:
    """`customer` and `staff` are valid tokens; anything else is refused."""

    async def verify(self, token: str) -> Principal:
        if token == "customer":
            return Principal("u-1", "acc-1", frozenset({"owner"}), "sid-1", token)
        if token == "staff":
            return Principal("u-2", "platform", frozenset({"support_agent"}), "sid-2", token)
        raise ProblemError(401, "unauthenticated", "bad token")


@pytest.fixture(scope="module")
def gateway(infra_env: Any) -> Iterator[tuple[TestClient[Any], list[httpx.Request]]]:
    app = create(GatewaySettings(mongodb_database="test_gateway_routing"))
    forwarded: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        forwarded.append(request)
        if request.method == "OPTIONS":
            return httpx.Response(204, headers={"allow": "GET, OPTIONS, POST"})
        if request.method == "DELETE":
            return httpx.Response(
                405,
                json={"status": 405, "code": "method_not_allowed", "detail": "no"},
                headers={"content-type": "application/problem+json", "allow": "GET, POST"},
            )
        return httpx.Response(200, json={"ok": True})

    for upstream in app.state.upstreams.values():
        upstream.client = httpx.AsyncClient(
            base_url="http://upstream", transport=httpx.MockTransport(service)
        )
    app.state.token_verifier = Tokens()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, forwarded


def _as(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.mark.parametrize("prefix", PREFIXES, ids=lambda p: p.public)
def test_each_prefix_lets_in_exactly_whom_it_should(gateway, prefix):
    client, forwarded = gateway
    answers = {}
    for who in (None, "customer", "staff"):
        forwarded.clear()
        r = client.post(prefix.public, content=b"{}", headers=_as(who))
        answers[who] = (r.status_code, len(forwarded))
    allowed = {
        Access.ANONYMOUS: {None, "customer", "staff"},
        Access.PUBLIC_READ: {"customer", "staff"},  # writes need a token
        Access.SIGNED_IN: {"customer", "staff"},
        Access.STAFF: {"staff"},
    }[prefix.access]
    for who, (status, calls) in answers.items():
        if who in allowed:
            assert (status, calls) == (200, 1), (who, status)
        else:
            assert status == (401 if who is None else 403) and calls == 0, (who, status)


def test_public_reads_are_anonymous_but_a_bad_token_is_refused(gateway):
    client, forwarded = gateway
    forwarded.clear()
    assert client.get("/api/v1/plans").status_code == 200
    assert client.get("/api/v1/plans", headers=_as("forged")).status_code == 401
    assert len(forwarded) == 1


def test_the_path_the_query_and_the_headers_reach_the_service(gateway):
    client, forwarded = gateway
    forwarded.clear()
    r = client.get(
        "/api/v1/tickets/t%2F1/replies?status=open&status=pending&q=%C3%A1+b",
        headers={**_as("customer"), "Idempotency-Key": "k", "X-Other": "dropped"},
    )
    assert r.status_code == 200
    (sent,) = forwarded
    assert sent.url.raw_path == b"/v1/tickets/t%2F1/replies?status=open&status=pending&q=%C3%A1+b"
    assert sent.headers["authorization"] == "Bearer customer"
    assert "x-other" not in sent.headers and sent.headers["x-client-address"]
    forwarded.clear()
    client.get("/api/v1/staff/wallet/holds/", headers=_as("staff"))
    client.get("/.well-known/jwks.json")
    assert [f.url.path for f in forwarded] == ["/v1/wallet-holds", "/v1/auth/jwks"]


def test_service_to_service_routes_are_not_public(gateway):
    client, forwarded = gateway
    forwarded.clear()
    for path in ("/api/v1/auth/service-token", "/api/v1/auth/service-token/"):
        r = client.post(path, content=b"{}")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    for path in ("/api/v1/billing/expiry-check", "/api/v1/wallets/acc-1/debits"):
        assert client.post(path, content=b"{}", headers=_as("staff")).status_code == 404
    assert forwarded == []


def test_a_body_is_bounded_by_its_route_not_by_its_prefix(gateway):
    client, forwarded = gateway
    forwarded.clear()
    big = b"x" * (SMALL + 1)
    r = client.post("/api/v1/tickets/t1/assignment", content=big, headers=_as("customer"))
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    ok = client.post("/api/v1/tickets/t1/replies", content=big, headers=_as("customer"))
    assert ok.status_code == 200
    assert client.post("/api/v1/tickets", content=big, headers=_as("customer")).status_code == 200
    assert len(forwarded) == 2
    assert len(big) < WITH_FILES


def test_options_and_405_carry_the_services_allow_header(gateway):
    client, _ = gateway
    r = client.options("/api/v1/tickets/t1", headers=_as("customer"))
    assert r.status_code == 204 and r.headers["allow"] == "GET, OPTIONS, POST"
    r = client.delete("/api/v1/tickets/t1", headers=_as("customer"))
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert r.headers["content-type"].startswith("application/problem+json")
