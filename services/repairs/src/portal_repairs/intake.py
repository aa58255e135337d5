"""Intake: registering a device (once per Idempotency-Key, its number allocated only
after the rules accepted it) and adding photos."""

from __future__ import annotations

from dataclasses import replace

from portal_chassis.auth import Principal
from portal_chassis.decider import NotFound
from portal_chassis.eventstore import request_fingerprint
from portal_chassis.usecases import acting_account, meta
from portal_repairs import domain, queries, streams
from portal_repairs.contract import RegistrationIn, RepairOut
from portal_repairs.deps import STAFF, Deps, PhotoStage, allocate_number, warranty_of


async def register(
    deps: Deps, principal: Principal, data: RegistrationIn, idempotency_key: str | None
) -> RepairOut:
    account_id = acting_account(
        principal,
        data.account_id,
        staff=STAFF.held_by(principal),
        unnamed="staff registering at the counter name the customer account",
        not_own="customers register their own devices",
    )
    await deps.branches.require(data.branch_id)
    fingerprint = request_fingerprint({"op": "register", **data.model_dump(mode="json")})
    earlier_repair = await warranty_of(deps, data.serial)

    def command(repair_id: str) -> domain.Command:
        return domain.RegisterRepair(
            actor=principal.user_id,
            now=deps.clock.now(),
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
            warranty_of=earlier_repair,
        )

    async def numbered(command: domain.Command) -> domain.Command:
        assert isinstance(command, domain.RegisterRepair)
        return replace(command, repair_number=await allocate_number(deps))

    started = await deps.starts.start(
        deps.runner,
        new_id=deps.new_id(),
        stream_of=domain.stream_id,
        command=command,
        key=f"{account_id}|{idempotency_key}" if idempotency_key else None,
        fingerprint=fingerprint,
        allocate=numbered,
        metadata=meta(account_id, principal.user_id),
    )
    if started.created:
        await streams.refresh_view(deps, started.outcome)
    return await queries.get(deps, principal, started.id)


# --- the workflow: one use case per step, each turning its input into a command ---


async def add_photo(
    deps: Deps,
    principal: Principal,
    repair_id: str,
    data: bytes,
    kind: tuple[str, str],
    stage: PhotoStage,
) -> RepairOut:
    """`kind` is the (content type, extension) the entrypoint sniffed from `data`."""
    state, _ = await deps.runner.load(domain.stream_id(repair_id))
    staff = STAFF.held_by(principal)
    if state.status == "none" or (not staff and state.account_id != principal.account_id):
        raise NotFound("repair_not_found", "no such repair")
    command = domain.AddPhoto(
        actor=principal.user_id,
        now=deps.clock.now(),
        account_id=None if staff else principal.account_id,
        file_id="pending",
        content_type=kind[0],
        size=len(data),
        stage=stage,
    )
    domain.decide(command, state)  # refuse before storing the bytes
    stored = await deps.blobs.put(data, kind[0], kind[1], state.account_id, deps.clock.now())
    outcome = await deps.runner.run(
        domain.stream_id(repair_id),
        replace(command, file_id=stored.file_id),
        metadata=meta(state.account_id, principal.user_id),
    )
    await streams.refresh_view(deps, outcome)
    return await queries.get(deps, principal, repair_id)
