"""Events of the repairs context (topic `repairs.events`, key = repair stream id).

Every event names who (`actor`), where (`branch_id`) and when (`occurred_at`): together
they are the chain of custody the customer follows. Events are only ever appended.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from portal_contracts.base import CurrencyCode, DomainEvent


class RepairEvent(DomainEvent):
    context: ClassVar[str] = "repairs"
    repair_id: str
    account_id: str
    actor: str
    branch_id: str


class Condition(BaseModel):
    model_config = ConfigDict(frozen=True)
    checklist: list[str] = []
    """Observations such as "screen scratched", "case dented"."""
    notes: str = ""


class QuoteLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    description: str
    amount: int


class RepairRegistered(RepairEvent):
    event_type: ClassVar[str] = "RepairRegistered"
    repair_number: str
    model: str
    serial: str
    problem: str
    adapter_included: bool
    condition: Condition
    delivery_method: Literal["drop_off", "courier_pickup"]
    delivery_date: date
    deliverer_name: str
    deliverer_contact: str
    """National id number or phone of the person handing the device over."""
    return_method: Literal["pickup", "shipping"]
    return_address: str | None = None
    warranty: bool = False
    warranty_of: str | None = None
    """The earlier repair this one is a warranty repair of."""


class RepairReceived(RepairEvent):
    event_type: ClassVar[str] = "RepairReceived"
    condition: Condition
    condition_corrected: bool


class RepairDiagnosisStarted(RepairEvent):
    event_type: ClassVar[str] = "RepairDiagnosisStarted"
    technician_id: str


class RepairQuoted(RepairEvent):
    event_type: ClassVar[str] = "RepairQuoted"
    parts: list[QuoteLine]
    labour: int
    amount: int
    currency: CurrencyCode


class RepairQuoteApproved(RepairEvent):
    """Until billing exists the approved amount is recorded here; billing will invoice it."""

    event_type: ClassVar[str] = "RepairQuoteApproved"
    amount: int
    currency: CurrencyCode


class RepairQuoteRejected(RepairEvent):
    event_type: ClassVar[str] = "RepairQuoteRejected"
    reason: str = ""


class RepairStarted(RepairEvent):
    event_type: ClassVar[str] = "RepairStarted"


class RepairReady(RepairEvent):
    event_type: ClassVar[str] = "RepairReady"
    repaired: bool
    """False when the device goes back unrepaired (quote rejected)."""


class RepairReturned(RepairEvent):
    event_type: ClassVar[str] = "RepairReturned"
    method: Literal["counter", "shipped"]
    carrier: str | None = None
    tracking_number: str | None = None
    condition: Condition


class RepairCancelled(RepairEvent):
    event_type: ClassVar[str] = "RepairCancelled"
    reason: str = ""


class RepairTransferred(RepairEvent):
    event_type: ClassVar[str] = "RepairTransferred"
    from_branch_id: str


class RepairPhotoAdded(RepairEvent):
    """A photo of the device's condition, taken at a hand-over (stored by repairs)."""

    event_type: ClassVar[str] = "RepairPhotoAdded"
    file_id: str
    content_type: str
    size: int
    stage: Literal["intake", "receive", "return"]
