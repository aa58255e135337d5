"""The CRM service's typed HTTP boundary: the bodies it takes and the answers it gives.

Shared by the routes (api.py) and the use cases (handlers.py), which take these inputs and
return these answers; the service's OpenAPI describes every one of them. The answers list
every key clients got before they were typed; a key that is only sometimes present (an
activity's outcome, the staff-only flag of a timeline entry) stays absent, never null.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    create_model,
    field_validator,
    model_serializer,
)

from portal_chassis.contract import FileIn, Out, Strict
from portal_contracts.events.crm import (
    CareAction,
    ContactDetails,
    ContactGroup,
    ContactKind,
    ContactPerson,
    PartyType,
)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
Text = Annotated[str, Field(max_length=2000)]
Short = Annotated[str, Field(max_length=200)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]
Ids = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100)]],
    Field(min_length=1, max_length=200),
    # A row selected twice is acted on once (a lead is not given two turns of a round robin).
    AfterValidator(lambda ids: list(dict.fromkeys(ids))),
]
Phone = Annotated[str, Field(pattern=r"^(\+?[0-9 ().-]{6,30})?$")]
Email = Annotated[str, Field(pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$", max_length=254)]
TaxCode = Annotated[str, Field(pattern=r"^[0-9-]{0,20}$")]
Value = Annotated[StrictInt, Field(ge=0, le=1_000_000_000_000)]

# --- requests ---


class PersonIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    title: Short = ""
    phone: Annotated[str, Field(max_length=30)] = ""
    email: Annotated[str, Field(max_length=254)] = ""


class DetailsFields(Strict):
    party_type: PartyType = "organisation"
    organisation_size: Annotated[str, Field(max_length=50)] = ""
    founding_date: date | None = None
    tax_code: TaxCode = ""
    phone: Phone = ""
    email: Email = ""
    owner_id: Annotated[str, Field(max_length=100)] | None = None
    unit: Annotated[str, Field(max_length=50)] = ""
    industry: Short = ""
    source: Short = ""
    description: Text = ""
    address: Annotated[str, Field(max_length=500)] = ""
    website: Short = ""
    group: ContactGroup = "not_customer"
    contact_persons: list[PersonIn] = Field(default_factory=list, max_length=20)


class ContactIn(DetailsFields):
    kind: ContactKind = "contact"
    name: Annotated[str, Field(min_length=1, max_length=200)]
    labels: list[Slug] = Field(default_factory=list, max_length=20)

    def details(self, default_owner: str) -> ContactDetails:
        data = self.model_dump(exclude={"kind", "labels", "contact_persons"})
        data["owner_id"] = data.get("owner_id") or default_owner
        persons = [ContactPerson(**p.model_dump()) for p in self.contact_persons]
        return ContactDetails(**data, contact_persons=persons)


class ContactPatch(Strict):
    """Only the fields given change."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    party_type: PartyType | None = None
    organisation_size: Annotated[str, Field(max_length=50)] | None = None
    founding_date: date | None = None
    tax_code: TaxCode | None = None
    phone: Phone | None = None
    email: Email | None = None
    owner_id: Annotated[str, Field(max_length=100)] | None = None
    unit: Annotated[str, Field(max_length=50)] | None = None
    industry: Short | None = None
    source: Short | None = None
    description: Text | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    website: Short | None = None
    group: ContactGroup | None = None
    contact_persons: list[PersonIn] | None = Field(None, max_length=20)


class FilesIn(Strict):
    # One more than allowed, so that six files get the clear `too_many_files` problem.
    files: list[FileIn] = Field(min_length=1, max_length=MAX_FILES + 1)


class CommentIn(Strict):
    text: Annotated[str, Field(max_length=5000)] = ""
    attachments: list[FileIn] = Field(default_factory=list, max_length=MAX_FILES + 1)


class LabelsIn(Strict):
    labels: list[Slug] = Field(max_length=20)


ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,49}")


class PortraitIn(Strict):
    attributes: dict[str, Annotated[str, Field(max_length=500)]] = Field(
        max_length=50,
        # The rule of the validator below, published for clients.
        json_schema_extra={"propertyNames": {"pattern": f"^{ATTRIBUTE_NAME.pattern}$"}},
    )

    @field_validator("attributes")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            # No "." or "$": the attributes are stored as document keys.
            if not ATTRIBUTE_NAME.fullmatch(name):
                raise ValueError(f"attribute name {name!r}: letters, digits, space, _ or -")
        return value


class CareActionIn(Strict):
    care_type_id: Slug
    value: Value = 0
    note: Text = ""


