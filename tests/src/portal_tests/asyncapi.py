"""Generate the AsyncAPI document of every FastStream app (`make asyncapi`).

Builds each app's broker exactly as its service wires it (no connection is made) and
writes contracts/events/asyncapi.json; a contract test fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from portal_billing import main as billing_main
from portal_crm import main as crm_main
from portal_gateway import projector
from portal_identity import main as identity_main
from portal_notifications import main as notifications_main
from portal_repairs import main as repairs_main
from portal_tickets import main as tickets_main
from portal_wallet import main as wallet_main

DEV_BROKER = "127.0.0.1:9092"
OUTPUT = Path(__file__).resolve().parents[3] / "contracts" / "events" / "asyncapi.json"


def document() -> dict[str, Any]:
    wallet_runtime, _ = wallet_main.bootstrap()
    identity_runtime, _ = identity_main.bootstrap()
    repairs_runtime, _ = repairs_main.bootstrap()
    tickets_runtime, _ = tickets_main.bootstrap()
    billing_runtime, _, _ = billing_main.bootstrap()
    crm_runtime, _ = crm_main.bootstrap()
    notifications_runtime, _ = notifications_main.bootstrap()
    projector_runtime = projector.bootstrap_consumers()
    spec = AsyncAPI(
        identity_runtime.broker,
        repairs_runtime.broker,
        tickets_runtime.broker,
        billing_runtime.broker,
        crm_runtime.broker,
        wallet_runtime.broker,
        notifications_runtime.broker,
        projector_runtime.broker,
        title="Customer portal events",
        version="1.0.0",
        description="Every topic, who publishes and who consumes it. Generated; do not edit.",
        schema_version="3.0.0",
    )
    doc: dict[str, Any] = json.loads(spec.to_specification().to_json())
    # The brokers are built from the environment; the document names `make dev`'s broker
    # whatever KAFKA_BOOTSTRAP_SERVERS the generating process happens to see (a test
    # session points it at the test broker).
    for server in doc.get("servers", {}).values():
        server["host"] = DEV_BROKER
    return doc


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}", file=sys.stderr)
