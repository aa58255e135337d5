"""The repair workflow: one use case per step, each turning its input into a command."""

from __future__ import annotations

from portal_chassis.auth import Principal
from portal_contracts.events.repairs import QuoteLine
from portal_repairs import domain, streams
from portal_repairs.contract import (
    DiagnoseIn,
    QuoteIn,
    ReasonIn,
    ReceiveIn,
    RepairOut,
    ReturnIn,
    TransferIn,
)
from portal_repairs.deps import STAFF, Deps


async def receive(deps: Deps, principal: Principal, repair_id: str, data: ReceiveIn) -> RepairOut:
    command = domain.ReceiveRepair(
        actor=principal.user_id,
        now=deps.clock.now(),
        branch_id=data.branch_id,
        condition=data.condition.to_event(),
    )
    return await streams.act(deps, principal, repair_id, command)


async def diagnose(deps: Deps, principal: Principal, repair_id: str, data: DiagnoseIn) -> RepairOut:
    command = domain.StartDiagnosis(
        actor=principal.user_id, now=deps.clock.now(), technician_id=data.technician_id
    )
    return await streams.act(deps, principal, repair_id, command)


async def quote(deps: Deps, principal: Principal, repair_id: str, data: QuoteIn) -> RepairOut:
    command = domain.QuoteRepair(
        actor=principal.user_id,
        now=deps.clock.now(),
        labour=data.labour,
        currency=deps.settings.currency,
        parts=tuple(QuoteLine(description=p.description, amount=p.amount) for p in data.parts),
    )
    return await streams.act(deps, principal, repair_id, command)


async def approve(deps: Deps, principal: Principal, repair_id: str) -> RepairOut:
    command = domain.ApproveQuote(
        actor=principal.user_id, now=deps.clock.now(), account_id=principal.account_id
    )
    return await streams.act(deps, principal, repair_id, command)


async def reject(deps: Deps, principal: Principal, repair_id: str, data: ReasonIn) -> RepairOut:
    command = domain.RejectQuote(
        actor=principal.user_id,
        now=deps.clock.now(),
        account_id=principal.account_id,
        reason=data.reason,
    )
    return await streams.act(deps, principal, repair_id, command)


async def start(deps: Deps, principal: Principal, repair_id: str) -> RepairOut:
    command = domain.StartRepair(actor=principal.user_id, now=deps.clock.now())
    return await streams.act(deps, principal, repair_id, command)


async def ready(deps: Deps, principal: Principal, repair_id: str) -> RepairOut:
    command = domain.MarkReady(actor=principal.user_id, now=deps.clock.now())
    return await streams.act(deps, principal, repair_id, command)


async def return_device(
    deps: Deps, principal: Principal, repair_id: str, data: ReturnIn
) -> RepairOut:
    command = domain.ReturnDevice(
        actor=principal.user_id,
        now=deps.clock.now(),
        method=data.method,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        condition=data.condition.to_event(),
    )
    return await streams.act(deps, principal, repair_id, command)


async def cancel(deps: Deps, principal: Principal, repair_id: str, data: ReasonIn) -> RepairOut:
    # A customer cancels their own repair; staff cancel any.
    owner = None if STAFF.held_by(principal) else principal.account_id
    command = domain.CancelRepair(
        actor=principal.user_id, now=deps.clock.now(), account_id=owner, reason=data.reason
    )
    return await streams.act(deps, principal, repair_id, command)


async def transfer(deps: Deps, principal: Principal, repair_id: str, data: TransferIn) -> RepairOut:
    command = domain.TransferRepair(
        actor=principal.user_id, now=deps.clock.now(), to_branch_id=data.to_branch_id
    )
    return await streams.act(deps, principal, repair_id, command)