class BulkAssignIn(Strict):
    ids: Ids
    method: Literal["manual", "round_robin"] = "manual"
    caretaker_id: Annotated[str, Field(max_length=100)] | None = None
    department: Annotated[str, Field(max_length=50)] | None = None
    care_from: datetime | None = None
    note: Text = ""


class BulkLabelsIn(Strict):
    ids: Ids
    add: list[Slug] = Field(default_factory=list, max_length=20)
    remove: list[Slug] = Field(default_factory=list, max_length=20)


class BulkDeleteIn(Strict):
    ids: Ids
    confirm: bool = False


class LabelIn(Strict):
    id: Slug
    name: Annotated[str, Field(min_length=1, max_length=100)]


class CareTypeIn(Strict):
    id: Slug
    name: Annotated[str, Field(min_length=1, max_length=100)]
    action: CareAction


class CareTypePatch(Strict):
    """A care type's new name (its action stays: the history recorded under it keeps its
    meaning)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]


class CareReasonIn(Strict):
    id: Slug
    name: Annotated[str, Field(min_length=1, max_length=200)]
    care_type_id: Slug


class ActivityIn(Strict):
    contact_id: Annotated[str, Field(min_length=1, max_length=100)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    care_type_id: Slug
    reason_id: Slug | None = None
    value: Value = 0
    due_at: datetime
    caretaker_id: Annotated[str, Field(max_length=100)] | None = None
    department: Annotated[str, Field(max_length=50)] | None = None
    note: Text = ""

    @field_validator("due_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give due_at with a time zone offset")
        return value


class OutcomeIn(Strict):
    outcome: Text = ""


class CancelIn(Strict):
    reason: Text = ""


class LevelIn(Strict):
    name: Slug
    min_accumulated: StrictInt = Field(ge=0)


class LevelsIn(Strict):
    levels: list[LevelIn] = Field(min_length=1, max_length=10)


# --- answers ---


class _OmitWhenNone(Out):
    """Leaves out the listed optional keys when they have no value (as the API always did)."""

    omit_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if not (k in self.omit_when_none and v is None)}


class PersonOut(Out):
    name: str
    title: str
    phone: str
    email: str


class GeneralOut(Out):
    """The contact card's fields (the `ContactDetails` of the contact's events)."""

    party_type: PartyType
    name: str
    organisation_size: str
    founding_date: date | None
    tax_code: str
    phone: str
    email: str
    owner_id: str | None
    unit: str
    industry: str
    source: str
    description: str
    address: str
    website: str
    group: ContactGroup
    contact_persons: list[PersonOut]


class LoyaltySummaryOut(Out):
    points: int
    accumulated: int
    level: str
    next_level: str | None
    to_next_level: int
    progress_percent: int


class FileOut(Out):
    file_id: str
    filename: str
    content_type: str
    size: int


class DocumentOut(FileOut):
    at: datetime
    by: str


class CommentOut(Out):
    id: str
    author_id: str
    text: str
    activity_id: str | None
    attachments: list[FileOut]
    at: datetime


class CareRowOut(Out):
    id: str
    care_type_id: str
    care_type_name: str
    action: CareAction
    value: int
    note: str
    activity_id: str | None
    by: str
    at: datetime


class AssignmentOut(Out):
    caretaker_id: str
    method: str
    department: str | None
    note: str
    at: datetime
    by: str


class ContactOut(Out):
    """A contact or customer card with its history."""

    id: str
    kind: ContactKind
    status: str
    account_id: str | None
    general: GeneralOut
    labels: list[str]
    caretaker_id: str | None
    created_at: datetime | None
    portrait: dict[str, str]
    loyalty: LoyaltySummaryOut
    care_history: list[CareRowOut]
    assignments: list[AssignmentOut]
    attachments: list[DocumentOut]
    comments: list[CommentOut]


class ContactRowOut(Out):
    """A row of the contact and customer lists (the read model)."""

    id: str
    kind: ContactKind
    status: str
    account_id: str | None
    name: str
    party_type: PartyType
    phone: str
    email: str
    tax_code: str
    group: ContactGroup
    owner_id: str | None
    unit: str
    industry: str
    source: str
    labels: list[str]
    caretaker_id: str | None
    held: bool
    points: int
    accumulated: int
    level: str | None
    created_at: datetime
    updated_at: datetime


class GroupCountOut(Out):
    group: ContactGroup
    count: int


class GroupCountsOut(Out):
    """The group panel: contacts per group under the list's own filters."""

    items: list[GroupCountOut]
    total: int


class DeletedOut(Out):
    id: str
    status: Literal["deleted"]


class AssignedOut(Out):
    id: str
    caretaker_id: str


