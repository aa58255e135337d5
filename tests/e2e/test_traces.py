"""One trace across the platform: a payment webhook at the gateway, the wallet's append,
its relay, Kafka and every consumer of the event, as the processes export it by OTLP.

The platform's processes export to a small OTLP/HTTP receiver the e2e fixture runs
(portal_tests.otlp), not to an in-memory exporter in the test's process: the chain crosses
four processes and Kafka, and this way the real exporter, its configuration by
`OTEL_EXPORTER_OTLP_ENDPOINT` and each process's wiring are what is tested.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import httpx
import pytest

from portal_tests.e2e import SECRET, Customer, eventually, paid
from portal_tests.otlp import ReceivedSpan
from portal_wallet.payments import sign

pytestmark = pytest.mark.e2e

SERVER, PRODUCER, CONSUMER = 2, 4, 5  # OTLP's SpanKind numbers
CONSUMERS = {"portal-wallet": "wallet-transactions", "portal-billing": "billing-payments"}


def _chain(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    """The span and its ancestors, nearest first, as far as they were received."""
    chain = [span]
    while chain[-1].parent_span_id in by_id:
        chain.append(by_id[chain[-1].parent_span_id])
    return chain


def test_a_top_up_is_one_trace_from_the_webhook_to_every_consumer(platform):
    receiver = platform["traces"]
    customer = Customer(platform["url"])
    top_up = customer.top_up(70_000)
    assert top_up.status_code == 201, top_up.text
    reference = top_up.json()["payment"]["reference"]

    # The provider's request starts the trace (as a caller with its own tracing would).
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    raw = json.dumps(paid(reference, 70_000)).encode()
    r = httpx.post(
        f"{platform['url']}/api/v1/payments/webhooks/sandbox",
        content=raw,
        headers={
            "Portal-Signature": sign(SECRET, raw, int(time.time())),
            "Content-Type": "application/json",
            "traceparent": f"00-{trace_id}-{caller_span}-01",
        },
        timeout=20,
    )
    assert r.status_code == 200, r.text
    customer.wait_for_balance(70_000, timeout=60)

    def consumers_of(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
        found = {
            s.service: s
            for s in spans
            if s.kind == CONSUMER and s.attributes.get("portal.event_type") == "TopUpCompleted"
        }
        wanted = {*CONSUMERS, "portal-projector"}
        return found if wanted <= found.keys() else {}

    consumers = eventually(
        lambda: consumers_of(receiver.trace(trace_id)), timeout=60, what="every consumer's span"
    )
    spans = receiver.trace(trace_id)
    by_id = {s.span_id: s for s in spans}

    [gateway] = [s for s in spans if s.service == "portal-gateway" and s.kind == SERVER]
    assert gateway.parent_span_id == caller_span  # it continued the caller's trace
    wallet_server = [s for s in spans if s.service == "portal-wallet" and s.kind == SERVER]
    assert wallet_server, [(s.service, s.name) for s in spans]
    for service, consumer in consumers.items():
        chain = _chain(consumer, by_id)
        kinds = [(s.service, s.name if s.kind not in (SERVER, PRODUCER) else s.kind) for s in chain]
        # Nearest first: the publish by the wallet's relay, the append it relays, the
        # wallet's request, the gateway's request that forwarded the webhook.
        assert chain[1].service == "portal-wallet" and chain[1].kind == PRODUCER, kinds
        assert chain[1].name == "publish wallet.events", kinds
        assert ("portal-wallet", "eventstore.append") in kinds, kinds
        assert kinds.index(("portal-wallet", "eventstore.append")) < kinds.index(
            ("portal-wallet", SERVER)
        ), kinds
        assert chain[-1] == gateway, kinds
        if service in CONSUMERS:
            assert consumer.attributes["messaging.consumer.group.name"] == CONSUMERS[service]
    # The database calls of the request are in the trace too (PyMongo instrumentation).
    assert any(s.attributes.get("db.system") == "mongodb" for s in spans)


def test_a_request_with_no_trace_starts_one(platform: dict[str, Any]) -> None:
    receiver = platform["traces"]
    r = httpx.get(f"{platform['url']}/api/v1/plans", timeout=20)
    assert r.status_code in (200, 401), r.text

    def gateway_span() -> list[ReceivedSpan]:
        return [
            s
            for s in list(receiver.spans)
            if s.service == "portal-gateway" and s.kind == SERVER and "plans" in s.name
        ]

    eventually(gateway_span, timeout=30, what="the gateway's span of a request with no trace")
