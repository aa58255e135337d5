"""What every service's HTTP app answers to odd paths and to its own failures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pytest
import structlog
from litestar import get
from litestar.params import FromPath, QueryParameter
from litestar.testing import TestClient

from portal_chassis import problems
from portal_chassis.logging import configure_logging
from portal_chassis.web import create_app


@get("/v1/things/{thing_id:str}")
async def thing(thing_id: FromPath[str]) -> dict[str, str]:
    return {"id": thing_id}


@get("/v1/things")
async def things(limit: Annotated[int, QueryParameter(ge=1, le=10)] = 5) -> dict[str, int]:
    return {"limit": limit}


@get("/v1/broken")
async def broken() -> None:
    raise RuntimeError("a bug")


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    app = create_app(title="Test service", route_handlers=[thing, things, broken])
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("bad_id", ["%00", "a%0Ab", "%1B", "%7F", "x%C2%85"])
def test_a_control_character_in_a_path_is_a_400_problem(client, bad_id):
    r = client.get(f"/v1/things/{bad_id}")
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_path"
    assert r.headers["x-correlation-id"]


@pytest.mark.parametrize("odd_id", ["a%3Fb", "a%23b", "%2E%2E", "%25", "%C3%A9"])
def test_other_odd_ids_reach_the_handler_as_they_are(client, odd_id):
    from urllib.parse import unquote

    r = client.get(f"/v1/things/{odd_id}")
    assert r.status_code == 200 and r.json() == {"id": unquote(odd_id)}


def test_validation_details_do_not_name_the_route(client):
    r = client.get("/v1/things", params={"limit": "-1"})
    assert r.status_code == 400
    assert "/v1/things" not in r.text and "GET" not in r.json()["detail"]


@pytest.mark.parametrize("json_logs", [True, False])
def test_the_last_resort_answer_cannot_fail_under_any_log_set_up(client, json_logs, monkeypatch):
    configure_logging("test", json=json_logs)
    # A logger first used after this set-up (the module's one may be cached from another).
    monkeypatch.setattr(problems, "log", structlog.get_logger("test"))
    try:
        r = client.get("/v1/broken", headers={"X-Correlation-ID": "corr-1"})
    finally:
        configure_logging("test", json=True)
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "internal_error" and body["correlation_id"] == "corr-1"
    assert "a bug" not in r.text


def test_the_last_resort_answer_survives_a_logger_that_raises(client, monkeypatch):
    class Exploding:
        def error(self, *_: Any, **__: Any) -> None:
            raise OSError("stderr is closed")

    monkeypatch.setattr(problems, "log", Exploding())
    r = client.get("/v1/broken")
    assert r.status_code == 500 and r.json()["code"] == "internal_error"
    assert r.json()["correlation_id"] == r.headers["x-correlation-id"]
