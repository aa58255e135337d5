"""Base types of the event catalogue.

Every event is a past-tense fact with a stable `event_type` and an integer
`schema_version`. Consumers ignore fields they do not know (extra="ignore"), so a new
optional field is never a breaking change; anything else needs a new version and an
upcaster (see registry.py).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _check_currency(value: str) -> str:
    if not _CURRENCY.match(value):
        raise ValueError("currency must be an ISO 4217 code such as VND")
    return value


CurrencyCode = Annotated[
    str,
    AfterValidator(_check_currency),
    # Published in the schemas too, so a client (or a test generator) knows the rule.
    WithJsonSchema({"type": "string", "pattern": _CURRENCY.pattern, "examples": ["VND"]}),
]
"""ISO 4217 alphabetic code. Amounts beside it are integers in the minor unit."""


class DomainEvent(BaseModel):
    """A fact one context publishes. Subclasses set the class variables."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    context: ClassVar[str]
    """The bounded context that owns the event; its topic is `<context>.events`."""

    occurred_at: datetime

    @classmethod
    def topic(cls) -> str:
        return f"{cls.context}.events"
