"""Run a repair's staff or customer step, keeping its list row and the serials it
returned (for warranty repairs) current."""

from __future__ import annotations

from portal_chassis.auth import Principal
from portal_chassis.commands import Outcome
from portal_chassis.decider import NotFound
from portal_chassis.mongo import replace_by_id
from portal_chassis.projection import upsert_if_newer
from portal_chassis.usecases import meta
from portal_contracts.events.repairs import RepairReturned
from portal_repairs import domain, queries
from portal_repairs.contract import RepairOut
from portal_repairs.deps import STAFF, Deps, serial_key
from portal_repairs.domain import Repair


async def act(
    deps: Deps, principal: Principal, repair_id: str, command: domain.Command
) -> RepairOut:
    state, _ = await deps.runner.load(domain.stream_id(repair_id))
    customer_step = isinstance(command, domain.ApproveQuote | domain.RejectQuote) or (
        isinstance(command, domain.CancelRepair) and command.account_id is not None
    )
    if not customer_step:
        STAFF.require(principal)
    elif state.status == "none" or state.account_id != principal.account_id:
        raise NotFound("repair_not_found", "no such repair")
    if isinstance(command, domain.ReceiveRepair | domain.TransferRepair):
        await deps.branches.require(
            command.branch_id if isinstance(command, domain.ReceiveRepair) else command.to_branch_id
        )
    outcome = await deps.runner.run(
        domain.stream_id(repair_id),
        command,
        metadata=meta(state.account_id, principal.user_id),
    )
    await refresh_view(deps, outcome)
    if outcome.commit is not None:
        for stored in outcome.commit.events:
            if isinstance(stored.event, RepairReturned):
                await replace_by_id(
                    deps.serials,
                    serial_key(outcome.state.serial),
                    {"repair_id": repair_id, "returned_at": stored.event.occurred_at},
                )
    return await queries.get(deps, principal, repair_id)


async def refresh_view(deps: Deps, outcome: Outcome[Repair]) -> None:
    """The list row of a repair, rewritten from its state (newer versions win)."""
    state = outcome.state
    now = deps.clock.now()
    row = {**state.model_dump(mode="json"), "version": outcome.version, "updated_at": now}
    await upsert_if_newer(
        deps.view, state.repair_id, outcome.version, row, on_insert={"created_at": now}
    )
