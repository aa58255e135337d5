"""No input yields a 5xx: every public write and read route, called by a platform admin
(who passes every role check, so the deepest code runs) and by a customer, with bodies
and ids that are wrong in many ways, answers 2xx/4xx, never 5xx."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from portal_gateway.docs import PUBLIC_OPENAPI
from portal_tests.e2e import Customer, admin_client
from portal_tests.openapi import http_methods

pytestmark = pytest.mark.e2e
PARAM = re.compile(r"\{(\w+)\}")
SKIP = {
    "/api/v1/auth/keys/rotate",  # rotating keys mid-suite is tested on its own
    "/api/v1/dashboard/stream",  # a live stream: tested in test_wallet_top_up.py
}
BODIES: list[object] = [
    {},
    [],
    "text",
    None,
    {"amount": -1, "months": 0, "plan_id": "", "ids": [], "name": "x" * 10_000},
    {"amount": 10**30, "months": 10**9, "value": 1e308, "due_at": "yesterday"},
    {"email": "a@b.c", "labels": ["$where"], "attributes": {"$x": "1"}, "method": "wire"},
    {
        "reference": "\x00",
        "content_base64": "!!!",
        "proof": {"filename": "../x", "content_base64": "x"},
    },
]


def ids_for(path: str) -> list[str]:
    values = ["x", "..%2F..", "0" * 200, "00000000000000000000000000000000"]
    return [PARAM.sub(v, path) for v in values]


def test_no_route_answers_a_server_error(platform):
    url = platform["url"]
    schema = httpx.get(f"{url}/schema/openapi.json").json()
    callers = {"admin": admin_client(url), "customer": Customer(url).http}
    checked = 0
    for path, operations in sorted(schema["paths"].items()):
        if path in SKIP or "webhooks" in path:
            continue
        for method in http_methods(operations):
            for who, client in callers.items():
                for concrete in ids_for(path)[:2] if PARAM.search(path) else [path]:
                    bodies = BODIES if method in ("post", "put", "patch") else [None, None]
                    for n, body in enumerate(bodies):
                        weird = {"limit": "-1", "offset": "x", "status": "weird", "at": "no"}
                        r = client.request(
                            method.upper(),
                            concrete,
                            json=body,
                            params=weird if method == "get" and n else None,
                        )
                        assert r.status_code < 500, (who, method, concrete, body, r.text[:300])
                        checked += 1
    assert checked > 500


# Ids that broke paths: control characters (a bare 500 before), and characters that
# would change the upstream path or query if put into it unescaped. As sent on the wire:
# `%2E%2E` arrives as the id `..` (an HTTP client collapses a literal one).
ODD_IDS = ["%00", "a%0Ab", "%2E%2E", "a%3Fb", "a%23b"]
ROUTE_PARAM = re.compile(r"\{\w+(?::\w+)?\}")


def _operations_with_ids() -> list[tuple[str, str]]:
    """Every public operation with a path parameter, from the public OpenAPI the gateway
    serves (its forwarding routes are one catch-all per prefix)."""
    document = json.loads(PUBLIC_OPENAPI.read_text())
    return sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        if ROUTE_PARAM.search(path)
        for method in item
    )


OPERATIONS_WITH_IDS = _operations_with_ids()


@pytest.fixture(scope="module")
def callers(platform) -> Iterator[dict[str, httpx.Client]]:
    url = platform["url"]
    clients = {
        "anonymous": httpx.Client(base_url=url, timeout=20),
        "customer": Customer(url, wait_for_wallet=False).http,
        "admin": admin_client(url),
    }
    yield clients
    for client in clients.values():
        client.close()


def test_the_route_table_has_the_operations_with_ids():
    assert len(OPERATIONS_WITH_IDS) > 60
    assert ("GET", "/api/v1/tickets/{ticket_id}") in OPERATIONS_WITH_IDS


@pytest.mark.parametrize(("method", "template"), OPERATIONS_WITH_IDS)
def test_an_odd_id_is_a_4xx_problem_anonymously_and_signed_in(callers, method, template):
    for odd_id in ODD_IDS:
        path = ROUTE_PARAM.sub(odd_id, template)
        for who, client in callers.items():
            body = {} if method in ("POST", "PUT", "PATCH") else None
            r = client.request(method, path, json=body)
            what = (who, method, path, r.status_code, r.text[:300])
            assert 400 <= r.status_code < 500, what
            assert r.headers["content-type"].startswith("application/problem+json"), what
            if odd_id in ("%00", "a%0Ab"):
                assert r.status_code == 400 and r.json()["code"] == "invalid_path", what


# Services listen beside the gateway (portal_tests.platform.specs).
SERVICE_PORTS = {"wallet": 101, "identity": 102, "tickets": 103, "repairs": 104, "crm": 105}
SERVICE_PORTS["billing"] = 106
SERVICE_PORTS["notifications"] = 107


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_each_service_answers_a_control_character_in_an_id_with_a_400_problem(platform, service):
    gateway = httpx.URL(platform["url"])
    base = f"http://{gateway.host}:{(gateway.port or 80) + SERVICE_PORTS[service]}"
    schema = httpx.get(f"{base}/schema/openapi.json", timeout=20).json()
    checked = 0
    for path, operations in sorted(schema["paths"].items()):
        if not PARAM.search(path):
            continue
        for method in http_methods(operations):
            for bad_id in ("%00", "a%0Ab"):
                r = httpx.request(method.upper(), base + PARAM.sub(bad_id, path), timeout=20)
                what = (service, method, path, r.status_code, r.text[:300])
                assert r.status_code == 400, what
                assert r.headers["content-type"] == "application/problem+json", what
                assert r.json()["code"] == "invalid_path", what
                checked += 1
    assert checked
