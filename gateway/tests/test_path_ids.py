"""Odd ids in public paths: every route with a path parameter (taken from the app's own
route table) answers a 4xx problem+json, and an id forwarded upstream stays one escaped
path segment: it can never change the upstream path or query."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from litestar.testing import TestClient

from portal_chassis.auth import Principal
from portal_gateway.docs import PUBLIC_OPENAPI
from portal_gateway.main import create
from portal_gateway.settings import GatewaySettings

pytestmark = pytest.mark.integration

PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
# As sent on the wire: `%2E%2E` arrives as the id `..` (clients collapse a literal one).
CONTROL_IDS = ["%00", "a%0Ab"]
ODD_IDS = ["%2E%2E", "a%3Fb", "a%23b", "%25", "a%2Fb"]
HTML_TWICE = "text/html; charset=utf-8; charset=utf-8"


def public_operations() -> list[tuple[str, str]]:
    """Every public operation with an id in its path, from the public OpenAPI the gateway
    serves (its forwarding routes are one catch-all per prefix)."""
    document = json.loads(PUBLIC_OPENAPI.read_text())
    return sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        if PARAM.search(path)
        for method in item
    )


OPERATIONS = public_operations()


class EveryRole:
    async def verify(self, token: str) -> Principal:
        roles = frozenset({"owner", "platform_admin", "billing_admin", "support_agent"})
        return Principal("user-1", "acc-1", roles, "sid", token)


@pytest.fixture(scope="module")
def gateway(infra_env: Any) -> Iterator[tuple[TestClient[Any], list[httpx.Request]]]:
    app = create(GatewaySettings(mongodb_database="test_gateway_path_ids"))
    forwarded: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        forwarded.append(request)
        if request.url.path.endswith("/terms.html"):  # as billing sent its contract pages
            return httpx.Response(
                200, content=b"<p>terms</p>", headers={"content-type": HTML_TWICE}
            )
        return httpx.Response(
            404,
            json={"status": 404, "code": "not_found", "detail": "no such thing"},
            headers={"content-type": "application/problem+json"},
        )

    for upstream in app.state.upstreams.values():
        upstream.client = httpx.AsyncClient(
            base_url="http://upstream", transport=httpx.MockTransport(service)
        )
    app.state.token_verifier = EveryRole()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, forwarded


def test_the_route_table_has_the_public_operations_with_ids():
    assert len(OPERATIONS) > 60
    assert ("GET", "/api/v1/tickets/{ticket_id}") in OPERATIONS
    assert ("POST", "/api/v1/payments/webhooks/{provider}") in OPERATIONS


def _call(client: TestClient[Any], method: str, path: str, signed_in: bool) -> httpx.Response:
    headers = {"Authorization": "Bearer t"} if signed_in else {}
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, path, content=body, headers=headers)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize("bad_id", CONTROL_IDS)
@pytest.mark.parametrize(("method", "template"), OPERATIONS)
def test_a_control_character_in_an_id_is_a_400_problem_and_never_forwarded(
    gateway, method, template, bad_id, signed_in
):
    client, forwarded = gateway
    forwarded.clear()
    r = _call(client, method, PARAM.sub(bad_id, template), signed_in)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_path"
    assert not forwarded


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize("odd_id", ODD_IDS)
@pytest.mark.parametrize(("method", "template"), OPERATIONS)
def test_an_odd_id_is_a_4xx_problem_and_stays_one_upstream_segment(
    gateway, method, template, odd_id, signed_in
):
    client, forwarded = gateway
    forwarded.clear()
    r = _call(client, method, PARAM.sub(odd_id, template), signed_in)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    for request in forwarded:
        assert request.url.query == b"" and request.url.fragment == ""
        segments = request.url.raw_path.decode().split("/")
        assert "." not in segments and ".." not in segments
        assert unquote(odd_id) in [unquote(s) for s in segments], request.url.raw_path


def test_an_odd_id_is_forwarded_escaped(gateway):
    client, forwarded = gateway
    forwarded.clear()
    _call(client, "GET", "/api/v1/tickets/a%3Fb%23c%2E", signed_in=True)
    _call(client, "GET", "/api/v1/tickets/%2E%2E/replies", signed_in=True)
    assert [r.url.raw_path for r in forwarded] == [
        b"/v1/tickets/a%3Fb%23c.",
        b"/v1/tickets/%2E%2E/replies",
    ]


def test_a_forwarded_content_type_keeps_one_charset(gateway):
    client, _ = gateway
    r = _call(client, "GET", "/api/v1/contracts/s1/documents/terms.html", signed_in=True)
    assert r.status_code == 200 and r.text == "<p>terms</p>"
    assert r.headers["content-type"] == "text/html; charset=utf-8"
