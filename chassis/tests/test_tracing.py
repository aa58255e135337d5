"""Traces: the relay's publish span is a child of the append that wrote the commit, each
consumer's span a child of the publish (through the envelope's `traceparent`), and log
lines logged inside a span carry its ids. The whole chain across processes is
tests/e2e/test_traces.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from portal_chassis.logging import configure_logging, get_logger
from portal_chassis.tracing import (
    append_span,
    current_traceparent,
    publish_spans,
    traced_handler,
    tracer,
)
from portal_tests.helpers import credit_envelope

EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    # The global provider can be set once a process: the first test sets it for all.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


def _hex(value: int) -> str:
    return format(value, "032x")


async def test_append_publish_and_each_consumer_form_one_trace(spans, capsys):
    configure_logging("wallet", json=True)
    handled: list[str | None] = []

    async def handler(envelope: Any, _: Any) -> None:
        handled.append(envelope.traceparent)
        get_logger("portal_test").info("handled")

    with tracer().start_as_current_span("request"), append_span("s-1", 1, 1):
        stored_traceparent = current_traceparent()  # what the commit remembers
    envelope = credit_envelope("t1", "ref", 1).model_copy(
        update={"traceparent": stored_traceparent}
    )
    with publish_spans([("wallet.events", envelope)]) as traced:
        [(_, sent)] = traced
    for group in ("dashboard", "billing-payments"):
        await traced_handler(group, handler)(sent, None)

    by_name = {s.name: s for s in spans.get_finished_spans()}
    request, append = by_name["request"], by_name["eventstore.append"]
    publish = by_name["publish wallet.events"]
    assert append.parent is not None and append.parent.span_id == request.context.span_id
    assert publish.kind == SpanKind.PRODUCER
    assert publish.parent is not None and publish.parent.span_id == append.context.span_id
    assert sent.traceparent is not None and f"{publish.context.span_id:016x}" in sent.traceparent
    for group in ("dashboard", "billing-payments"):
        consume = by_name[f"{group} process {envelope.type}"]
        assert consume.kind == SpanKind.CONSUMER
        assert consume.parent is not None and consume.parent.span_id == publish.context.span_id
    assert len({s.context.trace_id for s in spans.get_finished_spans()}) == 1
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    trace_id = _hex(request.context.trace_id)
    assert [line["trace_id"] for line in logged if line["event"] == "handled"] == [trace_id] * 2


async def test_a_failed_publish_ends_its_spans_as_errors(spans):
    envelope = credit_envelope("t2", "ref", 1)
    with pytest.raises(ConnectionError), publish_spans([("wallet.events", envelope)]):
        raise ConnectionError("broker away")
    [span] = spans.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR


async def test_without_a_trace_nothing_is_invented(spans):
    envelope = credit_envelope("t3", "ref", 1)
    assert envelope.traceparent is None
    with publish_spans([("wallet.events", envelope)]) as traced:
        # A root span of its own: the publish starts a trace rather than dropping it.
        assert traced[0][1].traceparent is not None
    assert current_traceparent() is None
