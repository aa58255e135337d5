"""Every app wires up (routes, OpenAPI) without any connection being made."""

import pytest

from portal_billing import main as billing_main
from portal_crm import main as crm_main
from portal_gateway import main as gateway_main
from portal_gateway import projector
from portal_identity import main as identity_main
from portal_notifications import main as notifications_main
from portal_repairs import main as repairs_main
from portal_tickets import main as tickets_main
from portal_wallet import main as wallet_main


@pytest.mark.parametrize(
    "factory",
    [
        gateway_main.create,
        projector.create,
        wallet_main.create,
        identity_main.create,
        repairs_main.create,
        tickets_main.create,
        billing_main.create,
        crm_main.create,
        notifications_main.create,
    ],
    ids=[
        "gateway",
        "projector",
        "wallet",
        "identity",
        "repairs",
        "tickets",
        "billing",
        "crm",
        "notifications",
    ],
)
def test_app_builds_and_has_an_openapi_schema(factory):
    app = factory()
    schema = app.openapi_schema.to_schema()
    assert schema["openapi"].startswith("3.")
    paths = {route.path for route in app.routes}
    assert {"/health/live", "/health/ready"} <= paths
    # The public gateway serves Prometheus on a port of its own, never on the public one.
    assert ("/metrics" in paths) == (factory is not gateway_main.create)
