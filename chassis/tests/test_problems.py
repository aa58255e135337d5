"""problem+json rendering of domain errors."""

import json

from portal_chassis.decider import Conflict
from portal_chassis.problems import EXCEPTION_HANDLERS


def test_extra_members_cannot_shadow_the_standard_ones():
    handler = EXCEPTION_HANDLERS[Conflict.__mro__[1]]
    response = handler(None, Conflict("invalid_transition", "nope", status="quoted", title="x"))
    body = response.content
    assert response.status_code == 409
    assert body["status"] == 409 and body["code"] == "invalid_transition"
    assert body["x_status"] == "quoted" and body["x_title"] == "x"
    assert json.dumps(body, default=str)


def test_a_405_says_which_methods_the_path_takes() -> None:
    from litestar import get
    from litestar.testing import TestClient

    from portal_chassis.web import create_app

    @get("/things")
    async def things() -> dict[str, str]:
        return {}

    with TestClient(create_app(title="t", route_handlers=[things])) as client:
        r = client.delete("/things")
        assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
        assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "OPTIONS"}
        assert r.json()["code"] == "method_not_allowed"
