"""Repair use cases: intake, the staff workflow, the customer's decisions, queries."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal

import segno
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.auth import Principal
from portal_chassis.blobs import BlobStore
from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner, Outcome
from portal_chassis.contract import Page, paginate
from portal_chassis.decider import DomainError, Forbidden, NotFound
from portal_chassis.eventstore import CommitMetadata, EventStore, request_fingerprint
from portal_chassis.mongo import ensure_read_model_indexes, index, replace_by_id
from portal_chassis.numbers import claim_number
from portal_chassis.projection import upsert_if_newer
from portal_chassis.reference import ReferenceList
from portal_chassis.starts import StreamStarts
from portal_contracts.events.repairs import (
    QuoteLine,
    RepairEvent,
    RepairRegistered,
    RepairReturned,
)
from portal_repairs import domain
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
from portal_repairs.domain import Repair
from portal_repairs.settings import RepairsSettings

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PhotoStage = Literal["intake", "receive", "return"]
STAFF_ROLES = frozenset({"technician", "support_agent", "platform_admin"})
DEFAULT_BRANCHES = {"HCM-Q1": "Ho Chi Minh City, District 1", "HN-CG": "Ha Noi, Cau Giay"}
_SERIAL_SPACE = re.compile(r"\s+")
READ_MODEL_INDEXES = {
    "repairs_view": [
        index("account_updated", "account_id", "-updated_at"),
        index("status_updated", "status", "-updated_at"),
        index("branch_updated", "branch_id", "-updated_at"),
        index("technician_updated", "technician_id", "-updated_at"),
        index("serial", "serial"),
    ],
}


def serial_key(serial: str) -> str:
    return _SERIAL_SPACE.sub("", serial).upper()


class RepairsService:
    def __init__(
        self,
        store: EventStore,
        db: AsyncDatabase[dict[str, Any]],
        settings: RepairsSettings,
        clock: Clock,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.store = store
        self.runner: CommandRunner[domain.Command, Repair] = CommandRunner(
            store, domain.repair_decider, "repair"
        )
        self.db = db
        self.settings = settings
        self.clock = clock
        self.new_id = new_id
        self.view = db["repairs_view"]
        self.branches = ReferenceList(db["branches"], "branch", DEFAULT_BRANCHES)
        self.numbers = db["repair_numbers"]
        self.starts = StreamStarts(db["registrations"], id_field="repair_id")  # key -> repair
        self.serials = db["serials"]
        self.blobs = BlobStore(db, "photos")

    async def setup(self) -> None:
        await ensure_read_model_indexes(self.db, READ_MODEL_INDEXES)
        await self.blobs.setup()
        await self.branches.seed()

    def _meta(self, account_id: str, actor: str) -> CommitMetadata:
        return CommitMetadata.current(tenant=account_id, actor=actor)

    @staticmethod
    def is_staff(principal: Principal) -> bool:
        return bool(principal.roles & STAFF_ROLES)

    def _require_staff(self, principal: Principal) -> None:
        if not self.is_staff(principal):
            raise Forbidden("forbidden", "this step is done by repair staff")

    async def _branch(self, branch_id: str) -> None:
        await self.branches.require(branch_id)

    async def _allocate_number(self) -> str:
        """RP-<year>-<6 digits>, unique under concurrency."""
        return await claim_number(self.numbers, self.settings.number_prefix, self.clock.now().year)

    async def _warranty_of(self, serial: str) -> str | None:
        doc = await self.serials.find_one({"_id": serial_key(serial)})
        if doc is None:
            return None
        window = timedelta(days=self.settings.warranty_days)
        return str(doc["repair_id"]) if self.clock.now() - doc["returned_at"] <= window else None

    async def register(
        self, principal: Principal, data: RegistrationIn, idempotency_key: str | None
    ) -> RepairOut:
        if self.is_staff(principal):
            if not data.account_id:
                raise DomainError(
                    "account_required", "staff registering at the counter name the customer account"
                )
            account_id = data.account_id
        else:
            if data.account_id and data.account_id != principal.account_id:
                raise Forbidden("forbidden", "customers register their own devices")
            account_id = principal.account_id
        await self._branch(data.branch_id)
        fingerprint = request_fingerprint({"op": "register", **data.model_dump(mode="json")})
        warranty_of = await self._warranty_of(data.serial)

        def command(repair_id: str) -> domain.Command:
            return domain.RegisterRepair(
                actor=principal.user_id,
                now=self.clock.now(),
                repair_id=repair_id,
                repair_number="pending",
                account_id=account_id,
                branch_id=data.branch_id,
                model=data.model,
                serial=data.serial.strip(),
                problem=data.problem,
                adapter_included=data.adapter_included,
                condition=data.condition.to_event(),
                delivery_method=data.delivery_method,
                delivery_date=data.delivery_date,
                deliverer_name=data.deliverer_name,
                deliverer_contact=data.deliverer_contact,
                return_method=data.return_method,
                return_address=data.return_address,
                warranty_of=warranty_of,
            )

        async def numbered(command: domain.Command) -> domain.Command:
            assert isinstance(command, domain.RegisterRepair)
            return replace(command, repair_number=await self._allocate_number())

        started = await self.starts.start(
            self.runner,
            new_id=self.new_id(),
            stream_of=domain.stream_id,
            command=command,
            key=f"{account_id}|{idempotency_key}" if idempotency_key else None,
            fingerprint=fingerprint,
            allocate=numbered,
            metadata=self._meta(account_id, principal.user_id),
        )
        if started.created:
            await self._refresh_view(started.outcome)
        return await self.get(principal, started.id)

    # --- the workflow: one use case per step, each turning its input into a command ---

    async def receive(self, principal: Principal, repair_id: str, data: ReceiveIn) -> RepairOut:
        command = domain.ReceiveRepair(
            actor=principal.user_id,
            now=self.clock.now(),
            branch_id=data.branch_id,
            condition=data.condition.to_event(),
        )
        return await self._act(principal, repair_id, command)

    async def diagnose(self, principal: Principal, repair_id: str, data: DiagnoseIn) -> RepairOut:
        command = domain.StartDiagnosis(
            actor=principal.user_id, now=self.clock.now(), technician_id=data.technician_id
        )
        return await self._act(principal, repair_id, command)

    async def quote(self, principal: Principal, repair_id: str, data: QuoteIn) -> RepairOut:
        command = domain.QuoteRepair(
            actor=principal.user_id,
            now=self.clock.now(),
            labour=data.labour,
            currency=self.settings.currency,
            parts=tuple(QuoteLine(description=p.description, amount=p.amount) for p in data.parts),
        )
        return await self._act(principal, repair_id, command)

    async def approve(self, principal: Principal, repair_id: str) -> RepairOut:
        command = domain.ApproveQuote(
            actor=principal.user_id, now=self.clock.now(), account_id=principal.account_id
        )
        return await self._act(principal, repair_id, command)

    async def reject(self, principal: Principal, repair_id: str, data: ReasonIn) -> RepairOut:
        command = domain.RejectQuote(
            actor=principal.user_id,
            now=self.clock.now(),
            account_id=principal.account_id,
            reason=data.reason,
        )
        return await self._act(principal, repair_id, command)

    async def start(self, principal: Principal, repair_id: str) -> RepairOut:
        command = domain.StartRepair(actor=principal.user_id, now=self.clock.now())
        return await self._act(principal, repair_id, command)

    async def ready(self, principal: Principal, repair_id: str) -> RepairOut:
        command = domain.MarkReady(actor=principal.user_id, now=self.clock.now())
        return await self._act(principal, repair_id, command)

    async def return_device(
        self, principal: Principal, repair_id: str, data: ReturnIn
    ) -> RepairOut:
        command = domain.ReturnDevice(
            actor=principal.user_id,
            now=self.clock.now(),
            method=data.method,
            carrier=data.carrier,
            tracking_number=data.tracking_number,
            condition=data.condition.to_event(),
        )
        return await self._act(principal, repair_id, command)

    async def cancel(self, principal: Principal, repair_id: str, data: ReasonIn) -> RepairOut:
        # A customer cancels their own repair; staff cancel any.
        owner = None if self.is_staff(principal) else principal.account_id
        command = domain.CancelRepair(
            actor=principal.user_id, now=self.clock.now(), account_id=owner, reason=data.reason
        )
        return await self._act(principal, repair_id, command)

    async def transfer(self, principal: Principal, repair_id: str, data: TransferIn) -> RepairOut:
        command = domain.TransferRepair(
            actor=principal.user_id, now=self.clock.now(), to_branch_id=data.to_branch_id
        )
        return await self._act(principal, repair_id, command)

    async def _act(
        self, principal: Principal, repair_id: str, command: domain.Command
    ) -> RepairOut:
        state, _ = await self.runner.load(domain.stream_id(repair_id))
        customer_step = isinstance(command, domain.ApproveQuote | domain.RejectQuote) or (
            isinstance(command, domain.CancelRepair) and command.account_id is not None
        )
        if not customer_step:
            self._require_staff(principal)
        elif state.status == "none" or state.account_id != principal.account_id:
            raise NotFound("repair_not_found", "no such repair")
        if isinstance(command, domain.ReceiveRepair | domain.TransferRepair):
            await self._branch(
                command.branch_id
                if isinstance(command, domain.ReceiveRepair)
                else command.to_branch_id
            )
        outcome = await self.runner.run(
            domain.stream_id(repair_id),
            command,
            metadata=self._meta(state.account_id, principal.user_id),
        )
        await self._refresh_view(outcome)
        if outcome.commit is not None:
            for stored in outcome.commit.events:
                if isinstance(stored.event, RepairReturned):
                    await replace_by_id(
                        self.serials,
                        serial_key(outcome.state.serial),
                        {"repair_id": repair_id, "returned_at": stored.event.occurred_at},
                    )
        return await self.get(principal, repair_id)

    async def add_photo(
        self,
        principal: Principal,
        repair_id: str,
        data: bytes,
        kind: tuple[str, str],
        stage: PhotoStage,
    ) -> RepairOut:
        """`kind` is the (content type, extension) the entrypoint sniffed from `data`."""
        state, _ = await self.runner.load(domain.stream_id(repair_id))
        staff = self.is_staff(principal)
        if state.status == "none" or (not staff and state.account_id != principal.account_id):
            raise NotFound("repair_not_found", "no such repair")
        command = domain.AddPhoto(
            actor=principal.user_id,
            now=self.clock.now(),
            account_id=None if staff else principal.account_id,
            file_id="pending",
            content_type=kind[0],
            size=len(data),
            stage=stage,
        )
        domain.decide(command, state)  # refuse before storing the bytes
        stored = await self.blobs.put(data, kind[0], kind[1], state.account_id, self.clock.now())
        outcome = await self.runner.run(
            domain.stream_id(repair_id),
            replace(command, file_id=stored.file_id),
            metadata=self._meta(state.account_id, principal.user_id),
        )
        await self._refresh_view(outcome)
        return await self.get(principal, repair_id)

    async def photo(
        self, principal: Principal, repair_id: str, file_id: str
    ) -> tuple[str, str, bytes]:
        repair = await self.get(principal, repair_id)  # 404 unless the caller may see it
        if file_id not in {c.file_id for c in repair.custody}:
            raise NotFound("photo_not_found", "no such photo")
        found = await self.blobs.get(file_id, repair.account_id)
        if found is None:
            raise NotFound("photo_not_found", "no such photo")
        stored, data = found
        return stored.content_type, stored.filename, data

    async def branch_list(self) -> BranchesOut:
        return BranchesOut.model_validate(await self.branches.listing())

    async def add_branch(self, principal: Principal, data: BranchIn) -> BranchOut:
        return BranchOut.model_validate(await self.branches.put(principal, data.id, data.name))

    async def _refresh_view(self, outcome: Outcome[Repair]) -> None:
        """The list row of a repair, rewritten from its state (newer versions win)."""
        state = outcome.state
        now = self.clock.now()
        row = {**state.model_dump(mode="json"), "version": outcome.version, "updated_at": now}
        await upsert_if_newer(
            self.view, state.repair_id, outcome.version, row, on_insert={"created_at": now}
        )

    async def get(self, principal: Principal, repair_id: str) -> RepairOut:
        state, version = await self.runner.load(domain.stream_id(repair_id))
        if state.status == "none" or (
            not self.is_staff(principal) and state.account_id != principal.account_id
        ):
            raise NotFound("repair_not_found", "no such repair")
        events = await self.store.read_stream(domain.stream_id(repair_id))
        registered = next(e.event for e in events if isinstance(e.event, RepairRegistered))
        assert isinstance(registered, RepairRegistered)
        return RepairOut.model_validate(
            {
                "id": state.repair_id,
                "repair_number": state.repair_number,
                "account_id": state.account_id,
                "status": state.status,
                "step": domain.STEPS.index(state.status) + 1
                if state.status in domain.STEPS
                else None,
                "model": state.model,
                "serial": state.serial,
                "branch_id": state.branch_id,
                "technician_id": state.technician_id,
                "quote": {"amount": state.quote_amount, "currency": state.currency}
                if state.quote_amount is not None
                else None,
                "approved_amount": state.approved_amount,
                "warranty": state.warranty,
                "warranty_of": registered.warranty_of,
                "problem": registered.problem,
                "adapter_included": registered.adapter_included,
                "delivery": {
                    "method": registered.delivery_method,
                    "date": registered.delivery_date,
                    "deliverer_name": registered.deliverer_name,
                },
                "return": {
                    "method": registered.return_method,
                    "address": registered.return_address,
                },
                "custody": [custody_entry(e.event) for e in events],
                "version": version,
                "label_url": f"/api/v1/repairs/{state.repair_id}/label",
            }
        )

    async def list(
        self,
        principal: Principal,
        *,
        limit: int,
        offset: int,
        filters: dict[str, str | None],
        q: str | None,
    ) -> Page[RepairRowOut]:
        query: dict[str, Any] = {k: v for k, v in filters.items() if v}
        if not self.is_staff(principal):
            query["account_id"] = principal.account_id
        if q:
            pattern = re.escape(q.strip())
            query["$or"] = [
                {"repair_number": {"$regex": pattern, "$options": "i"}},
                {"serial": {"$regex": pattern, "$options": "i"}},
                {"model": {"$regex": pattern, "$options": "i"}},
            ]
        total = await self.view.count_documents(query)
        rows = []
        async for row in (
            self.view.find(query).sort([("updated_at", DESCENDING)]).skip(offset).limit(limit)
        ):
            row["id"] = row.pop("_id")
            row.pop("repair_id", None)
            rows.append(RepairRowOut.model_validate(row))
        return paginate(rows, total, limit, offset)

    async def label(self, principal: Principal, repair_id: str) -> str:
        repair = await self.get(principal, repair_id)
        qr = segno.make(f"portal-repair:{repair.repair_number}", error="m")
        buffer = io.BytesIO()
        qr.save(buffer, kind="svg", scale=4, xmldecl=False, svgns=True)
        code = buffer.getvalue().decode()
        text = f"{repair.repair_number} | {repair.model} | S/N {repair.serial}"
        safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="220">'
            f'<g transform="translate(10,10)">{code}</g>'
            f'<text x="10" y="205" font-family="monospace" font-size="14">{safe}</text></svg>'
        )


def custody_entry(event: RepairEvent) -> dict[str, Any]:
    """One step of the chain of custody as the customer sees it."""
    entry: dict[str, Any] = {
        "event": event.event_type,
        "at": event.occurred_at,
        "by": event.actor,
        "branch_id": event.branch_id,
    }
    condition = getattr(event, "condition", None)
    if condition is not None:
        entry["condition"] = condition.model_dump()
    for name in (
        "technician_id",
        "amount",
        "currency",
        "method",
        "carrier",
        "tracking_number",
        "from_branch_id",
        "reason",
        "repaired",
        "file_id",
        "content_type",
        "stage",
    ):
        value = getattr(event, name, None)
        if value not in (None, ""):
            entry[name] = value
    return entry
