"""Events of the CRM context (topic `crm.events`).

Streams: `contact-<id>` (a contact or customer with its loyalty: points, accumulated money
and level) and `care-<id>` (a planned care activity). A customer that registered on the
portal has `account_id` set (its contact id is the account id).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from portal_contracts.base import CurrencyCode, DomainEvent

ContactKind = Literal["contact", "customer"]
PartyType = Literal["organisation", "person"]
ContactGroup = Literal["new_from_ads", "not_customer", "cold", "warm", "hot"]
CareAction = Literal[
    "give_points",
    "deduct_points",
    "give_money",
    "deduct_money",
    "call",
    "message",
    "email",
    "receive_call",
]
MONEY_ACTIONS = ("give_money", "deduct_money")
POINT_ACTIONS = ("give_points", "deduct_points")


class CrmEvent(DomainEvent):
    context: ClassVar[str] = "crm"
    contact_id: str
    account_id: str | None = None
    """The portal account of a registered customer (None for a plain contact)."""


class ContactPerson(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    title: str = ""
    phone: str = ""
    email: str = ""


class ContactDetails(BaseModel):
    """The fields of a contact card (seed 003)."""

    model_config = ConfigDict(frozen=True)
    party_type: PartyType = "organisation"
    name: str
    organisation_size: str = ""
    founding_date: date | None = None
    tax_code: str = ""
    phone: str = ""
    email: str = ""
    owner_id: str | None = None
    unit: str = ""
    """The department (unit) that owns the relationship."""
    industry: str = ""
    source: str = ""
    description: str = ""
    address: str = ""
    website: str = ""
    group: ContactGroup = "not_customer"
    contact_persons: list[ContactPerson] = []


class ContactCreated(CrmEvent):
    event_type: ClassVar[str] = "ContactCreated"
    kind: ContactKind
    details: ContactDetails
    created_by: str


class ContactUpdated(CrmEvent):
    event_type: ClassVar[str] = "ContactUpdated"
    details: ContactDetails
    updated_by: str


class ContactConvertedToCustomer(CrmEvent):
    event_type: ClassVar[str] = "ContactConvertedToCustomer"
    converted_by: str


class LeadAssigned(CrmEvent):
    event_type: ClassVar[str] = "LeadAssigned"
    caretaker_id: str
    method: Literal["manual", "round_robin"]
    department: str | None = None
    care_from: datetime | None = None
    note: str = ""
    assigned_by: str


class LabelsChanged(CrmEvent):
    event_type: ClassVar[str] = "LabelsChanged"
    labels: list[str]
    changed_by: str


class ContactDeleted(CrmEvent):
    """A soft delete: hidden from lists, restorable by an admin."""

    event_type: ClassVar[str] = "ContactDeleted"
    deleted_by: str


class ContactRestored(CrmEvent):
    event_type: ClassVar[str] = "ContactRestored"
    restored_by: str


class PortraitUpdated(CrmEvent):
    """Custom attributes of the customer portrait (name -> value)."""

    event_type: ClassVar[str] = "PortraitUpdated"
    attributes: dict[str, str]
    updated_by: str


class FileRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    file_id: str
    filename: str
    content_type: str
    size: int


class DocumentAttached(CrmEvent):
    event_type: ClassVar[str] = "DocumentAttached"
    file: FileRef
    attached_by: str


class CommentAdded(CrmEvent):
    """A comment on a contact, or on one of its care activities (`activity_id`)."""

    event_type: ClassVar[str] = "CommentAdded"
    comment_id: str
    author_id: str
    text: str
    attachments: list[FileRef] = []
    activity_id: str | None = None


class CareActionRecorded(CrmEvent):
    """A care action done for the customer: a call, a message... or points and money."""

    event_type: ClassVar[str] = "CareActionRecorded"
    action_id: str
    care_type_id: str
    care_type_name: str
    action: CareAction
    value: int = 0
    """Points, or money in minor units, for the four loyalty actions; 0 otherwise."""
    note: str = ""
    activity_id: str | None = None
    recorded_by: str


class PointsChanged(CrmEvent):
    event_type: ClassVar[str] = "PointsChanged"
    delta: int
    balance: int
    reference: str


class AccumulatedMoneyChanged(CrmEvent):
    """What the customer spent, as counted for loyalty levels."""

    event_type: ClassVar[str] = "AccumulatedMoneyChanged"
    delta: int
    total: int
    currency: CurrencyCode = "VND"
    source: Literal["invoice_paid", "invoice_refunded", "care_action"]
    reference: str
    next_level: str | None = None
    next_level_at: int | None = None
    """The next level and the accumulated money it needs (None at the top)."""


class CustomerLevelChanged(CrmEvent):
    event_type: ClassVar[str] = "CustomerLevelChanged"
    from_level: str | None
    to_level: str
    accumulated: int
    reason: Literal["accumulated_money", "thresholds_changed"]
    level_from: int = 0
    """The accumulated money where this level starts."""
    next_level: str | None = None
    next_level_at: int | None = None


class LevelProgressChanged(CrmEvent):
    """New thresholds moved where the customer's level starts or where the next one begins,
    without changing the level (progress bars read these bounds)."""

    event_type: ClassVar[str] = "LevelProgressChanged"
    level: str
    accumulated: int
    level_from: int
    next_level: str | None = None
    next_level_at: int | None = None


class CareActivityScheduled(CrmEvent):
    event_type: ClassVar[str] = "CareActivityScheduled"
    activity_id: str
    title: str
    care_type_id: str
    care_type_name: str
    action: CareAction
    reason_id: str | None = None
    value: int = 0
    due_at: datetime
    caretaker_id: str
    department: str | None = None
    note: str = ""
    scheduled_by: str


class CareActivityCompleted(CrmEvent):
    event_type: ClassVar[str] = "CareActivityCompleted"
    activity_id: str
    outcome: str = ""
    completed_by: str


class CareActivityCancelled(CrmEvent):
    event_type: ClassVar[str] = "CareActivityCancelled"
    activity_id: str
    reason: str = ""
    cancelled_by: str


class CareActivityDeleted(CrmEvent):
    """Taken off the lists (soft): admins see it among the deleted and may restore it."""

    event_type: ClassVar[str] = "CareActivityDeleted"
    activity_id: str
    deleted_by: str


class CareActivityRestored(CrmEvent):
    """Back on the lists as it was; `status` and `due_at` say what it is again."""

    event_type: ClassVar[str] = "CareActivityRestored"
    activity_id: str
    status: Literal["planned", "done", "cancelled"]
    due_at: datetime
    restored_by: str
