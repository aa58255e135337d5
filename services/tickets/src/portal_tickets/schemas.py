"""The tickets service's typed HTTP boundary: the bodies it takes and the answers it gives.

Shared by the routes (api.py) and the use cases (handlers.py), which take these inputs and
return these answers; the service's OpenAPI describes every one of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictInt

from portal_chassis.contract import FileIn, Out, Strict

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
Priority = Literal["low", "normal", "high", "urgent"]
ReplyStatus = Literal["open", "in_progress", "waiting_for_customer", "resolved"]


class OpenTicketIn(Strict):
    account_id: Annotated[str, Field(max_length=100)] | None = None
    """Only for staff opening a ticket on a customer's behalf."""
    department: Annotated[str, Field(min_length=1, max_length=50)]
    title: Annotated[str, Field(max_length=200)]
    request_type: Annotated[str, Field(min_length=1, max_length=50)] = "question"
    priority: Priority = "normal"
    content: Annotated[str, Field(min_length=1, max_length=20_000)]
    related_code: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,40}$")] | None = None
    # One more than allowed, so that six files get the clear `too_many_files` problem.
    attachments: list[FileIn] = Field(default_factory=list, max_length=MAX_FILES + 1)


class ReplyIn(Strict):
    content: Annotated[str, Field(max_length=20_000)] = ""
    internal: bool = False
    then_status: ReplyStatus | None = None
    attachments: list[FileIn] = Field(default_factory=list, max_length=MAX_FILES + 1)


class AssignIn(Strict):
    department: Annotated[str, Field(min_length=1, max_length=50)]
    agent_id: Annotated[str, Field(max_length=100)] | None = None


class PriorityIn(Strict):
    priority: Priority


class StatusIn(Strict):
    status: Literal["open", "in_progress", "waiting_for_customer", "resolved", "closed"]


class RatingIn(Strict):
    rating: StrictInt = Field(ge=1, le=5)
    comment: Annotated[str, Field(max_length=2000)] = ""


class DepartmentIn(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,49}$")]
    name: Annotated[str, Field(min_length=1, max_length=100)]


class AttachmentOut(Out):
    file_id: str
    filename: str
    """The server-made storage name (`<file_id>.<ext>`)."""
    display_name: str
    """The name the customer or agent gave the file, to show and to download it as."""
    content_type: str
    size: int


class MessageOut(Out):
    id: str
    author_kind: Literal["customer", "staff"]
    author: str
    content: str
    at: datetime
    internal: bool
    attachments: list[AttachmentOut]


class SlaOut(Out):
    first_response_due: datetime | None
    first_response_at: datetime | None
    first_response_breached: bool
    resolution_elapsed_seconds: int
    resolution_due: datetime | None
    resolution_breached: bool
    paused: bool


class TicketOut(Out):
    id: str
    ticket_number: str
    account_id: str
    title: str
    status: str
    department: str
    agent_id: str | None
    priority: Priority
    request_type: str
    related_code: str | None
    created_at: datetime | None
    response_status: Literal["awaiting_customer", "awaiting_staff"]
    rating: int | None
    sla: SlaOut
    messages: list[MessageOut]


class RepliesOut(Out):
    items: list[MessageOut]
    total: int


class TicketRowOut(Out):
    """A row of the ticket list (the read model)."""

    id: str
    account_id: str
    ticket_number: str
    title: str
    status: str
    department: str
    agent_id: str | None = None
    priority: str
    opened_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    response_status: str | None = None
    sla_breached: list[str] = Field(default_factory=list)
    resolved_at: datetime | None = None


class DepartmentOut(Out):
    id: str
    name: str


class DepartmentsOut(Out):
    items: list[DepartmentOut]
    total: int
