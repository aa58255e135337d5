"""The repairs service's typed HTTP contract: the bodies it takes and the answers it gives."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, create_model, model_serializer

from portal_chassis.contract import Out, Strict
from portal_contracts.events.repairs import Condition
from portal_repairs.domain import Status

Text = Annotated[str, Field(min_length=1, max_length=200)]
BranchId = Annotated[str, Field(min_length=1, max_length=50)]

# --- bodies ---


class ConditionIn(Strict):
    checklist: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=30
    )
    notes: Annotated[str, Field(max_length=2000)] = ""

    def to_event(self) -> Condition:
        return Condition(checklist=self.checklist, notes=self.notes)


class RegistrationIn(Strict):
    account_id: Annotated[str, Field(max_length=100)] | None = None
    """Only for staff registering at the counter on a customer's behalf."""
    model: Text
    serial: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9 ._/-]+$")]
    problem: Annotated[str, Field(min_length=1, max_length=4000)]
    adapter_included: bool
    condition: ConditionIn = Field(default_factory=ConditionIn)
    delivery_method: Literal["drop_off", "courier_pickup"]
    delivery_date: date
    deliverer_name: Text
    deliverer_contact: Annotated[str, Field(min_length=6, max_length=30)]
    branch_id: BranchId
    return_method: Literal["pickup", "shipping"]
    return_address: Annotated[str, Field(max_length=500)] | None = None


class ReceiveIn(Strict):
    branch_id: BranchId
    condition: ConditionIn = Field(default_factory=ConditionIn)


class DiagnoseIn(Strict):
    technician_id: Text


class QuoteLineIn(Strict):
    description: Text
    amount: int = Field(ge=0)


class QuoteIn(Strict):
    parts: list[QuoteLineIn] = Field(default_factory=list, max_length=50)
    labour: int = Field(ge=0)


class ReasonIn(Strict):
    """The optional body of a step that needs nothing else (a reason is kept where it counts)."""

    reason: Annotated[str, Field(max_length=1000)] = ""


class ReturnIn(Strict):
    method: Literal["counter", "shipped"]
    carrier: Annotated[str, Field(max_length=100)] | None = None
    tracking_number: Annotated[str, Field(max_length=100)] | None = None
    condition: ConditionIn = Field(default_factory=ConditionIn)


class TransferIn(Strict):
    to_branch_id: BranchId


class BranchIn(Strict):
    id: Annotated[str, Field(pattern=r"^[A-Z0-9-]{2,20}$")]
    name: Text


# --- answers ---


class ConditionOut(Out):
    checklist: list[str]
    notes: str


class CustodyEntryOut(Out):
    """One step of the chain of custody as the customer sees it; a step only carries the
    details it has (absent keys are left out, never sent as null)."""

    event: str
    at: datetime
    by: str
    branch_id: str
    condition: ConditionOut | None = None
    technician_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    method: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    from_branch_id: str | None = None
    reason: str | None = None
    repaired: bool | None = None
    file_id: str | None = None
    content_type: str | None = None
    stage: str | None = None

    @model_serializer(mode="wrap")
    def _without_absent_details(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}


class QuoteOut(Out):
    amount: int
    currency: str | None


class DeliveryOut(Out):
    method: Literal["drop_off", "courier_pickup"]
    date: date
    deliverer_name: str


class ReturnOut(Out):
    method: Literal["pickup", "shipping"]
    address: str | None


# `return` is a Python keyword but has been the key of the answer since day one; a field
# alias would not do (answers are dumped by field name), so the field is declared by name.
_return_field: dict[str, Any] = {"return": (ReturnOut, ...)}
_WithReturn = create_model("_WithReturn", __base__=Out, **_return_field)


class RepairOut(_WithReturn):  # type: ignore[misc,valid-type]
    """A repair with its chain of custody (the key `return` holds how it goes back)."""

    id: str
    repair_number: str
    account_id: str
    status: Status
    step: int | None
    """1-based position in the happy path; null once rejected or cancelled."""
    model: str
    serial: str
    branch_id: str
    technician_id: str | None
    quote: QuoteOut | None
    approved_amount: int | None
    warranty: bool
    warranty_of: str | None
    problem: str
    adapter_included: bool
    delivery: DeliveryOut
    custody: list[CustodyEntryOut]
    version: int
    label_url: str


class RepairRowOut(Out):
    """A repair in a list (the read model's row)."""

    id: str
    status: Status
    repair_number: str
    account_id: str
    branch_id: str
    model: str
    serial: str
    technician_id: str | None = None
    quote_amount: int | None = None
    approved_amount: int | None = None
    currency: str | None = None
    return_method: str
    warranty: bool = False
    repaired: bool = False
    version: int
    updated_at: datetime
    created_at: datetime


class BranchOut(Out):
    id: str
    name: str


class BranchesOut(Out):
    items: list[BranchOut]
    total: int
