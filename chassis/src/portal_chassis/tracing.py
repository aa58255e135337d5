"""OpenTelemetry traces: one trace from a gateway request to every consumer of its events.

The chain: the gateway's server span (ASGI) -> its httpx client span -> the service's
server span -> `eventstore.append` (whose context is stored with the commit as its W3C
`traceparent`) -> the relay's `publish <topic>` span (a child of the append, however much
later it runs; its context goes out in the envelope) -> each consumer's `process <type>`
span (a child of the publish) -> whatever that consumer appends, and so on.

Exported by OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set
and `OTEL_SDK_DISABLED` is not true; otherwise no SDK is installed and the API's no-op
tracer only carries an incoming `traceparent` along (still in the events and log lines),
at no cost. Every log line logged inside a span carries its `trace_id` and `span_id`.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from portal_contracts.envelope import EventEnvelope

TRACER_NAME = "portal"
_configured: str | None = None

E = TypeVar("E")


def tracing_enabled() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def configure_tracing(service: str) -> bool:
    """Install the SDK with an OTLP exporter if one is configured (once a process);
    returns whether spans are exported."""
    global _configured
    if _configured is not None or not tracing_enabled():
        return _configured is not None
    # Imported here: a process without an exporter never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

    # OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES still win (Resource.create reads them).
    resource = Resource.create({"service.name": f"portal-{service}"})
    if os.environ.get("OTEL_SERVICE_NAME"):
        resource = Resource.create({})
    provider = TracerProvider(resource=resource)
    # Batched, in a thread of its own: a request never waits for the collector, and a
    # collector that is away costs dropped spans, never a failed request.
    exporting = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(exporting)
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    # Database commands only inside a trace: outside one (health probes, the relay's
    # polling, leases) each would be a trace of one span every second.
    in_traces_only = TracerProvider(resource=resource, sampler=ParentBased(ALWAYS_OFF))
    in_traces_only.add_span_processor(exporting)
    PymongoInstrumentor().instrument(tracer_provider=in_traces_only)
    _configured = service
    return True


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span (None outside any trace)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def _parent(traceparent: str | None) -> context.Context:
    return propagate.extract({"traceparent": traceparent} if traceparent else {})


def _fail(span: Span, exc: BaseException) -> None:
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:200]))


@contextmanager
def append_span(stream_id: str, first_version: int, count: int) -> Iterator[Span]:
    with tracer().start_as_current_span(
        "eventstore.append",
        attributes={
            "portal.stream_id": stream_id,
            "portal.first_version": first_version,
            "portal.events": count,
        },
    ) as span:
        yield span


def _message_attributes(envelope: EventEnvelope, extra: dict[str, str]) -> dict[str, str]:
    return {
        "messaging.system": "kafka",
        "messaging.message.id": envelope.id,
        "portal.event_type": envelope.type,
        "portal.stream_id": envelope.subject,
        **extra,
    }


@contextmanager
def publish_spans(
    messages: list[tuple[str, EventEnvelope]],
) -> Iterator[list[tuple[str, EventEnvelope]]]:
    """A PRODUCER span per message, a child of the commit that appended it; yields the
    messages with their envelope's `traceparent` set to that span, so consumers continue
    the same trace. The spans end when every message is acknowledged (or with the error)."""
    spans: list[Span] = []
    traced: list[tuple[str, EventEnvelope]] = []
    for topic, envelope in messages:
        span = tracer().start_span(
            f"publish {topic}",
            context=_parent(envelope.traceparent),
            kind=SpanKind.PRODUCER,
            attributes=_message_attributes(envelope, {"messaging.destination.name": topic}),
        )
        spans.append(span)
        with trace.use_span(span, end_on_exit=False):
            traceparent = current_traceparent() or envelope.traceparent
        traced.append((topic, envelope.model_copy(update={"traceparent": traceparent})))
    try:
        yield traced
    except BaseException as exc:
        for span in spans:
            _fail(span, exc)
        raise
    finally:
        for span in spans:
            span.end()


def traced_handler(
    group_id: str, handler: Callable[[EventEnvelope, E], Awaitable[None]]
) -> Callable[[EventEnvelope, E], Awaitable[None]]:
    """`handler` inside a CONSUMER span per attempt, a child of the publish span whose
    context came in the envelope."""

    async def handle(envelope: EventEnvelope, event: E) -> None:
        with tracer().start_as_current_span(
            f"{group_id} process {envelope.type}",
            context=_parent(envelope.traceparent),
            kind=SpanKind.CONSUMER,
            attributes=_message_attributes(envelope, {"messaging.consumer.group.name": group_id}),
            record_exception=True,
        ):
            await handler(envelope, event)

    return handle


def add_trace_ids(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the ids of the span current where the line is logged."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = format(span_context.trace_id, "032x")
        event_dict["span_id"] = format(span_context.span_id, "016x")
    return event_dict


def asgi_middleware() -> Any:
    """The server span of every HTTP request (health and metrics left out), continuing
    the caller's `traceparent`."""
    from litestar.plugins.opentelemetry import OpenTelemetryConfig

    return OpenTelemetryConfig(
        exclude=["/health", "/metrics"], exclude_spans=["receive", "send"]
    ).middleware
