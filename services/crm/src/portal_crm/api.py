"""The CRM service's internal HTTP API (reached through the gateway): staff-only CRM routes
under /v1/crm, and the customer's own loyalty summary and timeline."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from portal_chassis.auth import Principal
from portal_chassis.contract import PRINCIPAL, Limit, Offset, Page, use_cases
from portal_chassis.web import download
from portal_contracts.events.crm import CareAction, ContactGroup
from portal_crm.handlers import CrmService
from portal_crm.schemas import (
    MAX_FILE_BYTES,
    MAX_FILES,
    ActivityIn,
    ActivityOut,
    ActivityRowOut,
    BulkAssignedOut,
    BulkAssignIn,
    BulkDeletedOut,
    BulkDeleteIn,
    BulkLabelledOut,
    BulkLabelsIn,
    CancelIn,
    CareActionIn,
    CareReasonIn,
    CareReasonOut,
    CareReasonsOut,
    CareTypeIn,
    CareTypeOut,
    CareTypesOut,
    CommentIn,
    ContactIn,
    ContactOut,
    ContactPatch,
    ContactRowOut,
    DeletedOut,
    FilesIn,
    LabelIn,
    LabelOut,
    LabelsIn,
    LabelsOut,
    LevelsIn,
    LevelsOut,
    LoyaltyOut,
    OutcomeIn,
    PortraitIn,
    TimelineEntryOut,
)

# Base64 grows bytes by 4/3; five 10 MB files plus the text fit in this.
MAX_BODY = MAX_FILES * (MAX_FILE_BYTES * 4 // 3 + 1024) + 256 * 1024
TimelineContext = FromQuery[
    Literal["identity", "wallet", "billing", "tickets", "repairs", "crm"] | None
]
Crm = NamedDependency[CrmService]
Caller = NamedDependency[Principal]
ContactId = FromPath[str]
ActivityId = FromPath[str]


class _LoyaltyAndTimeline(Controller):
    """Routes shared by contacts and customers (a customer is a contact of kind customer)."""

    dependencies = {"principal": PRINCIPAL, "crm": use_cases("crm")}

    @get("/{contact_id:str}/level")
    async def level(self, contact_id: ContactId, principal: Caller, crm: Crm) -> LoyaltyOut:
        return await crm.why_level(principal, contact_id)

    @get("/{contact_id:str}/timeline")
    async def timeline(
        self,
        contact_id: ContactId,
        principal: Caller,
        crm: Crm,
        limit: Limit = 50,
        offset: Offset = 0,
        context: TimelineContext = None,
    ) -> Page[TimelineEntryOut]:
        return await crm.contact_timeline(principal, contact_id, limit, offset, context=context)


class ContactsController(_LoyaltyAndTimeline):
    path = "/v1/crm/contacts"
    tags = ["crm"]
    request_max_body_size = MAX_BODY

    @get("/")
    async def list_contacts(
        self,
        principal: Caller,
        crm: Crm,
        limit: Limit = 20,
        offset: Offset = 0,
        kind: FromQuery[Literal["contact", "customer"] | None] = None,
        group: FromQuery[ContactGroup | None] = None,
        # `scope` is a reserved Litestar parameter name (the ASGI scope): alias it.
        list_scope: Annotated[
            Literal["all", "mine", "holding", "my_department", "unassigned_lead"],
            QueryParameter(name="scope"),
        ] = "all",
        label: Annotated[str | None, QueryParameter(max_length=50)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        deleted: FromQuery[bool] = False,
    ) -> Page[ContactRowOut]:
        return await crm.list_contacts(
            principal,
            kind=kind,
            group=group,
            scope=list_scope,
            label=label,
            q=q,
            deleted=deleted,
            limit=limit,
            offset=offset,
        )

    @post("/", status_code=201)
    async def create(self, data: JSONBody[ContactIn], principal: Caller, crm: Crm) -> ContactOut:
        return await crm.create_contact(principal, data)

    @post("/bulk/assign", status_code=200)
    async def bulk_assign(
        self, data: JSONBody[BulkAssignIn], principal: Caller, crm: Crm
    ) -> BulkAssignedOut:
        return await crm.bulk_assign(principal, data)

    @post("/bulk/labels", status_code=200)
    async def bulk_labels(
        self, data: JSONBody[BulkLabelsIn], principal: Caller, crm: Crm
    ) -> BulkLabelledOut:
        return await crm.bulk_labels(principal, data)

    @post("/bulk/delete", status_code=200)
    async def bulk_delete(
        self, data: JSONBody[BulkDeleteIn], principal: Caller, crm: Crm
    ) -> BulkDeletedOut:
        return await crm.bulk_delete(principal, data)

    @get("/{contact_id:str}")
    async def get_contact(self, contact_id: ContactId, principal: Caller, crm: Crm) -> ContactOut:
        return await crm.contact(principal, contact_id)

    @patch("/{contact_id:str}")
    async def update(
        self, contact_id: ContactId, data: JSONBody[ContactPatch], principal: Caller, crm: Crm
    ) -> ContactOut:
        return await crm.update_contact(principal, contact_id, data)

    @delete("/{contact_id:str}", status_code=200)
    async def soft_delete(
        self,
        contact_id: ContactId,
        principal: Caller,
        crm: Crm,
        confirm: FromQuery[bool] = False,
    ) -> DeletedOut:
        return await crm.delete(principal, contact_id, confirm)

    @post("/{contact_id:str}/restore", status_code=200)
    async def restore(self, contact_id: ContactId, principal: Caller, crm: Crm) -> ContactOut:
        return await crm.restore(principal, contact_id)

    @post("/{contact_id:str}/convert", status_code=200)
    async def convert(self, contact_id: ContactId, principal: Caller, crm: Crm) -> ContactOut:
        return await crm.convert(principal, contact_id)

    @put("/{contact_id:str}/labels")
    async def labels(
        self, contact_id: ContactId, data: JSONBody[LabelsIn], principal: Caller, crm: Crm
    ) -> ContactOut:
        return await crm.set_labels(principal, contact_id, data.labels)

    @put("/{contact_id:str}/portrait")
    async def portrait(
        self, contact_id: ContactId, data: JSONBody[PortraitIn], principal: Caller, crm: Crm
    ) -> ContactOut:
        return await crm.set_portrait(principal, contact_id, data.attributes)

    @post("/{contact_id:str}/attachments", status_code=201)
    async def attach(
        self, contact_id: ContactId, data: JSONBody[FilesIn], principal: Caller, crm: Crm
    ) -> ContactOut:
        return await crm.attach(principal, contact_id, data.files)

    @get(
        "/{contact_id:str}/attachments/{file_id:str}",
        media_type="application/octet-stream",
        description="The file's bytes, typed from its content.",
    )
    async def attachment(
        self, contact_id: ContactId, file_id: FromPath[str], principal: Caller, crm: Crm
    ) -> Response[bytes]:
        content_type, filename, data = await crm.file(principal, contact_id, file_id)
        return download(data, content_type, filename)

    @post("/{contact_id:str}/comments", status_code=201)
    async def comment(
        self, contact_id: ContactId, data: JSONBody[CommentIn], principal: Caller, crm: Crm
    ) -> ContactOut:
        return await crm.comment(principal, contact_id, data)

    @post("/{contact_id:str}/care-actions", status_code=201)
    async def care_action(
        self, contact_id: ContactId, data: JSONBody[CareActionIn], principal: Caller, crm: Crm
    ) -> ContactOut:
        return await crm.record_care_action(principal, contact_id, data)


class CustomersController(_LoyaltyAndTimeline):
    """Customers are contacts of kind `customer` (registered accounts or converted)."""

    path = "/v1/crm/customers"
    tags = ["crm"]

    @get("/")
    async def list_customers(
        self,
        principal: Caller,
        crm: Crm,
        limit: Limit = 20,
        offset: Offset = 0,
        group: FromQuery[ContactGroup | None] = None,
        list_scope: Annotated[
            Literal["all", "mine", "holding", "my_department"], QueryParameter(name="scope")
        ] = "all",
        label: Annotated[str | None, QueryParameter(max_length=50)] = None,
        level: Annotated[str | None, QueryParameter(max_length=50)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Page[ContactRowOut]:
        return await crm.list_contacts(
            principal,
            kind="customer",
            group=group,
            scope=list_scope,
            label=label,
            q=q,
            deleted=False,
            limit=limit,
            offset=offset,
            level=level,
        )

    @get("/{contact_id:str}")
    async def get_customer(self, contact_id: ContactId, principal: Caller, crm: Crm) -> ContactOut:
        return await crm.customer(principal, contact_id)


class CrmSettingsController(Controller):
    """Labels, care types and reasons, and level thresholds (changed by platform admins)."""

    path = "/v1/crm"
    tags = ["crm"]
    dependencies = {"principal": PRINCIPAL, "crm": use_cases("crm")}

    @get("/labels")
    async def list_labels(self, principal: Caller, crm: Crm) -> LabelsOut:
        return await crm.list_labels(principal)

    @post("/labels", status_code=201)
    async def add_label(self, data: JSONBody[LabelIn], principal: Caller, crm: Crm) -> LabelOut:
        return await crm.add_label(principal, data)

    @get("/care-types")
    async def care_types(
        self,
        principal: Caller,
        crm: Crm,
        action: FromQuery[CareAction | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> CareTypesOut:
        return await crm.list_care_types(principal, action, q)

    @post("/care-types", status_code=201)
    async def add_care_type(
        self, data: JSONBody[CareTypeIn], principal: Caller, crm: Crm
    ) -> CareTypeOut:
        return await crm.add_care_type(principal, data)

    @get("/care-reasons")
    async def care_reasons(
        self,
        principal: Caller,
        crm: Crm,
        care_type_id: Annotated[str | None, QueryParameter(max_length=50)] = None,
    ) -> CareReasonsOut:
        return await crm.list_care_reasons(principal, care_type_id)

    @post("/care-reasons", status_code=201)
    async def add_care_reason(
        self, data: JSONBody[CareReasonIn], principal: Caller, crm: Crm
    ) -> CareReasonOut:
        return await crm.add_care_reason(principal, data)

    @get("/levels")
    async def levels(self, principal: Caller, crm: Crm) -> LevelsOut:
        return await crm.levels_of(principal)

    @put("/levels", status_code=202)
    async def set_levels(self, data: JSONBody[LevelsIn], principal: Caller, crm: Crm) -> LevelsOut:
        return await crm.set_levels(principal, data.levels)


class ActivitiesController(Controller):
    path = "/v1/crm/care-activities"
    tags = ["crm"]
    request_max_body_size = MAX_BODY
    dependencies = {"principal": PRINCIPAL, "crm": use_cases("crm")}

    @get("/")
    async def list_activities(
        self,
        principal: Caller,
        crm: Crm,
        limit: Limit = 20,
        offset: Offset = 0,
        list_scope: Annotated[
            Literal["all", "mine", "my_department", "today"], QueryParameter(name="scope")
        ] = "all",
        status: FromQuery[Literal["planned", "done", "cancelled"] | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Page[ActivityRowOut]:
        return await crm.list_activities(
            principal, scope=list_scope, status=status, q=q, limit=limit, offset=offset
        )

    @post("/", status_code=201)
    async def schedule(
        self, data: JSONBody[ActivityIn], principal: Caller, crm: Crm
    ) -> ActivityOut:
        return await crm.schedule(principal, data)

    @get("/{activity_id:str}")
    async def get_activity(
        self, activity_id: ActivityId, principal: Caller, crm: Crm
    ) -> ActivityOut:
        return await crm.activity(principal, activity_id)

    @post("/{activity_id:str}/complete", status_code=200)
    async def complete(
        self,
        activity_id: ActivityId,
        principal: Caller,
        crm: Crm,
        # No body, `{}` or an outcome: marking it done needs nothing more.
        data: JSONBody[OutcomeIn | None] = None,
    ) -> ActivityOut:
        return await crm.complete(principal, activity_id, (data or OutcomeIn()).outcome)

    @post("/{activity_id:str}/cancel", status_code=200)
    async def cancel(
        self,
        activity_id: ActivityId,
        principal: Caller,
        crm: Crm,
        data: JSONBody[CancelIn | None] = None,
    ) -> ActivityOut:
        return await crm.cancel(principal, activity_id, (data or CancelIn()).reason)

    @post("/{activity_id:str}/comments", status_code=201)
    async def comment(
        self, activity_id: ActivityId, data: JSONBody[CommentIn], principal: Caller, crm: Crm
    ) -> ActivityOut:
        return await crm.comment_activity(principal, activity_id, data)


class CustomerSideController(Controller):
    """What a customer sees of the CRM: their loyalty and their own timeline."""

    path = "/v1"
    tags = ["loyalty"]
    dependencies = {"principal": PRINCIPAL, "crm": use_cases("crm")}

    @get("/loyalty")
    async def loyalty(self, principal: Caller, crm: Crm) -> LoyaltyOut:
        return await crm.loyalty(principal)

    @get("/timeline")
    async def timeline(
        self,
        principal: Caller,
        crm: Crm,
        limit: Limit = 20,
        offset: Offset = 0,
        context: TimelineContext = None,
    ) -> Page[TimelineEntryOut]:
        return await crm.timeline_of(principal.account_id, limit, offset, context=context)
