"""One log pipeline for every logger of a process, ours and the libraries'.

structlog loggers (ours) and stdlib loggers (uvicorn, FastStream, aiokafka, httpx, pymongo)
all end in one handler whose structlog `ProcessorFormatter` renders one JSON object a line
(production) or a readable key=value line (`make dev`, `<PREFIX>_LOG_JSON=false`). The
contextvars bound by `bind_ids` (correlation, causation and trace ids) are merged into
every line, whoever logs it.

Entrypoints (HTTP middleware, Kafka consumers) call `bind_ids` so every line logged while
handling that request or message carries them.

Processes start as `uvicorn --factory ...`: uvicorn installs its own handlers, then calls
the factory (which calls `configure_logging`) before it logs its first line, so taking
uvicorn's loggers over here is enough: no process needs a `--log-config` of its own.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

from portal_chassis.tracing import add_trace_ids, configure_tracing

# Libraries that log at INFO on the hot path: httpx one line per request, aiokafka the
# consumer group's join/sync chatter, pymongo its command monitoring, fontTools (fpdf2's
# font subsetting) a line per PDF. WARNING and above
# still show; LOG_LEVEL=DEBUG shows everything.
QUIET_LIBRARIES = ("httpx", "httpcore", "aiokafka", "pymongo", "faststream.access", "fontTools")
# Loggers that install handlers of their own (plain text, colours) and do not propagate.
TAKEN_OVER = ("uvicorn", "uvicorn.error", "faststream")
# uvicorn's access log: taken over only when it is on (`--no-access-log` leaves it with no
# handler and not propagating: making it propagate would turn it back on).
ACCESS_LOG = "uvicorn.access"
# FastStream logs every message received/processed at the broker's level; the broker
# (bus.make_broker) logs them here, at DEBUG.
FASTSTREAM_LOGGER = "faststream.access.kafka"

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C `traceparent` (None if absent or malformed)."""
    match = _TRACEPARENT.match((traceparent or "").strip().lower())
    if match is None or match.group(1) == "0" * 32:
        return None
    return match.group(1)


class RetriableKafkaErrors(logging.Filter):
    """aiokafka logs a retriable error at ERROR and then retries by itself (e.g.
    `GroupCoordinatorNotAvailableError` while the broker elects a coordinator at start-up).
    Such a line is DEBUG here: the platform's own readiness checks and consumer warnings
    report an outage that lasts."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka") or record.levelno < logging.WARNING:
            return True
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        if any(getattr(arg, "retriable", False) is True for arg in args):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current `sys.stderr`, whatever replaced it since (a test's capture)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def _uvicorn_name(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    # uvicorn logs its start-up and shutdown (not only errors) on "uvicorn.error".
    if event_dict.get("logger") == "uvicorn.error":
        event_dict["logger"] = "uvicorn"
    return event_dict


def _drop_color_message(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    event_dict.pop("color_message", None)  # uvicorn's coloured copy of the event
    return event_dict


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    numeric_level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    # Run for structlog's events and for the stdlib records (foreign_pre_chain) alike.
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _uvicorn_name,
        _drop_color_message,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # Structured tracebacks are for the JSON renderer only: the console renderer formats
    # `exc_info` itself and fails on an already structured (list) `exception`. No locals in
    # production lines: they may hold tokens, passwords, personal data.
    tracebacks: list[Any] = (
        [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        ]
        if json
        else []
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *tracebacks,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    handler.addFilter(RetriableKafkaErrors())

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    access_log_on = logging.getLogger(ACCESS_LOG).hasHandlers()
    for name in (*TAKEN_OVER, *([ACCESS_LOG] if access_log_on else [])):
        taken = logging.getLogger(name)
        for old in list(taken.handlers):
            taken.removeHandler(old)
        taken.propagate = True
        taken.setLevel(logging.NOTSET)
    quiet = numeric_level if numeric_level <= logging.DEBUG else logging.WARNING
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(quiet)
    # Child loggers a library set up before (a broker started earlier in the process sets
    # its own level on `faststream.access.kafka`) follow their parents again.
    parents = tuple(f"{name}." for name in (*TAKEN_OVER, *QUIET_LIBRARIES))
    for name, child in list(logging.root.manager.loggerDict.items()):
        if name.startswith(parents) and name != ACCESS_LOG and isinstance(child, logging.Logger):
            for old in list(child.handlers):
                child.removeHandler(old)
            child.propagate = True
            child.setLevel(logging.NOTSET)
    logging.captureWarnings(True)

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Every process configures its logging once at start: its traces start with it.
    configure_tracing(service)


def bind_ids(
    correlation_id: str | None = None,
    causation_id: str | None = None,
    traceparent: str | None = None,
    **extra: Any,
) -> str:
    """Bind ids for the current task; returns the correlation id (new if none came in).
    A valid W3C `traceparent` adds its `trace_id`."""
    service = get_contextvars().get("service")
    clear_contextvars()
    correlation_id = correlation_id or str(uuid.uuid4())
    trace_id = trace_id_of(traceparent)
    if trace_id is not None:
        extra["trace_id"] = trace_id
    bind_contextvars(
        service=service, correlation_id=correlation_id, causation_id=causation_id, **extra
    )
    return correlation_id


def current_ids() -> tuple[str | None, str | None]:
    ctx = get_contextvars()
    return ctx.get("correlation_id"), ctx.get("causation_id")


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
