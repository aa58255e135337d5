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
