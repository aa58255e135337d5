"""Public CRM routes, forwarded to the CRM service (staff only: the gateway's staff guard
refuses customers before forwarding, and the service checks roles again),
plus the customer's loyalty summary and own timeline."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath

from portal_chassis.auth import authenticated, staff_guard
from portal_gateway.upstream import forward_to, seg

SMALL = 64 * 1024
# Five attachments of 10 MB, base64-encoded, plus text.
WITH_FILES = 5 * (10 * 1024 * 1024 * 4 // 3 + 1024) + 256 * 1024


async def _forward(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    return await forward_to(request, "crm", path)


class CrmContactsController(Controller):
    path = "/api/v1/crm/contacts"
    tags = ["crm"]
    guards = [staff_guard]
    request_max_body_size = SMALL

    @get("/", summary="Contacts and customers (filters: kind, group, scope, label, q, deleted)")
    async def list_contacts(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/contacts")

    @post("/", status_code=201, summary="Create a contact (or a customer)")
    async def create_contact(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/contacts")

    @post(
        "/bulk/assign",
        status_code=200,
        summary="Assign leads: manual or round robin over a department",
    )
    async def assign_leads(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/contacts/bulk/assign")

    @post("/bulk/labels", status_code=200, summary="Add or remove labels on the selected contacts")
    async def change_labels_in_bulk(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/contacts/bulk/labels")

    @post(
        "/bulk/delete", status_code=200, summary="Soft-delete the selected contacts (confirm=true)"
    )
    async def delete_in_bulk(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/contacts/bulk/delete")

    @get(
        "/{contact_id:str}",
        summary="A contact: general, portrait, care history, attachments, comments",
    )
    async def contact(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}")

    @patch("/{contact_id:str}", summary="Change a contact's fields")
    async def update_contact(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}")

    @delete(
        "/{contact_id:str}",
        status_code=200,
        summary="Soft-delete (?confirm=true); an admin can restore",
    )
    async def delete_contact(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}")

    @post(
        "/{contact_id:str}/restore",
        status_code=200,
        summary="Platform admin: restore a deleted contact",
    )
    async def restore_contact(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}/restore")

    @post("/{contact_id:str}/convert", status_code=200, summary="Convert a contact to a customer")
    async def convert_to_customer(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}/convert")

    @put("/{contact_id:str}/labels", summary="Set the contact's labels")
    async def set_labels(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}/labels")

    @put("/{contact_id:str}/portrait", summary="Customer portrait: custom attributes")
    async def set_portrait(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}/portrait")

    @post(
        "/{contact_id:str}/attachments",
        status_code=201,
        request_max_body_size=WITH_FILES,
        summary="Attach documents (images or PDF, base64)",
    )
    async def attach_documents(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}/attachments")

    @get("/{contact_id:str}/attachments/{file_id:str}", summary="Download an attachment")
    async def download_attachment(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str], file_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(
            request, f"/v1/crm/contacts/{seg(contact_id)}/attachments/{seg(file_id)}"
        )

    @post(
        "/{contact_id:str}/comments",
        status_code=201,
        request_max_body_size=WITH_FILES,
        summary="Comment (with attachments)",
    )
    async def comment(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}/comments")

    @post(
        "/{contact_id:str}/care-actions",
        status_code=201,
        summary="Record a care action (points, money, call...)",
    )
    async def record_care_action(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}/care-actions")

    @get("/{contact_id:str}/level", summary="Why this level: thresholds and the money behind it")
    async def why_this_level(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}/level")

    @get("/{contact_id:str}/timeline", summary="Everything that happened to this customer")
    async def contact_timeline(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/contacts/{seg(contact_id)}/timeline")


class CrmCustomersController(Controller):
    path = "/api/v1/crm/customers"
    tags = ["crm"]
    guards = [staff_guard]
    request_max_body_size = SMALL

    @get("/", summary="Customers (filters: group, scope, label, level, q)")
    async def list_customers(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/customers")

    @get("/{contact_id:str}", summary="A customer")
    async def customer(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/customers/{seg(contact_id)}")

    @get("/{contact_id:str}/level", summary="Why this level")
    async def why_this_level(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/customers/{seg(contact_id)}/level")

    @get("/{contact_id:str}/timeline", summary="The customer's timeline (staff view)")
    async def customer_timeline(
        self, request: Request[Any, Any, Any], contact_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/customers/{seg(contact_id)}/timeline")


class CrmCareActivitiesController(Controller):
    path = "/api/v1/crm/care-activities"
    tags = ["crm"]
    guards = [staff_guard]
    request_max_body_size = SMALL

    @get("/", summary="Care activities (scope: all, mine, my_department, today; status; q)")
    async def list_activities(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/care-activities")

    @post("/", status_code=201, summary="Plan a care activity")
    async def plan_activity(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/care-activities")

    @get("/{activity_id:str}", summary="A care activity with its comments")
    async def activity(
        self, request: Request[Any, Any, Any], activity_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/care-activities/{seg(activity_id)}")

    @post(
        "/{activity_id:str}/complete",
        status_code=200,
        summary="Done (records its points or money action)",
    )
    async def complete_activity(
        self, request: Request[Any, Any, Any], activity_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/care-activities/{seg(activity_id)}/complete")

    @post("/{activity_id:str}/cancel", status_code=200, summary="Cancel a planned activity")
    async def cancel_activity(
        self, request: Request[Any, Any, Any], activity_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/care-activities/{seg(activity_id)}/cancel")

    @post(
        "/{activity_id:str}/comments",
        status_code=201,
        request_max_body_size=WITH_FILES,
        summary="Comment on an activity",
    )
    async def comment_on_activity(
        self, request: Request[Any, Any, Any], activity_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/crm/care-activities/{seg(activity_id)}/comments")


class CrmSettingsController(Controller):
    path = "/api/v1/crm"
    tags = ["crm"]
    guards = [staff_guard]
    request_max_body_size = SMALL

    @get("/labels", summary="Labels")
    async def list_labels(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/labels")

    @post("/labels", status_code=201, summary="Platform admin: add a label")
    async def add_label(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/labels")

    @get("/care-types", summary="Care types (filters: action, q)")
    async def list_care_types(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/care-types")

    @post(
        "/care-types",
        status_code=201,
        summary="Platform admin: add a care type (one of eight actions)",
    )
    async def add_care_type(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/care-types")

    @get("/care-reasons", summary="Care reasons (filter: care_type_id)")
    async def list_care_reasons(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/care-reasons")

    @post("/care-reasons", status_code=201, summary="Platform admin: add a care reason")
    async def add_care_reason(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/care-reasons")

    @get("/levels", summary="Customer levels: thresholds on accumulated money")
    async def levels(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/levels")

    @put(
        "/levels",
        status_code=202,
        summary="Platform admin: new thresholds; every level is recomputed in the background",
        description="The answer carries `recompute`; GET /levels shows its progress.",
    )
    async def set_levels(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/crm/levels")


class LoyaltyController(Controller):
    path = "/api/v1"
    tags = ["loyalty"]
    guards = [authenticated]

    @get("/loyalty", summary="My points, level and progress to the next level")
    async def loyalty(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/loyalty")

    @get(
        "/timeline",
        summary="Everything that happened to my account, newest first",
        description="Filters: context (identity, wallet, billing, tickets, repairs, crm); "
        "limit/offset.",
    )
    async def timeline(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/timeline")


CONTROLLERS = [
    CrmContactsController,
    CrmCustomersController,
    CrmCareActivitiesController,
    CrmSettingsController,
    LoyaltyController,
]
