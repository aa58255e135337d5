"""structlog JSON logging with correlation and causation ids from contextvars.

Entrypoints (HTTP middleware, Kafka consumers, the relay) call `bind_ids` so every
line logged while handling that request or message carries them.
"""

from __future__ import annotations

import logging
import sys
import uuid
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # Structured tracebacks are for the JSON renderer only: the console renderer formats
    # `exc_info` itself and fails on an already structured (list) `exception`.
    tracebacks: list[Any] = [structlog.processors.dict_tracebacks] if json else []
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *tracebacks,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")


def bind_ids(
    correlation_id: str | None = None, causation_id: str | None = None, **extra: Any
) -> str:
    """Bind ids for the current task; returns the correlation id (new if none came in)."""
    service = get_contextvars().get("service")
    clear_contextvars()
    correlation_id = correlation_id or str(uuid.uuid4())
    bind_contextvars(
        service=service, correlation_id=correlation_id, causation_id=causation_id, **extra
    )
    return correlation_id


def current_ids() -> tuple[str | None, str | None]:
    ctx = get_contextvars()
    return ctx.get("correlation_id"), ctx.get("causation_id")


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
