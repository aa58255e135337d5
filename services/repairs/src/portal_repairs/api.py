"""The repairs service's internal HTTP API (reached through the gateway)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
)
from litestar.openapi.spec import RequestBody as OpenAPIRequestBody
from litestar.openapi.spec import Schema as OpenAPISchema
from litestar.params import FromPath, JSONBody, QueryParameter

from portal_chassis.auth import Principal
from portal_chassis.blobs import sniff
from portal_chassis.contract import PRINCIPAL, Limit, Offset, Page, use_cases
from portal_chassis.decider import TooLarge, UnsupportedContent
from portal_chassis.web import IdempotencyKey, download
from portal_repairs import intake, queries, workflow
from portal_repairs.contract import (
    BranchesOut,
    BranchIn,
    BranchOut,
    DiagnoseIn,
    QuoteIn,
    ReasonIn,
    ReceiveIn,
    RegistrationIn,
    RepairOut,
    RepairRowOut,
    ReturnIn,
    TransferIn,
)
from portal_repairs.deps import MAX_PHOTO_BYTES, Deps, PhotoStage

PHOTO_TYPES = ("image/png", "image/jpeg", "image/webp")

Repairs = NamedDependency[Deps]
RepairId = FromPath[str]
NoBody = JSONBody[ReasonIn | None]
"""Steps that need nothing more take an empty body, `{}` or an optional reason."""


def _photo_content() -> dict[str, OpenAPIMediaType]:
    binary = OpenAPISchema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
    return {t: OpenAPIMediaType(schema=binary) for t in PHOTO_TYPES}


# Photos travel as the raw image bytes both ways, which Litestar cannot describe from the
# signature: these two operations say so themselves.
@dataclass
class _PhotoUpload(Operation):
    def __post_init__(self) -> None:
        self.request_body = OpenAPIRequestBody(
            content=_photo_content(),
            description="The photo itself: PNG, JPEG or WebP, at most 5 MB",
            required=True,
        )


@dataclass
class _PhotoDownload(Operation):
    def __post_init__(self) -> None:
        if self.responses and "200" in self.responses:
            ok = self.responses["200"]
            assert isinstance(ok, OpenAPIResponse)
            ok.content = _photo_content()


class RepairsController(Controller):
    path = "/v1/repairs"
    tags = ["repairs"]
    dependencies = {"principal": PRINCIPAL, "deps": use_cases("repairs")}

    @post("/", status_code=201)
    async def register(
        self,
        data: JSONBody[RegistrationIn],
        principal: NamedDependency[Principal],
        deps: Repairs,
        idempotency_key: IdempotencyKey = None,
    ) -> RepairOut:
        return await intake.register(deps, principal, data, idempotency_key)

    @get("/")
    async def list_repairs(
        self,
        principal: NamedDependency[Principal],
        deps: Repairs,
        limit: Limit = 20,
        offset: Offset = 0,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        branch_id: Annotated[str | None, QueryParameter(max_length=50)] = None,
        technician_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
        serial: Annotated[str | None, QueryParameter(max_length=100)] = None,
        repair_number: Annotated[str | None, QueryParameter(max_length=40)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Page[RepairRowOut]:
        return await queries.list_repairs(
            deps,
            principal,
            limit=limit,
            offset=offset,
            q=q,
            filters={
                "status": status,
                "branch_id": branch_id,
                "technician_id": technician_id,
                "serial": serial,
                "repair_number": repair_number,
            },
        )

    @get("/branches")
    async def branches(self, principal: NamedDependency[Principal], deps: Repairs) -> BranchesOut:
        return await queries.branch_list(deps)

    @post("/branches", status_code=201)
    async def add_branch(
        self, data: JSONBody[BranchIn], principal: NamedDependency[Principal], deps: Repairs
    ) -> BranchOut:
        return await queries.add_branch(deps, principal, data)

    @get("/{repair_id:str}")
    async def get_repair(
        self, repair_id: RepairId, principal: NamedDependency[Principal], deps: Repairs
    ) -> RepairOut:
        return await queries.get(deps, principal, repair_id)

    @get("/{repair_id:str}/label", media_type="image/svg+xml")
    async def label(
        self, repair_id: RepairId, principal: NamedDependency[Principal], deps: Repairs
    ) -> Response[str]:
        svg = await queries.label(deps, principal, repair_id)
        return download(svg, "image/svg+xml", f"repair-{repair_id}.svg", inline=True)

    @post(
        "/{repair_id:str}/photos",
        status_code=201,
        request_max_body_size=MAX_PHOTO_BYTES + 1,
        operation_class=_PhotoUpload,
    )
    async def add_photo(
        self,
        request: Request[Any, Any, Any],
        repair_id: RepairId,
        principal: NamedDependency[Principal],
        deps: Repairs,
        stage: Annotated[PhotoStage, QueryParameter(description="when the photo was taken")] = (
            "intake"
        ),
    ) -> RepairOut:
        # The bytes are checked here, before any use case runs: too large or not an image
        # is a bad request, never a rule of the repair (the stage is typed above).
        data = await request.body()
        if len(data) > MAX_PHOTO_BYTES:
            raise TooLarge("file_too_large", "a photo is at most 5 MB")
        kind = sniff(data)
        if kind is None or kind[0] not in PHOTO_TYPES:
            raise UnsupportedContent("unsupported_file_type", "a photo must be PNG, JPEG or WebP")
        return await intake.add_photo(deps, principal, repair_id, data, kind, stage)

    @get("/{repair_id:str}/photos/{file_id:str}", operation_class=_PhotoDownload)
    async def photo(
        self,
        repair_id: RepairId,
        file_id: FromPath[str],
        principal: NamedDependency[Principal],
        deps: Repairs,
    ) -> Response[bytes]:
        content_type, filename, data = await queries.photo(deps, principal, repair_id, file_id)
        return download(data, content_type, filename)

    # --- the workflow, one route per step ---

    @post("/{repair_id:str}/receive", status_code=200)
    async def receive(
        self,
        repair_id: RepairId,
        data: JSONBody[ReceiveIn],
        principal: NamedDependency[Principal],
        deps: Repairs,
    ) -> RepairOut:
        return await workflow.receive(deps, principal, repair_id, data)

    @post("/{repair_id:str}/diagnose", status_code=200)
    async def diagnose(
        self,
        repair_id: RepairId,
        data: JSONBody[DiagnoseIn],
        principal: NamedDependency[Principal],
        deps: Repairs,
    ) -> RepairOut:
        return await workflow.diagnose(deps, principal, repair_id, data)

    @post("/{repair_id:str}/quote", status_code=200)
    async def quote(
        self,
        repair_id: RepairId,
        data: JSONBody[QuoteIn],
        principal: NamedDependency[Principal],
        deps: Repairs,
    ) -> RepairOut:
        return await workflow.quote(deps, principal, repair_id, data)

    @post("/{repair_id:str}/approve", status_code=200)
    async def approve(
        self,
        repair_id: RepairId,
        principal: NamedDependency[Principal],
        deps: Repairs,
        data: NoBody = None,
    ) -> RepairOut:
        return await workflow.approve(deps, principal, repair_id)

    @post("/{repair_id:str}/reject", status_code=200)
    async def reject(
        self,
        repair_id: RepairId,
        principal: NamedDependency[Principal],
        deps: Repairs,
        data: NoBody = None,
    ) -> RepairOut:
        return await workflow.reject(deps, principal, repair_id, data or ReasonIn())

    @post("/{repair_id:str}/start", status_code=200)
    async def start(
        self,
        repair_id: RepairId,
        principal: NamedDependency[Principal],
        deps: Repairs,
        data: NoBody = None,
    ) -> RepairOut:
        return await workflow.start(deps, principal, repair_id)

    @post("/{repair_id:str}/ready", status_code=200)
    async def ready(
        self,
        repair_id: RepairId,
        principal: NamedDependency[Principal],
        deps: Repairs,
        data: NoBody = None,
    ) -> RepairOut:
        return await workflow.ready(deps, principal, repair_id)

    @post("/{repair_id:str}/return", status_code=200)
    async def return_device(
        self,
        repair_id: RepairId,
        data: JSONBody[ReturnIn],
        principal: NamedDependency[Principal],
        deps: Repairs,
    ) -> RepairOut:
        return await workflow.return_device(deps, principal, repair_id, data)

    @post("/{repair_id:str}/cancel", status_code=200)
    async def cancel(
        self,
        repair_id: RepairId,
        principal: NamedDependency[Principal],
        deps: Repairs,
        data: NoBody = None,
    ) -> RepairOut:
        return await workflow.cancel(deps, principal, repair_id, data or ReasonIn())

    @post("/{repair_id:str}/transfer", status_code=200)
    async def transfer(
        self,
        repair_id: RepairId,
        data: JSONBody[TransferIn],
        principal: NamedDependency[Principal],
        deps: Repairs,
    ) -> RepairOut:
        return await workflow.transfer(deps, principal, repair_id, data)
