"""What may be asked of a repair: one command per step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from portal_contracts.events.repairs import (
    Condition,
    QuoteLine,
)


@dataclass(frozen=True)
class RepairCommand:
    actor: str
    now: datetime


@dataclass(frozen=True)
class RegisterRepair(RepairCommand):
    repair_id: str
    repair_number: str
    account_id: str
    branch_id: str
    model: str
    serial: str
    problem: str
    adapter_included: bool
    condition: Condition
    delivery_method: Literal["drop_off", "courier_pickup"]
    delivery_date: date
    deliverer_name: str
    deliverer_contact: str
    return_method: Literal["pickup", "shipping"]
    return_address: str | None = None
    warranty_of: str | None = None


@dataclass(frozen=True)
class ReceiveRepair(RepairCommand):
    branch_id: str
    condition: Condition


@dataclass(frozen=True)
class StartDiagnosis(RepairCommand):
    technician_id: str


@dataclass(frozen=True)
class QuoteRepair(RepairCommand):
    parts: tuple[QuoteLine, ...]
    labour: int
    currency: str


@dataclass(frozen=True)
class ApproveQuote(RepairCommand):
    account_id: str


@dataclass(frozen=True)
class RejectQuote(RepairCommand):
    account_id: str
    reason: str = ""


@dataclass(frozen=True)
class StartRepair(RepairCommand):
    pass


@dataclass(frozen=True)
class MarkReady(RepairCommand):
    pass


@dataclass(frozen=True)
class ReturnDevice(RepairCommand):
    method: Literal["counter", "shipped"]
    condition: Condition = field(default_factory=Condition)
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass(frozen=True)
class CancelRepair(RepairCommand):
    account_id: str | None
    """Set when the customer cancels (must own the repair); None for staff."""
    reason: str = ""


@dataclass(frozen=True)
class TransferRepair(RepairCommand):
    to_branch_id: str


@dataclass(frozen=True)
class AddPhoto(RepairCommand):
    account_id: str | None
    """Set when the customer adds it (must own the repair); None for staff."""
    file_id: str
    content_type: str
    size: int
    stage: Literal["intake", "receive", "return"]


Command = (
    RegisterRepair
    | ReceiveRepair
    | StartDiagnosis
    | QuoteRepair
    | ApproveQuote
    | RejectQuote
    | StartRepair
    | MarkReady
    | ReturnDevice
    | CancelRepair
    | TransferRepair
    | AddPhoto
)
