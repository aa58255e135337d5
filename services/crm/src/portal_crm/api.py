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
from portal_crm import bulk, care, contacts, loyalty, queries, sorting
from portal_crm.deps import Deps
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
    CareTypePatch,
    CareTypesOut,
    CommentIn,
    ContactIn,
    ContactOut,
    ContactPatch,
    ContactRowOut,
    DeletedOut,
    FilesIn,
    GroupCountsOut,
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
CrmDeps = NamedDependency[Deps]
Caller = NamedDependency[Principal]
ContactId = FromPath[str]
ActivityId = FromPath[str]
CareTypeId = FromPath[str]

# `scope` is a reserved Litestar parameter name (the ASGI scope): aliased.
ContactScope = Annotated[
    Literal["all", "mine", "holding", "my_department", "unassigned_lead"],
    QueryParameter(name="scope"),
]
ContactOrder = Annotated[
    sorting.ContactSort,
    QueryParameter(
        description="The list's order, `-` for descending: `name` (accents and case folded),"
        " `group` (the funnel's order), `level` (by accumulated money); rows of equal keys"
        " follow their id, so paging never repeats or skips one."
    ),
]


class _LoyaltyAndTimeline(Controller):
    """Routes shared by contacts and customers (a customer is a contact of kind customer)."""

    dependencies = {"principal": PRINCIPAL, "deps": use_cases("crm")}

    @get("/{contact_id:str}/level")
    async def level(self, contact_id: ContactId, principal: Caller, deps: CrmDeps) -> LoyaltyOut:
        return await queries.why_level(deps, principal, contact_id)

    @get("/{contact_id:str}/timeline")
    async def timeline(
        self,
        contact_id: ContactId,
        principal: Caller,
        deps: CrmDeps,
        limit: Limit = 50,
        offset: Offset = 0,
        context: TimelineContext = None,
    ) -> Page[TimelineEntryOut]:
        return await queries.contact_timeline(
            deps, principal, contact_id, limit, offset, context=context
        )