class RefusedOut(Out):
    """A selected contact the bulk action left as it was, and why (`contact_not_found` for
    one deleted or gone since it was listed)."""

    id: str
    code: str


class BulkAssignedOut(Out):
    items: list[AssignedOut]
    total: int
    refused: list[RefusedOut] = Field(default_factory=list)


class BulkLabelledOut(Out):
    updated: int
    refused: list[RefusedOut] = Field(default_factory=list)


class BulkDeletedOut(Out):
    deleted: int
    refused: list[RefusedOut] = Field(default_factory=list)


class ThresholdOut(Out):
    name: str
    min_accumulated: int


class AccumulatedOut(Out):
    at: datetime
    delta: int
    total: int
    source: str
    reference: str


# `from` is a Python keyword but has been the key of the answer since day one; a field
# alias would not do (answers are dumped by field name), so the field is declared by name.
_from_field: dict[str, Any] = {"from": (str | None, ...)}
_WithFrom = create_model("_WithFrom", __base__=Out, **_from_field)


class LevelChangeOut(_WithFrom):  # type: ignore[misc,valid-type]
    at: datetime
    to: str
    reason: str


class PointsRowOut(Out):
    at: datetime
    delta: int
    balance: int


class LoyaltyOut(_OmitWhenNone, LoyaltySummaryOut):
    """Points, level and the way to the next one; with why (the money behind the level)
    once the customer has a card."""

    omit_when_none = frozenset({"thresholds", "because", "level_changes", "points_history"})

    thresholds: list[ThresholdOut] | None = None
    because: list[AccumulatedOut] | None = None
    level_changes: list[LevelChangeOut] | None = None
    points_history: list[PointsRowOut] | None = Field(
        default=None, description="Only on the customer's own summary"
    )


class TimelineEntryOut(_OmitWhenNone):
    omit_when_none = frozenset({"staff_only", "key", "params"})

    id: str
    account_id: str
    at: datetime
    context: str
    type: str
    title: str = Field(description="In English; `key` and `params` word it in other languages")
    key: str | None = Field(
        default=None,
        description="The title's wording: the event type or a variant of it "
        "(`AutoRenewChanged.off`, `CareActionRecorded.valued`); absent on entries "
        "recorded before wordings were kept",
    )
    params: dict[str, str | int | float | bool | None] | None = Field(
        default=None,
        description="The values the title is made of; amounts come with `currency`",
    )
    staff_only: bool | None = Field(default=None, description="Only in the staff's view")


class LabelOut(Out):
    id: str
    name: str


class LabelsOut(Out):
    items: list[LabelOut]
    total: int


class CareTypeOut(_OmitWhenNone):
    """`deleted_at` once deleted: no longer offered, still named in the history."""

    omit_when_none = frozenset({"updated_at", "deleted_at"})

    id: str
    name: str
    action: CareAction
    created_by: str
    created_at: datetime
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class CareTypesOut(Out):
    items: list[CareTypeOut]
    total: int


class CareReasonOut(Out):
    id: str
    name: str
    care_type_id: str
    created_by: str


class CareReasonsOut(Out):
    items: list[CareReasonOut]
    total: int


class RecomputeOut(Out):
    status: Literal["running", "done"]
    customers_checked: int
    customers_changed: int
    started_at: datetime
    finished_at: datetime | None


class LevelsOut(Out):
    items: list[ThresholdOut]
    currency: str
    recompute: RecomputeOut | None


class ActivityRowOut(_OmitWhenNone):
    """A planned care activity; `outcome` and `done_at` once done, `cancel_reason` once
    cancelled."""

    omit_when_none = frozenset(
        {"outcome", "done_at", "cancel_reason", "deleted_at", "contact_name", "contact_code"}
    )

    id: str
    status: Literal["planned", "done", "cancelled"]
    updated_at: datetime
    contact_id: str
    account_id: str | None
    title: str
    care_type_id: str
    care_type_name: str
    action: CareAction
    reason_id: str | None
    value: int
    due_at: datetime
    caretaker_id: str
    department: str | None
    note: str
    scheduled_by: str
    contact_name: str | None = None
    """In the list: the contact's name and tax code as the contacts list has them (a page
    shows them without a read per row); absent when unknown or empty."""
    contact_code: str | None = None
    deleted_at: datetime | None = None
    outcome: str | None = None
    done_at: datetime | None = None
    cancel_reason: str | None = None


class ActivityCommentOut(Out):
    id: str
    text: str
    author_id: str
    at: datetime


class ActivityOut(ActivityRowOut):
    comments: list[ActivityCommentOut]
