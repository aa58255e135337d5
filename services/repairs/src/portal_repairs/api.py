"""The repairs service's internal HTTP API (reached through the gateway)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from portal_chassis.auth import Principal, principal_from
from portal_chassis.problems import ProblemError, parse_json_body
from portal_chassis.web import IdempotencyKey, download
from portal_contracts.events.repairs import Condition, QuoteLine
from portal_repairs import domain
from portal_repairs.handlers import MAX_PHOTO_BYTES, RepairsService

Text = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConditionIn(Strict):
    checklist: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=30
    )
    notes: Annotated[str, Field(max_length=2000)] = ""

    def to_event(self) -> Condition:
        return Condition(checklist=self.checklist, notes=self.notes)


class Registration(Strict):
    account_id: Annotated[str, Field(max_length=100)] | None = None
    """Only for staff registering at the counter on a customer's behalf."""
    model: Text
    serial: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9 ._/-]+$")]
    problem: Annotated[str, Field(min_length=1, max_length=4000)]
    adapter_included: StrictBool
    condition: ConditionIn = Field(default_factory=ConditionIn)
    delivery_method: Literal["drop_off", "courier_pickup"]
    delivery_date: date
    deliverer_name: Text
    deliverer_contact: Annotated[str, Field(min_length=6, max_length=30)]
    branch_id: Annotated[str, Field(min_length=1, max_length=50)]
    return_method: Literal["pickup", "shipping"]
    return_address: Annotated[str, Field(max_length=500)] | None = None


class Receive(Strict):
    branch_id: Annotated[str, Field(min_length=1, max_length=50)]
    condition: ConditionIn = Field(default_factory=ConditionIn)


class Diagnose(Strict):
    technician_id: Text


class QuoteLineIn(Strict):
    description: Text
    amount: StrictInt = Field(ge=0)


class Quote(Strict):
    parts: list[QuoteLineIn] = Field(default_factory=list, max_length=50)
    labour: StrictInt = Field(ge=0)


class Reason(Strict):
    reason: Annotated[str, Field(max_length=1000)] = ""


class ReturnIn(Strict):
    method: Literal["counter", "shipped"]
    carrier: Annotated[str, Field(max_length=100)] | None = None
    tracking_number: Annotated[str, Field(max_length=100)] | None = None
    condition: ConditionIn = Field(default_factory=ConditionIn)


class Transfer(Strict):
    to_branch_id: Annotated[str, Field(min_length=1, max_length=50)]


class Branch(Strict):
    id: Annotated[str, Field(pattern=r"^[A-Z0-9-]{2,20}$")]
    name: Text


def _svc(request: Request[Any, Any, Any]) -> RepairsService:
    return request.app.state.repairs  # type: ignore[no-any-return]


async def _body(request: Request[Any, Any, Any], model: type[Any]) -> Any:
    return parse_json_body(await request.body() or b"{}", model)


class RepairsController(Controller):
    path = "/v1/repairs"
    tags = ["repairs"]

    @post("/", status_code=201)
    async def register(
        self, request: Request[Any, Any, Any], idempotency_key: IdempotencyKey = None
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), Registration)
        return await _svc(request).register(principal, data, idempotency_key)

    @get("/")
    async def list_repairs(
        self,
        request: Request[Any, Any, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        branch_id: Annotated[str | None, QueryParameter(max_length=50)] = None,
        technician_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
        serial: Annotated[str | None, QueryParameter(max_length=100)] = None,
        repair_number: Annotated[str | None, QueryParameter(max_length=40)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        return await _svc(request).list(
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
    async def branches(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        await principal_from(request)
        return await _svc(request).branches.listing()

    @post("/branches", status_code=201)
    async def add_branch(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), Branch)
        return await _svc(request).branches.put(principal, data.id, data.name)

    @get("/{repair_id:str}")
    async def get_repair(
        self, request: Request[Any, Any, Any], repair_id: FromPath[str]
    ) -> dict[str, Any]:
        return await _svc(request).get(await principal_from(request), repair_id)

    @get("/{repair_id:str}/label")
    async def label(
        self, request: Request[Any, Any, Any], repair_id: FromPath[str]
    ) -> Response[str]:
        svg = await _svc(request).label(await principal_from(request), repair_id)
        return download(svg, "image/svg+xml", f"repair-{repair_id}.svg", inline=True)

    @post("/{repair_id:str}/photos", status_code=201, request_max_body_size=MAX_PHOTO_BYTES + 1)
    async def add_photo(
        self,
        request: Request[Any, Any, Any],
        repair_id: FromPath[str],
        stage: Annotated[str, QueryParameter(max_length=20)] = "intake",
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        return await _svc(request).add_photo(principal, repair_id, await request.body(), stage)

    @get("/{repair_id:str}/photos/{file_id:str}")
    async def photo(
        self, request: Request[Any, Any, Any], repair_id: FromPath[str], file_id: FromPath[str]
    ) -> Response[bytes]:
        content_type, filename, data = await _svc(request).photo(
            await principal_from(request), repair_id, file_id
        )
        return download(data, content_type, filename)

    @post("/{repair_id:str}/{action:str}", status_code=200)
    async def act(
        self, request: Request[Any, Any, Any], repair_id: FromPath[str], action: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        command = await _command(request, principal, action)
        return await _svc(request).act(principal, repair_id, command)


async def _command(
    request: Request[Any, Any, Any], principal: Principal, action: str
) -> domain.Command:
    svc = _svc(request)
    actor, now = principal.user_id, svc.clock.now()
    match action:
        case "receive":
            r = await _body(request, Receive)
            return domain.ReceiveRepair(
                actor=actor, now=now, branch_id=r.branch_id, condition=r.condition.to_event()
            )
        case "diagnose":
            d = await _body(request, Diagnose)
            return domain.StartDiagnosis(actor=actor, now=now, technician_id=d.technician_id)
        case "quote":
            q = await _body(request, Quote)
            return domain.QuoteRepair(
                actor=actor,
                now=now,
                labour=q.labour,
                currency=svc.settings.currency,
                parts=tuple(QuoteLine(description=p.description, amount=p.amount) for p in q.parts),
            )
        case "approve":
            await _body(request, Reason)
            return domain.ApproveQuote(actor=actor, now=now, account_id=principal.account_id)
        case "reject":
            r2 = await _body(request, Reason)
            return domain.RejectQuote(
                actor=actor, now=now, account_id=principal.account_id, reason=r2.reason
            )
        case "start":
            await _body(request, Reason)
            return domain.StartRepair(actor=actor, now=now)
        case "ready":
            await _body(request, Reason)
            return domain.MarkReady(actor=actor, now=now)
        case "return":
            ret = await _body(request, ReturnIn)
            return domain.ReturnDevice(
                actor=actor,
                now=now,
                method=ret.method,
                carrier=ret.carrier,
                tracking_number=ret.tracking_number,
                condition=ret.condition.to_event(),
            )
        case "cancel":
            c = await _body(request, Reason)
            owner = None if svc.is_staff(principal) else principal.account_id
            return domain.CancelRepair(actor=actor, now=now, account_id=owner, reason=c.reason)
        case "transfer":
            t = await _body(request, Transfer)
            return domain.TransferRepair(actor=actor, now=now, to_branch_id=t.to_branch_id)
    raise ProblemError(404, "unknown_action", f"no repair action {action!r}")
