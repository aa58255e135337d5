"""The typed vocabulary of every service's HTTP boundary (issue: one typed public contract).

Routes take their body as `data: SomethingIn` (a `Strict` model: unknown fields refused,
no "100" -> 100 coercion) and return a model or a `Page[ItemOut]`, so each service's
OpenAPI describes every body and the gateway can publish it. Controllers get the caller
and the use-case object as dependencies instead of reading them off the request:

    class TicketsController(Controller):
        path = "/v1/tickets"
        dependencies = {"principal": PRINCIPAL, "deps": use_cases("tickets")}

        @post("/", status_code=201)
        async def open_ticket(
            self, data: OpenTicketIn, principal: Principal, deps: TicketsDeps,
            idempotency_key: IdempotencyKey = None,
        ) -> TicketOut:
            return await opening.open(deps, principal, data, idempotency_key)

Use cases raise the domain errors of `portal_chassis.decider` (NotFound, Conflict,
Forbidden, RuleBroken); `portal_chassis.problems` maps them to problem+json in one place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, Self, TypeVar, get_args

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from portal_chassis.auth import Principal, principal_from

T = TypeVar("T")


class Strict(BaseModel):
    """A request body: unknown fields are refused, strings trimmed, no lax coercion."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        # Litestar hands the body over already decoded to Python values. Validated as
        # JSON they keep JSON's strict rules: "100" is not an int, "2026-01-31" is a date
        # (Python-mode strict would refuse the date and a lax one accept the "100").
        if isinstance(obj, dict | list) and not kwargs.get("from_attributes"):
            document = json.dumps(_whole_numbers(obj))
            return cls.model_validate_json(document, context=kwargs.get("context"))
        return super().model_validate(obj, **kwargs)


def _whole_numbers(value: Any) -> Any:
    """`2.0` as `2`: JSON (and JSON Schema's "integer") does not tell them apart, while
    pydantic's strict ints refuse a float. Other floats stay as they are."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


class Out(BaseModel):
    """A response body: built from the use case's result; extra keys are not published."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)


class FileIn(Strict):
    """A file sent inside a JSON body; size and type are checked on the decoded bytes."""

    filename: Annotated[str, Field(min_length=1, max_length=200)]
    content_base64: str


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many there are in all, and where this page is."""

    items: list[T]
    total: int
    limit: int
    offset: int


Limit = Annotated[int, QueryParameter(ge=1, le=100, description="Page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="Items to skip")]


def paginate(items: Sequence[T], total: int, limit: int, offset: int) -> Page[T]:
    return Page[T](items=list(items), total=total, limit=limit, offset=offset)


async def _principal(request: Request[Any, Any, Any]) -> Principal:
    return await principal_from(request)


PRINCIPAL = Provide(_principal)
"""The verified caller (the token is checked again by every service)."""


M = TypeVar("M", bound=BaseModel)


def models_in(annotation: Any, base: type[M]) -> list[type[M]]:
    """The models of type `base` a field's annotation names (`X | None`, `list[X]`, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, base):
        return [annotation]
    return [m for arg in get_args(annotation) for m in models_in(arg, base)]


def use_cases(name: str) -> Provide:
    """The use-case object the app factory put in `state` under `name`."""

    def provide(state: State) -> Any:
        return state[name]

    return Provide(provide, sync_to_thread=False)