class ContactsController(_LoyaltyAndTimeline):
    path = "/v1/crm/contacts"
    tags = ["crm"]
    request_max_body_size = MAX_BODY

    @get("/")
    async def list_contacts(
        self,
        principal: Caller,
        deps: CrmDeps,
        limit: Limit = 20,
        offset: Offset = 0,
        kind: FromQuery[Literal["contact", "customer"] | None] = None,
        group: FromQuery[ContactGroup | None] = None,
        list_scope: ContactScope = "all",
        label: Annotated[str | None, QueryParameter(max_length=50)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        deleted: FromQuery[bool] = False,
        sort: ContactOrder = sorting.DEFAULT_SORT,
    ) -> Page[ContactRowOut]:
        return await queries.list_contacts(
            deps,
            principal,
            kind=kind,
            group=group,
            scope=list_scope,
            label=label,
            q=q,
            deleted=deleted,
            limit=limit,
            offset=offset,
            sort=sort,
        )

    @get("/groups", summary="The group panel: contacts per group under the list's filters")
    async def group_counts(
        self,
        principal: Caller,
        deps: CrmDeps,
        kind: FromQuery[Literal["contact", "customer"] | None] = None,
        list_scope: ContactScope = "all",
        label: Annotated[str | None, QueryParameter(max_length=50)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        deleted: FromQuery[bool] = False,
    ) -> GroupCountsOut:
        return await queries.group_counts(
            deps, principal, kind=kind, scope=list_scope, label=label, q=q, deleted=deleted
        )

    @post("/", status_code=201)
    async def create(
        self, data: JSONBody[ContactIn], principal: Caller, deps: CrmDeps
    ) -> ContactOut:
        return await contacts.create_contact(deps, principal, data)

    @post("/bulk/assign", status_code=200)
    async def bulk_assign(
        self, data: JSONBody[BulkAssignIn], principal: Caller, deps: CrmDeps
    ) -> BulkAssignedOut:
        return await bulk.bulk_assign(deps, principal, data)

    @post("/bulk/labels", status_code=200)
    async def bulk_labels(
        self, data: JSONBody[BulkLabelsIn], principal: Caller, deps: CrmDeps
    ) -> BulkLabelledOut:
        return await bulk.bulk_labels(deps, principal, data)

    @post("/bulk/delete", status_code=200)
    async def bulk_delete(
        self, data: JSONBody[BulkDeleteIn], principal: Caller, deps: CrmDeps
    ) -> BulkDeletedOut:
        return await bulk.bulk_delete(deps, principal, data)

    @get("/{contact_id:str}")
    async def get_contact(
        self, contact_id: ContactId, principal: Caller, deps: CrmDeps
    ) -> ContactOut:
        return await queries.contact(deps, principal, contact_id)

    @patch("/{contact_id:str}")
    async def update(
        self, contact_id: ContactId, data: JSONBody[ContactPatch], principal: Caller, deps: CrmDeps
    ) -> ContactOut:
        return await contacts.update_contact(deps, principal, contact_id, data)

    @delete("/{contact_id:str}", status_code=200)
    async def soft_delete(
        self,
        contact_id: ContactId,
        principal: Caller,
        deps: CrmDeps,
        confirm: FromQuery[bool] = False,
    ) -> DeletedOut:
        return await contacts.delete(deps, principal, contact_id, confirm)

    @post("/{contact_id:str}/restore", status_code=200)
    async def restore(self, contact_id: ContactId, principal: Caller, deps: CrmDeps) -> ContactOut:
        return await contacts.restore(deps, principal, contact_id)

    @post("/{contact_id:str}/convert", status_code=200)
    async def convert(self, contact_id: ContactId, principal: Caller, deps: CrmDeps) -> ContactOut:
        return await contacts.convert(deps, principal, contact_id)

    @put("/{contact_id:str}/labels")
    async def labels(
        self, contact_id: ContactId, data: JSONBody[LabelsIn], principal: Caller, deps: CrmDeps
    ) -> ContactOut:
        return await contacts.set_labels(deps, principal, contact_id, data.labels)

    @put("/{contact_id:str}/portrait")
    async def portrait(
        self, contact_id: ContactId, data: JSONBody[PortraitIn], principal: Caller, deps: CrmDeps
    ) -> ContactOut:
        return await contacts.set_portrait(deps, principal, contact_id, data.attributes)

    @post("/{contact_id:str}/attachments", status_code=201)
    async def attach(
        self, contact_id: ContactId, data: JSONBody[FilesIn], principal: Caller, deps: CrmDeps
    ) -> ContactOut:
        return await contacts.attach(deps, principal, contact_id, data.files)

    @get(
        "/{contact_id:str}/attachments/{file_id:str}",
        media_type="application/octet-stream",
        description="The file's bytes, typed from its content.",
    )
    async def attachment(
        self, contact_id: ContactId, file_id: FromPath[str], principal: Caller, deps: CrmDeps
    ) -> Response[bytes]:
        content_type, filename, data = await contacts.file(deps, principal, contact_id, file_id)
        return download(data, content_type, filename)

    @post("/{contact_id:str}/comments", status_code=201)
    async def comment(
        self, contact_id: ContactId, data: JSONBody[CommentIn], principal: Caller, deps: CrmDeps
    ) -> ContactOut:
        return await contacts.comment(deps, principal, contact_id, data)

    @post("/{contact_id:str}/care-actions", status_code=201)
    async def care_action(
        self, contact_id: ContactId, data: JSONBody[CareActionIn], principal: Caller, deps: CrmDeps
    ) -> ContactOut:
        return await care.record_care_action(deps, principal, contact_id, data)


class CustomersController(_LoyaltyAndTimeline):
    """Customers are contacts of kind `customer` (registered accounts or converted)."""

    path = "/v1/crm/customers"
    tags = ["crm"]

    @get("/")
    async def list_customers(
        self,
        principal: Caller,
        deps: CrmDeps,
        limit: Limit = 20,
        offset: Offset = 0,
        group: FromQuery[ContactGroup | None] = None,
        list_scope: Annotated[
            Literal["all", "mine", "holding", "my_department"], QueryParameter(name="scope")
        ] = "all",
        label: Annotated[str | None, QueryParameter(max_length=50)] = None,
        level: Annotated[str | None, QueryParameter(max_length=50)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        sort: ContactOrder = sorting.DEFAULT_SORT,
    ) -> Page[ContactRowOut]:
        return await queries.list_contacts(
            deps,
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
            sort=sort,
        )

    @get("/{contact_id:str}")
    async def get_customer(
        self, contact_id: ContactId, principal: Caller, deps: CrmDeps
    ) -> ContactOut:
        return await queries.customer(deps, principal, contact_id)


class CrmSettingsController(Controller):
    """Labels, care types and reasons, and level thresholds (changed by platform admins)."""

    path = "/v1/crm"
    tags = ["crm"]
    dependencies = {"principal": PRINCIPAL, "deps": use_cases("crm")}

    @get("/labels")
    async def list_labels(self, principal: Caller, deps: CrmDeps) -> LabelsOut:
        return await queries.list_labels(deps, principal)

    @post("/labels", status_code=201)
    async def add_label(
        self, data: JSONBody[LabelIn], principal: Caller, deps: CrmDeps
    ) -> LabelOut:
        return await contacts.add_label(deps, principal, data)

    @get("/care-types")
    async def care_types(
        self,
        principal: Caller,
        deps: CrmDeps,
        action: FromQuery[CareAction | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        deleted: FromQuery[bool] = False,
    ) -> CareTypesOut:
        return await care.list_care_types(deps, principal, action, q, deleted)

    @post("/care-types", status_code=201)
    async def add_care_type(
        self, data: JSONBody[CareTypeIn], principal: Caller, deps: CrmDeps
    ) -> CareTypeOut:
        return await care.add_care_type(deps, principal, data)

    @patch("/care-types/{care_type_id:str}")
    async def rename_care_type(
        self,
        care_type_id: CareTypeId,
        data: JSONBody[CareTypePatch],
        principal: Caller,
        deps: CrmDeps,
    ) -> CareTypeOut:
        return await care.rename_care_type(deps, principal, care_type_id, data)

    @delete("/care-types/{care_type_id:str}", status_code=200)
    async def delete_care_type(
        self,
        care_type_id: CareTypeId,
        principal: Caller,
        deps: CrmDeps,
        confirm: FromQuery[bool] = False,
    ) -> CareTypeOut:
        return await care.delete_care_type(deps, principal, care_type_id, confirm)

    @get("/care-reasons")
    async def care_reasons(
        self,
        principal: Caller,
        deps: CrmDeps,
        care_type_id: Annotated[str | None, QueryParameter(max_length=50)] = None,
    ) -> CareReasonsOut:
        return await care.list_care_reasons(deps, principal, care_type_id)

    @post("/care-reasons", status_code=201)
    async def add_care_reason(
        self, data: JSONBody[CareReasonIn], principal: Caller, deps: CrmDeps
    ) -> CareReasonOut:
        return await care.add_care_reason(deps, principal, data)

    @get("/levels")
    async def levels(self, principal: Caller, deps: CrmDeps) -> LevelsOut:
        return await loyalty.levels_of(deps, principal)

    @put("/levels", status_code=202)
    async def set_levels(
        self, data: JSONBody[LevelsIn], principal: Caller, deps: CrmDeps
    ) -> LevelsOut:
        return await loyalty.set_levels(deps, principal, data.levels)


class ActivitiesController(Controller):
    path = "/v1/crm/care-activities"
    tags = ["crm"]
    request_max_body_size = MAX_BODY
    dependencies = {"principal": PRINCIPAL, "deps": use_cases("crm")}

    @get("/")
    async def list_activities(
        self,
        principal: Caller,
        deps: CrmDeps,
        limit: Limit = 20,
        offset: Offset = 0,
        list_scope: Annotated[
            Literal["all", "mine", "my_department", "today"], QueryParameter(name="scope")
        ] = "all",
        status: FromQuery[Literal["planned", "done", "cancelled"] | None] = None,
        q: Annotated[
            str | None,
            QueryParameter(max_length=100, description="in the title or the contact's name"),
        ] = None,
        deleted: FromQuery[bool] = False,
    ) -> Page[ActivityRowOut]:
        return await care.list_activities(
            deps,
            principal,
            scope=list_scope,
            status=status,
            q=q,
            limit=limit,
            offset=offset,
            deleted=deleted,
        )

    @post("/", status_code=201)
    async def schedule(
        self, data: JSONBody[ActivityIn], principal: Caller, deps: CrmDeps
    ) -> ActivityOut:
        return await care.schedule(deps, principal, data)

    @get("/{activity_id:str}")
    async def get_activity(
        self, activity_id: ActivityId, principal: Caller, deps: CrmDeps
    ) -> ActivityOut:
        return await care.activity(deps, principal, activity_id)

    @delete("/{activity_id:str}", status_code=200)
    async def delete_activity(
        self,
        activity_id: ActivityId,
        principal: Caller,
        deps: CrmDeps,
        confirm: FromQuery[bool] = False,
    ) -> DeletedOut:
        return await care.delete_activity(deps, principal, activity_id, confirm)

    @post("/{activity_id:str}/restore", status_code=200)
    async def restore_activity(
        self, activity_id: ActivityId, principal: Caller, deps: CrmDeps
    ) -> ActivityOut:
        return await care.restore_activity(deps, principal, activity_id)

    @post("/{activity_id:str}/complete", status_code=200)
    async def complete(
        self,
        activity_id: ActivityId,
        principal: Caller,
        deps: CrmDeps,
        # No body, `{}` or an outcome: marking it done needs nothing more.
        data: JSONBody[OutcomeIn | None] = None,
    ) -> ActivityOut:
        return await care.complete(deps, principal, activity_id, (data or OutcomeIn()).outcome)

    @post("/{activity_id:str}/cancel", status_code=200)
    async def cancel(
        self,
        activity_id: ActivityId,
        principal: Caller,
        deps: CrmDeps,
        data: JSONBody[CancelIn | None] = None,
    ) -> ActivityOut:
        return await care.cancel(deps, principal, activity_id, (data or CancelIn()).reason)

    @post("/{activity_id:str}/comments", status_code=201)
    async def comment(
        self, activity_id: ActivityId, data: JSONBody[CommentIn], principal: Caller, deps: CrmDeps
    ) -> ActivityOut:
        return await care.comment_activity(deps, principal, activity_id, data)


class CustomerSideController(Controller):
    """What a customer sees of the CRM: their loyalty and their own timeline."""

    path = "/v1"
    tags = ["loyalty"]
    dependencies = {"principal": PRINCIPAL, "deps": use_cases("crm")}

    @get("/loyalty")
    async def loyalty(self, principal: Caller, deps: CrmDeps) -> LoyaltyOut:
        return await queries.loyalty(deps, principal)

    @get("/timeline")
    async def timeline(
        self,
        principal: Caller,
        deps: CrmDeps,
        limit: Limit = 20,
        offset: Offset = 0,
        context: TimelineContext = None,
    ) -> Page[TimelineEntryOut]:
        return await queries.timeline_of(deps, principal.account_id, limit, offset, context=context)
