"""Fed from other contexts' events: registered accounts, the staff directory, the timeline."""

from __future__ import annotations

from portal_chassis.mongo import update_by_id
from portal_chassis.projection import insert_once
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.crm import (
    ContactDetails,
)
from portal_contracts.events.identity import AccountRegistered, UserRegistered, UserRoleChanged
from portal_crm import domain
from portal_crm.deps import PLACEHOLDER, Deps, current_levels
from portal_crm.streams import run_contact
from portal_crm.timeline import timeline_entry


async def on_account_registered(deps: Deps, event: AccountRegistered) -> None:
    """A registered account becomes a customer (its contact id is the account id)."""
    details = ContactDetails(
        party_type="person" if event.kind == "person" else "organisation",
        name=event.name,
        email=event.email,
        source="portal_registration",
        group="warm",
    )
    known, _ = await deps.contacts.load(domain.contact_stream(event.account_id))
    if known.details is not None and known.details.source == PLACEHOLDER:
        await run_contact(
            deps,
            event.account_id,
            domain.UpdateContact(now=event.occurred_at, actor="registration", details=details),
            "registration",
        )
        return
    await run_contact(
        deps,
        event.account_id,
        domain.CreateContact(
            now=event.occurred_at,
            actor="registration",
            contact_id=event.account_id,
            kind="customer",
            details=details,
            account_id=event.account_id,
            levels=await current_levels(deps),
        ),
        "registration",
    )


async def on_staff_event(deps: Deps, event: DomainEvent) -> None:
    """Platform staff and their departments, for assignments (from identity's events)."""
    if isinstance(event, UserRegistered | UserRoleChanged) and event.account_id == "platform":
        await update_by_id(
            deps.staff,
            event.user_id,
            {
                "$set": {
                    "department": event.department,
                    "roles": list(event.platform_roles),
                    "active": bool(event.platform_roles),
                }
            },
        )


async def on_any_event(deps: Deps, envelope: EventEnvelope, event: DomainEvent) -> None:
    entry = timeline_entry(envelope, event)
    if entry is None:
        return
    await insert_once(deps.timeline, {"_id": envelope.id, **entry})  # redelivery: no-op
