"""The CRM service's internal HTTP API (reached through the gateway): staff-only CRM routes
under /v1/crm, and the customer's own loyalty summary and timeline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, QueryParameter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, field_validator

from portal_chassis.auth import Principal, principal_from
from portal_chassis.problems import ProblemError, parse_json_body
from portal_chassis.web import download
from portal_contracts.events.crm import CareAction, ContactDetails, ContactGroup, ContactPerson
from portal_crm.handlers import MAX_FILE_BYTES, MAX_FILES, CrmService

MAX_BODY = MAX_FILES * (MAX_FILE_BYTES * 4 // 3 + 1024) + 256 * 1024
Text = Annotated[str, Field(max_length=2000)]
Short = Annotated[str, Field(max_length=200)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]
Ids = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100)]],
    Field(min_length=1, max_length=200),
    # A row selected twice is acted on once (a lead is not given two turns of a round robin).
    AfterValidator(lambda ids: list(dict.fromkeys(ids))),
]
Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
TimelineContext = FromQuery[
    Literal["identity", "wallet", "billing", "tickets", "repairs", "crm"] | None
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    title: Short = ""
    phone: Annotated[str, Field(max_length=30)] = ""
    email: Annotated[str, Field(max_length=254)] = ""


class DetailsFields(Strict):
    party_type: Literal["organisation", "person"] = "organisation"
    organisation_size: Annotated[str, Field(max_length=50)] = ""
    founding_date: date | None = None
    tax_code: Annotated[str, Field(pattern=r"^[0-9-]{0,20}$")] = ""
    phone: Annotated[str, Field(pattern=r"^(\+?[0-9 ().-]{6,30})?$")] = ""
    email: Annotated[str, Field(pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$", max_length=254)] = ""
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
    kind: Literal["contact", "customer"] = "contact"
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
    party_type: Literal["organisation", "person"] | None = None
    organisation_size: Annotated[str, Field(max_length=50)] | None = None
    founding_date: date | None = None
    tax_code: Annotated[str, Field(pattern=r"^[0-9-]{0,20}$")] | None = None
    phone: Annotated[str, Field(pattern=r"^(\+?[0-9 ().-]{6,30})?$")] | None = None
    email: (
        Annotated[str, Field(pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$", max_length=254)] | None
    ) = None
    owner_id: Annotated[str, Field(max_length=100)] | None = None
    unit: Annotated[str, Field(max_length=50)] | None = None
    industry: Short | None = None
    source: Short | None = None
    description: Text | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    website: Short | None = None
    group: ContactGroup | None = None
    contact_persons: list[PersonIn] | None = Field(None, max_length=20)


class FileIn(Strict):
    filename: Annotated[str, Field(min_length=1, max_length=200)]
    content_base64: str


class FilesIn(Strict):
    files: list[FileIn] = Field(min_length=1, max_length=MAX_FILES + 1)


class CommentIn(Strict):
    text: Annotated[str, Field(max_length=5000)] = ""
    attachments: list[FileIn] = Field(default_factory=list, max_length=MAX_FILES + 1)


class LabelsIn(Strict):
    labels: list[Slug] = Field(max_length=20)


class PortraitIn(Strict):
    attributes: dict[str, Annotated[str, Field(max_length=500)]] = Field(max_length=50)

    @field_validator("attributes")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for name in value:
            # No "." or "$": the attributes are stored as document keys.
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,49}", name):
                raise ValueError(f"attribute name {name!r}: letters, digits, space, _ or -")
        return value


class CareActionIn(Strict):
    care_type_id: Slug
    value: StrictInt = Field(0, ge=0, le=1_000_000_000_000)
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


class CareReasonIn(Strict):
    id: Slug
    name: Annotated[str, Field(min_length=1, max_length=200)]
    care_type_id: Slug


class ActivityIn(Strict):
    contact_id: Annotated[str, Field(min_length=1, max_length=100)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    care_type_id: Slug
    reason_id: Slug | None = None
    value: StrictInt = Field(0, ge=0, le=1_000_000_000_000)
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


def _svc(request: Request[Any, Any, Any]) -> CrmService:
    return request.app.state.crm  # type: ignore[no-any-return]


async def _staff(request: Request[Any, Any, Any]) -> Principal:
    principal = await principal_from(request)
    CrmService.require_staff(principal)
    return principal


class _LoyaltyAndTimeline(Controller):
    """Routes shared by contacts and customers (a customer is a contact of kind customer)."""

    @get("/{contact_id:str}/level")
    async def level(self, request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Any:
        return await _svc(request).why_level(await _staff(request), contact_id)

    @get("/{contact_id:str}/timeline")
    async def timeline(
        self,
        request: Request[Any, Any, Any],
        contact_id: FromPath[str],
        limit: Limit = 50,
        offset: Offset = 0,
        context: TimelineContext = None,
    ) -> Any:
        return await _svc(request).contact_timeline(
            await _staff(request), contact_id, limit, offset, context=context
        )


class ContactsController(_LoyaltyAndTimeline):
    path = "/v1/crm/contacts"
    tags = ["crm"]
    request_max_body_size = MAX_BODY

    @get("/")
    async def list_contacts(
        self,
        request: Request[Any, Any, Any],
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
    ) -> dict[str, Any]:
        return await _svc(request).list_contacts(
            await _staff(request),
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
    async def create(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), ContactIn)
        return await _svc(request).create_contact(principal, data)

    @post("/bulk/assign", status_code=200)
    async def bulk_assign(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _staff(request)
        return await _svc(request).bulk_assign(
            principal, parse_json_body(await request.body(), BulkAssignIn)
        )

    @post("/bulk/labels", status_code=200)
    async def bulk_labels(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _staff(request)
        return await _svc(request).bulk_labels(
            principal, parse_json_body(await request.body(), BulkLabelsIn)
        )

    @post("/bulk/delete", status_code=200)
    async def bulk_delete(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _staff(request)
        return await _svc(request).bulk_delete(
            principal, parse_json_body(await request.body(), BulkDeleteIn)
        )

    @get("/{contact_id:str}")
    async def get_contact(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> dict[str, Any]:
        return await _svc(request).contact(await _staff(request), contact_id)

    @patch("/{contact_id:str}")
    async def update(self, request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Any:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), ContactPatch)
        return await _svc(request).update_contact(principal, contact_id, data)

    @delete("/{contact_id:str}", status_code=200)
    async def soft_delete(
        self,
        request: Request[Any, Any, Any],
        contact_id: FromPath[str],
        confirm: FromQuery[bool] = False,
    ) -> dict[str, Any]:
        return await _svc(request).delete(await _staff(request), contact_id, confirm)

    @post("/{contact_id:str}/restore", status_code=200)
    async def restore(self, request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Any:
        return await _svc(request).restore(await _staff(request), contact_id)

    @post("/{contact_id:str}/convert", status_code=200)
    async def convert(self, request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Any:
        return await _svc(request).convert(await _staff(request), contact_id)

    @put("/{contact_id:str}/labels")
    async def labels(self, request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Any:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), LabelsIn)
        return await _svc(request).set_labels(principal, contact_id, data.labels)

    @put("/{contact_id:str}/portrait")
    async def portrait(self, request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Any:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), PortraitIn)
        return await _svc(request).set_portrait(principal, contact_id, data.attributes)

    @post("/{contact_id:str}/attachments", status_code=201)
    async def attach(self, request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Any:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), FilesIn)
        return await _svc(request).attach(principal, contact_id, data.files)

    @get("/{contact_id:str}/attachments/{file_id:str}")
    async def attachment(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str], file_id: FromPath[str]
    ) -> Response[bytes]:
        content_type, filename, data = await _svc(request).file(
            await _staff(request), contact_id, file_id
        )
        return download(data, content_type, filename)

    @post("/{contact_id:str}/comments", status_code=201)
    async def comment(self, request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Any:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), CommentIn)
        return await _svc(request).comment(principal, contact_id, data)

    @post("/{contact_id:str}/care-actions", status_code=201)
    async def care_action(self, request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Any:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), CareActionIn)
        return await _svc(request).record_care_action(principal, contact_id, data)


class CustomersController(_LoyaltyAndTimeline):
    """Customers are contacts of kind `customer` (registered accounts or converted)."""

    path = "/v1/crm/customers"
    tags = ["crm"]

    @get("/")
    async def list_customers(
        self,
        request: Request[Any, Any, Any],
        limit: Limit = 20,
        offset: Offset = 0,
        group: FromQuery[ContactGroup | None] = None,
        list_scope: Annotated[
            Literal["all", "mine", "holding", "my_department"], QueryParameter(name="scope")
        ] = "all",
        label: Annotated[str | None, QueryParameter(max_length=50)] = None,
        level: Annotated[str | None, QueryParameter(max_length=50)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> dict[str, Any]:
        return await _svc(request).list_contacts(
            await _staff(request),
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
    async def get_customer(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> dict[str, Any]:
        found = await _svc(request).contact(await _staff(request), contact_id)
        if found["kind"] != "customer":
            raise ProblemError(404, "customer_not_found", "no such customer")
        return found


class CrmSettingsController(Controller):
    """Labels, care types and reasons, and level thresholds (changed by platform admins)."""

    path = "/v1/crm"
    tags = ["crm"]

    @get("/labels")
    async def list_labels(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        await _staff(request)
        return await _svc(request).labels.listing()

    @post("/labels", status_code=201)
    async def add_label(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), LabelIn)
        return await _svc(request).labels.put(principal, data.id, data.name)

    @get("/care-types")
    async def care_types(
        self,
        request: Request[Any, Any, Any],
        action: FromQuery[CareAction | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> dict[str, Any]:
        return await _svc(request).list_care_types(await _staff(request), action, q)

    @post("/care-types", status_code=201)
    async def add_care_type(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), CareTypeIn)
        return await _svc(request).add_care_type(principal, data)

    @get("/care-reasons")
    async def care_reasons(
        self,
        request: Request[Any, Any, Any],
        care_type_id: Annotated[str | None, QueryParameter(max_length=50)] = None,
    ) -> dict[str, Any]:
        return await _svc(request).list_care_reasons(await _staff(request), care_type_id)

    @post("/care-reasons", status_code=201)
    async def add_care_reason(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), CareReasonIn)
        return await _svc(request).add_care_reason(principal, data)

    @get("/levels")
    async def levels(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        await _staff(request)
        return await _svc(request).levels_view()

    @put("/levels", status_code=202)
    async def set_levels(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), LevelsIn)
        return await _svc(request).set_levels(principal, data.levels)


class ActivitiesController(Controller):
    path = "/v1/crm/care-activities"
    tags = ["crm"]

    @get("/")
    async def list_activities(
        self,
        request: Request[Any, Any, Any],
        limit: Limit = 20,
        offset: Offset = 0,
        list_scope: Annotated[
            Literal["all", "mine", "my_department", "today"], QueryParameter(name="scope")
        ] = "all",
        status: FromQuery[Literal["planned", "done", "cancelled"] | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> dict[str, Any]:
        return await _svc(request).list_activities(
            await _staff(request), scope=list_scope, status=status, q=q, limit=limit, offset=offset
        )

    @post("/", status_code=201)
    async def schedule(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), ActivityIn)
        return await _svc(request).schedule(principal, data)

    @get("/{activity_id:str}")
    async def get_activity(
        self, request: Request[Any, Any, Any], activity_id: FromPath[str]
    ) -> Any:
        return await _svc(request).activity(await _staff(request), activity_id)

    @post("/{activity_id:str}/complete", status_code=200)
    async def complete(self, request: Request[Any, Any, Any], activity_id: FromPath[str]) -> Any:
        principal = await _staff(request)
        data = parse_json_body(await request.body() or b"{}", OutcomeIn)
        return await _svc(request).complete(principal, activity_id, data.outcome)

    @post("/{activity_id:str}/cancel", status_code=200)
    async def cancel(self, request: Request[Any, Any, Any], activity_id: FromPath[str]) -> Any:
        principal = await _staff(request)
        data = parse_json_body(await request.body() or b"{}", CancelIn)
        return await _svc(request).cancel(principal, activity_id, data.reason)

    @post("/{activity_id:str}/comments", status_code=201)
    async def comment(self, request: Request[Any, Any, Any], activity_id: FromPath[str]) -> Any:
        principal = await _staff(request)
        data = parse_json_body(await request.body(), CommentIn)
        return await _svc(request).comment_activity(principal, activity_id, data)


class CustomerSideController(Controller):
    """What a customer sees of the CRM: their loyalty and their own timeline."""

    path = "/v1"
    tags = ["loyalty"]

    @get("/loyalty")
    async def loyalty(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return await _svc(request).loyalty(await principal_from(request))

    @get("/timeline")
    async def timeline(
        self,
        request: Request[Any, Any, Any],
        limit: Limit = 20,
        offset: Offset = 0,
        context: TimelineContext = None,
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        return await _svc(request).timeline_of(principal.account_id, limit, offset, context=context)
