"""Opening a ticket: once per Idempotency-Key, its attachments and number allocated only
after the rules accepted it."""

from __future__ import annotations

from dataclasses import replace

from portal_chassis.auth import Principal
from portal_chassis.numbers import claim_number
from portal_chassis.usecases import acting_account, meta
from portal_tickets import domain, queries, streams
from portal_tickets.deps import STAFF, Deps, check_files, store_files
from portal_tickets.schemas import OpenTicketIn, TicketOut


async def open(
    deps: Deps, principal: Principal, data: OpenTicketIn, idempotency_key: str | None
) -> TicketOut:
    staff = STAFF.held_by(principal)
    account_id = acting_account(
        principal,
        data.account_id,
        staff=staff,
        unnamed="staff opening a ticket name the customer's account",
        not_own="customers open their own tickets",
    )
    await deps.departments.require(data.department)
    checked = check_files(data.attachments)
    if data.related_code and deps.codes is not None:
        await deps.codes.check(principal, data.related_code, account_id)

    def command(ticket_id: str) -> domain.Command:
        return domain.OpenTicket(
            actor=principal.user_id,
            now=deps.clock.now(),
            ticket_id=ticket_id,
            ticket_number="pending",
            account_id=account_id,
            department=data.department,
            title=data.title,
            request_type=data.request_type,
            priority=data.priority,
            content=data.content,
            related_code=data.related_code,
            opened_by_staff=staff,
        )

    async def allocate(command: domain.Command) -> domain.Command:
        assert isinstance(command, domain.OpenTicket)
        attachments = await store_files(deps, checked, account_id)
        number = await claim_number(
            deps.numbers, deps.settings.number_prefix, deps.clock.now().year
        )
        return replace(command, ticket_number=number, attachments=attachments)

    started = await deps.starts.start(
        deps.runner,
        new_id=deps.new_id(),
        stream_of=domain.stream_id,
        command=command,
        key=f"{account_id}|{idempotency_key}" if idempotency_key else None,
        fingerprint="",  # the first ticket under a key answers every later request
        allocate=allocate,
        metadata=meta(account_id, principal.user_id),
    )
    if started.created:
        await streams.refresh_view(deps, started.outcome)
    return await queries.get(deps, principal, started.id)
