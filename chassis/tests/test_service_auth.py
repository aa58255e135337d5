"""Calls between services (`portal_chassis.service_auth`): a service's token from identity,
sent on every call, renewed once when the called service answers 401."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from portal_chassis.problems import ProblemError
from portal_chassis.service_auth import SERVICE_TOKEN_PATH, ServiceClient, ServiceTokenSource


@dataclass
class Settings:
    service_client_id: str = "billing"
    service_client_secret: str = "s3cret"


class Identity:
    """Issues numbered tokens to the right credentials; counts what it was asked."""

    def __init__(self) -> None:
        self.issued = 0
        self.asked: list[dict[str, str]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == SERVICE_TOKEN_PATH
        body = httpx.Response(200, content=request.content).json()
        self.asked.append(body)
        if body != {"client_id": "billing", "client_secret": "s3cret"}:
            return httpx.Response(401, json={"code": "invalid_client"})
        self.issued += 1
        return httpx.Response(200, json={"access_token": f"t{self.issued}", "expires_in": 900})


class Callee:
    """Accepts only the tokens in `valid`; records the headers it saw."""

    def __init__(self, *valid: str) -> None:
        self.valid = set(valid)
        self.seen: list[httpx.Headers] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.headers)
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"code": "invalid_token"})
        return httpx.Response(200, json={"path": request.url.path})


def client_of(handler: object, base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=base)  # type: ignore[arg-type]


def wiring(identity: Identity, callee: Callee, settings: Settings | None = None) -> ServiceClient:
    tokens = ServiceTokenSource.of(settings or Settings(), client_of(identity.handle, "http://id"))
    return ServiceClient(client_of(callee.handle, "http://wallet"), tokens)


async def test_every_call_carries_the_cached_token_and_its_own_headers() -> None:
    identity, callee = Identity(), Callee("t1")
    service = wiring(identity, callee)
    first = await service.request("POST", "/v1/x", json={"a": 1}, headers={"idempotency-key": "k"})
    second = await service.request("GET", "/v1/y")
    assert (first.status_code, second.json()) == (200, {"path": "/v1/y"})
    assert identity.issued == 1  # cached between calls
    assert callee.seen[0]["authorization"] == "Bearer t1"
    assert callee.seen[0]["idempotency-key"] == "k"
    assert "idempotency-key" not in callee.seen[1]


async def test_a_401_renews_the_token_and_sends_the_call_once_more() -> None:
    identity, callee = Identity(), Callee("t2")  # t1 predates a key rotation
    answer = await wiring(identity, callee).request("GET", "/v1/y")
    assert answer.status_code == 200
    assert identity.issued == 2
    assert [h["authorization"] for h in callee.seen] == ["Bearer t1", "Bearer t2"]


async def test_a_second_401_is_the_answer() -> None:
    identity, callee = Identity(), Callee()
    answer = await wiring(identity, callee).request("GET", "/v1/y")
    assert answer.status_code == 401
    assert len(callee.seen) == 2 and identity.issued == 2


async def test_wrong_credentials_are_a_503_problem() -> None:
    identity, callee = Identity(), Callee("t1")
    service = wiring(identity, callee, Settings(service_client_secret="wrong"))
    with pytest.raises(ProblemError) as refused:
        await service.request("GET", "/v1/y")
    assert (refused.value.status_code, refused.value.code) == (503, "service_auth_failed")
    assert callee.seen == []
