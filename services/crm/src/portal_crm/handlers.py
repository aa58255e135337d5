"""CRM use cases: contacts and customers, leads, care, loyalty, the timeline."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.auth import Principal
from portal_chassis.blobs import BlobStore, CheckedUpload, check_uploads
from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner, Outcome
from portal_chassis.contract import FileIn, Page, paginate
from portal_chassis.decider import Conflict, DomainError, Forbidden, NotFound
from portal_chassis.eventstore import CommitMetadata, EventStore
from portal_chassis.logging import get_logger
from portal_chassis.mongo import ensure_read_model_indexes, index, replace_by_id, update_by_id
from portal_chassis.numbers import claim_slot
from portal_chassis.projection import insert_once, upsert_if_newer
from portal_chassis.reference import ReferenceList
from portal_chassis.relay import Lease
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.crm import (
    AccumulatedMoneyChanged,
    CareActionRecorded,
    CareActivityCancelled,
    CareActivityCompleted,
    CareActivityScheduled,
    CommentAdded,
    ContactCreated,
    ContactDetails,
    CustomerLevelChanged,
    DocumentAttached,
    FileRef,
    LeadAssigned,
    PointsChanged,
)
from portal_contracts.events.identity import AccountRegistered, UserRegistered, UserRoleChanged
from portal_crm import domain
from portal_crm.domain import Activity, Contact, Level
from portal_crm.schemas import (
    MAX_FILE_BYTES,
    MAX_FILES,
    ActivityIn,
    ActivityOut,
    ActivityRowOut,
    BulkAssignedOut,
    BulkAssignIn,
    BulkDeletedOut,
    BulkDeleteIn,
    BulkLabelledOut,
    BulkLabelsIn,
    CareActionIn,
    CareReasonIn,
    CareReasonOut,
    CareReasonsOut,
    CareTypeIn,
    CareTypeOut,
    CareTypesOut,
    CommentIn,
    ContactIn,
    ContactOut,
    ContactPatch,
    ContactRowOut,
    DeletedOut,
    LabelIn,
    LabelOut,
    LabelsOut,
    LevelIn,
    LevelsOut,
    LoyaltyOut,
    RecomputeOut,
    TimelineEntryOut,
)
from portal_crm.settings import CrmSettings
from portal_crm.timeline import timeline_entry

PLACEHOLDER = "billing_before_registration"
ADMIN = "platform_admin"
DEFAULT_LABELS = {
    "reputable": "Reputable",
    "regular": "Regular",
    "premium": "Premium",
    "hot": "Hot",
}
DEFAULT_CARE_TYPES = [
    ("give-points", "Give points", "give_points"),
    ("deduct-points", "Deduct points", "deduct_points"),
    ("give-money", "Give accumulated money", "give_money"),
    ("deduct-money", "Deduct accumulated money", "deduct_money"),
    ("call", "Call", "call"),
    ("message", "Message", "message"),
    ("email", "Email", "email"),
    ("receive-call", "Receive a call", "receive_call"),
]


def is_admin(principal: Principal) -> bool:
    return ADMIN in principal.roles


log = get_logger(__name__)


RECOMPUTE_JOB = "levels-recompute"
RECOMPUTE_BATCH = 200

READ_MODEL_INDEXES = {
    # lists are filtered by status first (active / deleted) and sorted by last change
    "contacts_view": [
        index("status_updated", "status", "-updated_at"),
        index("status_owner", "status", "owner_id", "-updated_at"),
        index("status_caretaker", "status", "caretaker_id", "-updated_at"),
        index("status_unit", "status", "unit", "-updated_at"),
        index("status_level", "status", "level"),
    ],
    "activities_view": [
        index("due", "due_at"),
        index("caretaker_due", "caretaker_id", "due_at"),
        index("department_due", "department", "due_at"),
    ],
    "timeline": [index("account_at", "account_id", "-at")],
    "staff_directory": [index("department_active", "department", "active")],
}


class CrmService:
    def __init__(
        self,
        store: EventStore,
        db: AsyncDatabase[dict[str, Any]],
        settings: CrmSettings,
        clock: Clock,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.store = store
        self.db = db
        self.settings = settings
        self.clock = clock
        self.new_id = new_id
        every = settings.snapshot_every
        self.contacts: CommandRunner[domain.ContactCommandT, Contact] = CommandRunner(
            store, domain.contact_decider, "contact", snapshot_every=every
        )
        self.activities: CommandRunner[domain.ActivityCommand, Activity] = CommandRunner(
            store, domain.activity_decider, "care", snapshot_every=every
        )
        self.contacts_view = db["contacts_view"]
        self.activities_view = db["activities_view"]
        self.timeline = db["timeline"]
        self.care_types = db["care_types"]
        self.care_reasons = db["care_reasons"]
        self.staff = db["staff_directory"]
        self.config = db["config"]
        self.jobs = db["jobs"]
        self.recompute_lease = Lease(db, "crm:levels-recompute", uuid.uuid4().hex, ttl=30.0)
        self.wake_recompute: Callable[[], None] = lambda: None
        """Set by the wiring: runs the recompute job now instead of at its next tick."""
        self.round_robin = db["round_robin"]
        self.labels = ReferenceList(db["labels"], "label", DEFAULT_LABELS)
        self.blobs = BlobStore(db, "files")

    async def setup(self) -> None:
        await ensure_read_model_indexes(self.db, READ_MODEL_INDEXES)
        await self.blobs.setup()
        await self.labels.seed()
        now = self.clock.now()
        for type_id, name, action in DEFAULT_CARE_TYPES:
            await update_by_id(
                self.care_types,
                type_id,
                {
                    "$setOnInsert": {
                        "name": name,
                        "action": action,
                        "created_by": "seed",
                        "created_at": now,
                    }
                },
            )

    def _meta(self, account_id: str | None, actor: str) -> CommitMetadata:
        return CommitMetadata.current(tenant=account_id or "platform", actor=actor)

    @staticmethod
    def require_staff(principal: Principal) -> None:
        if not principal.is_staff:
            raise Forbidden("forbidden", "the CRM is for platform staff")

    @staticmethod
    def require_admin(principal: Principal) -> None:
        if not is_admin(principal):
            raise Forbidden("forbidden", "only a platform admin does this")

    # ------------------------------------------------------------ levels

    async def levels(self) -> tuple[Level, ...]:
        doc = await self.config.find_one({"_id": "levels"})
        if doc is None:
            return domain.DEFAULT_LEVELS
        return tuple(Level(lv["name"], lv["min_accumulated"]) for lv in doc["levels"])

    async def levels_view(self) -> LevelsOut:
        return LevelsOut.model_validate(
            {
                "items": [
                    {"name": lv.name, "min_accumulated": lv.min_accumulated}
                    for lv in await self.levels()
                ],
                "currency": self.settings.currency,
                "recompute": await self.recompute_status(),
            }
        )

    async def levels_of(self, principal: Principal) -> LevelsOut:
        self.require_staff(principal)
        return await self.levels_view()

    async def set_levels(self, principal: Principal, levels: list[LevelIn]) -> LevelsOut:
        """New thresholds apply at once to money counted from now on; every customer's level
        is recomputed by a background job (a request could not wait for thousands)."""
        self.require_staff(principal)
        self.require_admin(principal)
        ordered = domain.check_levels([Level(lv.name, lv.min_accumulated) for lv in levels])
        version = self.new_id()
        await replace_by_id(
            self.config,
            "levels",
            {
                "levels": [
                    {"name": lv.name, "min_accumulated": lv.min_accumulated} for lv in ordered
                ],
                "version": version,
            },
        )
        # A newer change restarts the job from the first customer.
        await replace_by_id(
            self.jobs,
            RECOMPUTE_JOB,
            {
                "version": version,
                "after": "",
                "checked": 0,
                "changed": 0,
                "done": False,
                "by": principal.user_id,
                "started_at": self.clock.now(),
            },
        )
        self.wake_recompute()
        return await self.levels_view()

    async def recompute_status(self) -> RecomputeOut | None:
        job = await self.jobs.find_one({"_id": RECOMPUTE_JOB})
        if job is None:
            return None
        return RecomputeOut(
            status="done" if job["done"] else "running",
            customers_checked=job["checked"],
            customers_changed=job["changed"],
            started_at=job["started_at"],
            finished_at=job.get("finished_at"),
        )

    async def recompute_levels(self) -> int:
        """The background job: recompute levels batch by batch until done; returns batches.

        One replica at a time (a lease); progress is kept after every batch, so a restart
        goes on where it stopped. Recomputing a customer twice changes nothing.
        """
        batches = 0
        while await self._recompute_batch():
            batches += 1
        return batches

    async def _recompute_batch(self) -> bool:
        job = await self.jobs.find_one({"_id": RECOMPUTE_JOB})
        if job is None or job["done"] or not await self.recompute_lease.acquire():
            return False
        levels = await self.levels()
        rows = [
            row["_id"]
            async for row in self.contacts_view.find(
                {"kind": "customer", "_id": {"$gt": job["after"]}}, {"_id": 1}
            )
            .sort("_id", 1)
            .limit(RECOMPUTE_BATCH)
        ]
        changed = 0
        for contact_id in rows:
            outcome = await self._run_contact(
                contact_id,
                domain.RecomputeLevel(now=self.clock.now(), actor=job["by"], levels=levels),
                job["by"],
            )
            changed += outcome.commit is not None
        done = len(rows) < RECOMPUTE_BATCH
        progress: dict[str, Any] = {"after": rows[-1] if rows else job["after"], "done": done}
        if done:
            progress["finished_at"] = self.clock.now()
        # Only this version's job moves: a newer threshold change has reset it.
        result = await self.jobs.update_one(
            {"_id": RECOMPUTE_JOB, "version": job["version"]},
            {"$set": progress, "$inc": {"checked": len(rows), "changed": changed}},
        )
        return result.modified_count == 1 and not done

    # ------------------------------------------------------------ contacts

    async def _run_contact(
        self, contact_id: str, command: domain.ContactCommandT, actor: str
    ) -> Outcome[Contact]:
        state, _ = await self.contacts.load(domain.contact_stream(contact_id))
        outcome = await self.contacts.run(
            domain.contact_stream(contact_id),
            command,
            metadata=self._meta(state.account_id or getattr(command, "account_id", None), actor),
        )
        if outcome.commit is not None:
            await self._refresh_contact(outcome)
        return outcome

    async def _refresh_contact(self, outcome: Outcome[Contact]) -> None:
        state = outcome.state
        details = state.details
        assert details is not None
        now = self.clock.now()
        row = {
            "kind": state.kind,
            "status": state.status,
            "account_id": state.account_id,
            "name": details.name,
            "party_type": details.party_type,
            "phone": details.phone,
            "email": details.email,
            "tax_code": details.tax_code,
            "group": details.group,
            "owner_id": details.owner_id,
            "unit": details.unit,
            "industry": details.industry,
            "source": details.source,
            "labels": list(state.labels),
            "caretaker_id": state.caretaker_id,
            "held": state.caretaker_id is not None,  # FerretDB: match on a bool, not on null
            "points": state.points,
            "accumulated": state.accumulated,
            "level": state.level,
            "updated_at": now,
        }
        await upsert_if_newer(
            self.contacts_view,
            state.contact_id,
            outcome.version,
            row,
            on_insert={"created_at": now},
        )

    async def _contact(self, contact_id: str, *, deleted_ok: bool = False) -> Contact:
        state, _ = await self.contacts.load(domain.contact_stream(contact_id))
        if state.status == "none" or (state.status == "deleted" and not deleted_ok):
            raise NotFound("contact_not_found", "no such contact")
        return state

    async def create_contact(self, principal: Principal, data: ContactIn) -> ContactOut:
        self.require_staff(principal)
        contact_id = self.new_id()
        details = data.details(default_owner=principal.user_id)
        if details.owner_id != principal.user_id and not await self.staff.find_one(
            {"_id": details.owner_id, "active": True}
        ):
            raise DomainError("unknown_owner", "the owner is not a staff member")
        await self._run_contact(
            contact_id,
            domain.CreateContact(
                now=self.clock.now(),
                actor=principal.user_id,
                contact_id=contact_id,
                kind=data.kind,
                details=details,
                levels=await self.levels(),
            ),
            principal.user_id,
        )
        if data.labels:
            await self.set_labels(principal, contact_id, data.labels)
        return await self.contact(principal, contact_id)

    async def on_account_registered(self, event: AccountRegistered) -> None:
        """A registered account becomes a customer (its contact id is the account id)."""
        details = ContactDetails(
            party_type="person" if event.kind == "person" else "organisation",
            name=event.name,
            email=event.email,
            source="portal_registration",
            group="warm",
        )
        known, _ = await self.contacts.load(domain.contact_stream(event.account_id))
        if known.details is not None and known.details.source == PLACEHOLDER:
            await self._run_contact(
                event.account_id,
                domain.UpdateContact(now=event.occurred_at, actor="registration", details=details),
                "registration",
            )
            return
        await self._run_contact(
            event.account_id,
            domain.CreateContact(
                now=event.occurred_at,
                actor="registration",
                contact_id=event.account_id,
                kind="customer",
                details=details,
                account_id=event.account_id,
                levels=await self.levels(),
            ),
            "registration",
        )

    async def update_contact(
        self, principal: Principal, contact_id: str, patch: ContactPatch
    ) -> ContactOut:
        self.require_staff(principal)
        state = await self._contact(contact_id)
        assert state.details is not None
        changes = patch.model_dump(exclude_unset=True)
        details = ContactDetails.model_validate({**state.details.model_dump(), **changes})
        await self._run_contact(
            contact_id,
            domain.UpdateContact(now=self.clock.now(), actor=principal.user_id, details=details),
            principal.user_id,
        )
        return await self.contact(principal, contact_id)

    async def convert(self, principal: Principal, contact_id: str) -> ContactOut:
        self.require_staff(principal)
        await self._contact(contact_id)
        await self._run_contact(
            contact_id,
            domain.ConvertToCustomer(
                now=self.clock.now(), actor=principal.user_id, levels=await self.levels()
            ),
            principal.user_id,
        )
        return await self.contact(principal, contact_id)

    async def set_labels(
        self, principal: Principal, contact_id: str, labels: list[str]
    ) -> ContactOut:
        self.require_staff(principal)
        for label in labels:
            await self.labels.require(label)
        await self._contact(contact_id)
        await self._run_contact(
            contact_id,
            domain.SetLabels(now=self.clock.now(), actor=principal.user_id, labels=tuple(labels)),
            principal.user_id,
        )
        return await self.contact(principal, contact_id)

    async def delete(self, principal: Principal, contact_id: str, confirm: bool) -> DeletedOut:
        self.require_staff(principal)
        if not confirm:
            raise DomainError("confirmation_required", "confirm the deletion with confirm=true")
        await self._contact(contact_id)
        await self._run_contact(
            contact_id,
            domain.DeleteContact(now=self.clock.now(), actor=principal.user_id),
            principal.user_id,
        )
        return DeletedOut(id=contact_id, status="deleted")

    async def restore(self, principal: Principal, contact_id: str) -> ContactOut:
        self.require_admin(principal)
        await self._contact(contact_id, deleted_ok=True)
        await self._run_contact(
            contact_id,
            domain.RestoreContact(now=self.clock.now(), actor=principal.user_id),
            principal.user_id,
        )
        return await self.contact(principal, contact_id)

    async def set_portrait(
        self, principal: Principal, contact_id: str, attributes: dict[str, str]
    ) -> ContactOut:
        self.require_staff(principal)
        await self._contact(contact_id)
        await self._run_contact(
            contact_id,
            domain.UpdatePortrait(
                now=self.clock.now(), actor=principal.user_id, attributes=attributes
            ),
            principal.user_id,
        )
        return await self.contact(principal, contact_id)

    async def _store(self, uploads: list[CheckedUpload], contact_id: str) -> tuple[FileRef, ...]:
        refs = []
        for upload in uploads:
            stored = await self.blobs.put(
                upload.data, upload.content_type, upload.extension, contact_id, self.clock.now()
            )
            refs.append(
                FileRef(
                    file_id=stored.file_id,
                    filename=stored.filename,
                    content_type=upload.content_type,
                    size=stored.length,
                )
            )
        return tuple(refs)

    async def attach(
        self, principal: Principal, contact_id: str, files: list[FileIn]
    ) -> ContactOut:
        self.require_staff(principal)
        await self._contact(contact_id)
        if not files:
            raise DomainError("file_required", "attach at least one file")
        checked = check_uploads(files, max_files=MAX_FILES, max_bytes=MAX_FILE_BYTES)
        for ref in await self._store(checked, contact_id):
            await self._run_contact(
                contact_id,
                domain.AttachDocument(now=self.clock.now(), actor=principal.user_id, file=ref),
                principal.user_id,
            )
        return await self.contact(principal, contact_id)

    async def comment(
        self,
        principal: Principal,
        contact_id: str,
        data: CommentIn,
        activity_id: str | None = None,
    ) -> ContactOut:
        self.require_staff(principal)
        await self._contact(contact_id)
        checked = check_uploads(data.attachments, max_files=MAX_FILES, max_bytes=MAX_FILE_BYTES)
        if not data.text.strip() and not checked:
            raise DomainError("empty_comment", "a comment has text or an attachment")
        refs = await self._store(checked, contact_id)
        await self._run_contact(
            contact_id,
            domain.AddComment(
                now=self.clock.now(),
                actor=principal.user_id,
                comment_id=self.new_id(),
                text=data.text,
                attachments=refs,
                activity_id=activity_id,
            ),
            principal.user_id,
        )
        return await self.contact(principal, contact_id)

    async def file(
        self, principal: Principal, contact_id: str, file_id: str
    ) -> tuple[str, str, bytes]:
        self.require_staff(principal)
        state = await self._contact(contact_id)
        found = await self.blobs.get(file_id, contact_id) if file_id in state.files else None
        if found is None:
            raise NotFound("file_not_found", "no such file")
        stored, data = found
        return stored.content_type, stored.filename, data

    async def _care_type(self, care_type_id: str) -> dict[str, Any]:
        care_type = await self.care_types.find_one({"_id": care_type_id})
        if care_type is None:
            raise DomainError("unknown_care_type", f"no care type {care_type_id!r}")
        return care_type

    async def record_care_action(
        self, principal: Principal, contact_id: str, data: CareActionIn
    ) -> ContactOut:
        self.require_staff(principal)
        await self._contact(contact_id)
        care_type = await self._care_type(data.care_type_id)
        await self._run_contact(
            contact_id,
            domain.RecordCareAction(
                now=self.clock.now(),
                actor=principal.user_id,
                action_id=self.new_id(),
                care_type_id=care_type["_id"],
                care_type_name=care_type["name"],
                action=care_type["action"],
                value=data.value,
                note=data.note,
                levels=await self.levels(),
            ),
            principal.user_id,
        )
        return await self.contact(principal, contact_id)

    async def count_spending(
        self, account_id: str, reference: str, amount: int, currency: str, source: str, at: datetime
    ) -> None:
        """Billing's InvoicePaid / InvoiceRefunded, counted once per invoice or refund."""
        if currency != self.settings.currency:
            log.warning(
                "loyalty_currency_skipped",
                account_id=account_id,
                reference=reference,
                currency=currency,
                program_currency=self.settings.currency,
            )
            return  # nothing to count (the decider refuses it too)
        state, _ = await self.contacts.load(domain.contact_stream(account_id))
        if state.status == "none":
            # Topics are consumed independently: the registration may come later. The
            # customer is made now so the money is counted; registration fills the card.
            await self._run_contact(
                account_id,
                domain.CreateContact(
                    now=at,
                    actor="billing",
                    contact_id=account_id,
                    kind="customer",
                    details=ContactDetails(name=f"Account {account_id}", source=PLACEHOLDER),
                    account_id=account_id,
                    levels=await self.levels(),
                ),
                "billing",
            )
        await self._run_contact(
            account_id,
            domain.CountSpending(
                now=at,
                actor="billing",
                reference=reference,
                amount=amount,
                currency=currency,
                source=source,  # type: ignore[arg-type]
                levels=await self.levels(),
                program_currency=self.settings.currency,
            ),
            "billing",
        )

    # ------------------------------------------------------------ queries

    async def contact(self, principal: Principal, contact_id: str) -> ContactOut:
        self.require_staff(principal)
        state = await self._contact(contact_id, deleted_ok=is_admin(principal))
        events = await self.store.read_stream(domain.contact_stream(contact_id))
        assert state.details is not None
        comments, documents, care, assignments = [], [], [], []
        created_at = None
        for stored in events:
            e = stored.event
            if isinstance(e, ContactCreated):
                created_at = e.occurred_at
            elif isinstance(e, CommentAdded):
                comments.append(
                    {
                        "id": e.comment_id,
                        "author_id": e.author_id,
                        "text": e.text,
                        "activity_id": e.activity_id,
                        "attachments": [f.model_dump() for f in e.attachments],
                        "at": e.occurred_at,
                    }
                )
            elif isinstance(e, DocumentAttached):
                documents.append({**e.file.model_dump(), "at": e.occurred_at, "by": e.attached_by})
            elif isinstance(e, CareActionRecorded):
                care.append(care_row(e))
            elif isinstance(e, LeadAssigned):
                assignments.append(
                    {
                        "caretaker_id": e.caretaker_id,
                        "method": e.method,
                        "department": e.department,
                        "note": e.note,
                        "at": e.occurred_at,
                        "by": e.assigned_by,
                    }
                )
        levels = await self.levels()
        return ContactOut.model_validate(
            {
                "id": contact_id,
                "kind": state.kind,
                "status": state.status,
                "account_id": state.account_id,
                "general": state.details.model_dump(mode="json"),
                "labels": list(state.labels),
                "caretaker_id": state.caretaker_id,
                "created_at": created_at,
                "portrait": state.portrait,
                "loyalty": loyalty_summary(state, levels),
                "care_history": list(reversed(care)),
                "assignments": assignments,
                "attachments": documents,
                "comments": list(reversed(comments)),
            }
        )

    async def customer(self, principal: Principal, contact_id: str) -> ContactOut:
        """A contact of kind customer (a plain contact is not found here)."""
        found = await self.contact(principal, contact_id)
        if found.kind != "customer":
            raise NotFound("customer_not_found", "no such customer")
        return found

    async def list_contacts(
        self,
        principal: Principal,
        *,
        kind: str | None,
        group: str | None,
        scope: str,
        label: str | None,
        q: str | None,
        deleted: bool,
        limit: int,
        offset: int,
        level: str | None = None,
    ) -> Page[ContactRowOut]:
        self.require_staff(principal)
        query: dict[str, Any] = {"status": "deleted" if deleted else "active"}
        if level:
            query["level"] = level
        if deleted:
            self.require_admin(principal)
        if kind:
            query["kind"] = kind
        if group:
            query["group"] = group
        if label:
            await self.labels.require(label)
            query["labels"] = label
        if scope == "mine":
            query["owner_id"] = principal.user_id
        elif scope == "holding":
            query["caretaker_id"] = principal.user_id
        elif scope == "my_department":
            query["unit"] = principal.department or "-"
        elif scope == "unassigned_lead":
            query["kind"] = "contact"
            query["held"] = False
        if q:
            pattern = {"$regex": re.escape(q.strip()), "$options": "i"}
            query["$or"] = [{f: pattern} for f in ("name", "phone", "email", "tax_code")]
        total = await self.contacts_view.count_documents(query)
        cursor = (
            self.contacts_view.find(query).sort("updated_at", DESCENDING).skip(offset).limit(limit)
        )
        items = []
        async for row in cursor:
            row["id"] = row.pop("_id")
            items.append(ContactRowOut.model_validate(row))
        return paginate(items, total, limit, offset)

    async def why_level(self, principal: Principal, contact_id: str) -> LoyaltyOut:
        self.require_staff(principal)
        return LoyaltyOut.model_validate(await self._why(await self._contact(contact_id)))

    async def _why(self, state: Contact) -> dict[str, Any]:
        events = await self.store.read_stream(domain.contact_stream(state.contact_id))
        levels = await self.levels()
        behind = [
            {
                "at": s.event.occurred_at,
                "delta": s.event.delta,
                "total": s.event.total,
                "source": s.event.source,
                "reference": s.event.reference,
            }
            for s in events
            if isinstance(s.event, AccumulatedMoneyChanged)
        ]
        changes = [
            {
                "at": s.event.occurred_at,
                "from": s.event.from_level,
                "to": s.event.to_level,
                "reason": s.event.reason,
            }
            for s in events
            if isinstance(s.event, CustomerLevelChanged)
        ]
        return {
            **loyalty_summary(state, levels),
            "thresholds": [
                {"name": lv.name, "min_accumulated": lv.min_accumulated} for lv in levels
            ],
            "because": list(reversed(behind)),
            "level_changes": list(reversed(changes)),
        }

    async def loyalty(self, principal: Principal) -> LoyaltyOut:
        """The customer-facing summary: points, level and the way to the next one."""
        state, _ = await self.contacts.load(domain.contact_stream(principal.account_id))
        if state.status != "active":
            levels = await self.levels()
            summary = loyalty_summary(Contact(kind="customer", level=levels[0].name), levels)
            return LoyaltyOut.model_validate(summary)
        points_history = [
            {"at": s.event.occurred_at, "delta": s.event.delta, "balance": s.event.balance}
            for s in await self.store.read_stream(domain.contact_stream(principal.account_id))
            if isinstance(s.event, PointsChanged)
        ]
        why = await self._why(state)
        return LoyaltyOut.model_validate({**why, "points_history": points_history[::-1]})

    # ------------------------------------------------------------ bulk actions

    async def _department_members(self, department: str) -> list[str]:
        members = [
            d["_id"]
            async for d in self.staff.find({"department": department, "active": True}).sort(
                "_id", 1
            )
        ]
        if not members:
            raise DomainError(
                "department_has_no_staff", f"no staff member in department {department!r}"
            )
        return members

    async def _next_in_turn(self, department: str, members: list[str]) -> str:
        """Round robin that holds under concurrency: each turn is a unique claimed slot."""
        n = await claim_slot(self.round_robin, department, lambda k: f"{department}-{k:09d}")
        return domain.caretaker_in_turn(members, n)

    async def bulk_assign(self, principal: Principal, data: BulkAssignIn) -> BulkAssignedOut:
        self.require_staff(principal)
        for contact_id in data.ids:
            await self._contact(contact_id)
        members: list[str] = []
        if data.method == "round_robin":
            if not data.department:
                raise DomainError("department_required", "round robin runs over a department")
            members = await self._department_members(data.department)
        elif not data.caretaker_id:
            raise DomainError("caretaker_required", "name the caretaker for a manual assignment")
        elif not await self.staff.find_one({"_id": data.caretaker_id, "active": True}):
            raise DomainError("unknown_caretaker", "the caretaker is not a staff member")
        assigned = []
        for contact_id in data.ids:
            caretaker = (
                await self._next_in_turn(data.department, members)
                if data.method == "round_robin"
                else data.caretaker_id
            )
            await self._run_contact(
                contact_id,
                domain.AssignLead(
                    now=self.clock.now(),
                    actor=principal.user_id,
                    caretaker_id=caretaker,
                    method=data.method,
                    department=data.department,
                    care_from=data.care_from,
                    note=data.note,
                ),
                principal.user_id,
            )
            assigned.append({"id": contact_id, "caretaker_id": caretaker})
        return BulkAssignedOut.model_validate({"items": assigned, "total": len(assigned)})

    async def bulk_labels(self, principal: Principal, data: BulkLabelsIn) -> BulkLabelledOut:
        self.require_staff(principal)
        for label in [*data.add, *data.remove]:
            await self.labels.require(label)
        states = [await self._contact(cid) for cid in data.ids]
        for state in states:
            labels = (set(state.labels) | set(data.add)) - set(data.remove)
            await self._run_contact(
                state.contact_id,
                domain.SetLabels(
                    now=self.clock.now(), actor=principal.user_id, labels=tuple(labels)
                ),
                principal.user_id,
            )
        return BulkLabelledOut(updated=len(states))

    async def bulk_delete(self, principal: Principal, data: BulkDeleteIn) -> BulkDeletedOut:
        self.require_staff(principal)
        if not data.confirm:
            raise DomainError("confirmation_required", "confirm the deletion with confirm=true")
        for contact_id in data.ids:
            await self._contact(contact_id)
        for contact_id in data.ids:
            await self.delete(principal, contact_id, True)
        return BulkDeletedOut(deleted=len(data.ids))

    # ------------------------------------------------------------ labels, care types, reasons

    async def list_labels(self, principal: Principal) -> LabelsOut:
        self.require_staff(principal)
        return LabelsOut.model_validate(await self.labels.listing())

    async def add_label(self, principal: Principal, data: LabelIn) -> LabelOut:
        self.require_staff(principal)
        return LabelOut.model_validate(await self.labels.put(principal, data.id, data.name))

    async def list_care_types(
        self, principal: Principal, action: str | None, q: str | None
    ) -> CareTypesOut:
        self.require_staff(principal)
        query: dict[str, Any] = {}
        if action:
            query["action"] = action
        if q:
            query["name"] = {"$regex": re.escape(q), "$options": "i"}
        items = [
            {"id": d.pop("_id"), **d}
            async for d in self.care_types.find(query).sort("created_at", 1)
        ]
        return CareTypesOut.model_validate({"items": items, "total": len(items)})

    async def add_care_type(self, principal: Principal, data: CareTypeIn) -> CareTypeOut:
        self.require_admin(principal)
        doc = {
            "name": data.name,
            "action": data.action,
            "created_by": principal.user_id,
            "created_at": self.clock.now(),
        }
        try:
            await self.care_types.insert_one({"_id": data.id, **doc})
        except DuplicateKeyError:
            raise Conflict("care_type_exists", f"care type {data.id!r} exists") from None
        return CareTypeOut.model_validate({"id": data.id, **doc})

    async def list_care_reasons(
        self, principal: Principal, care_type_id: str | None
    ) -> CareReasonsOut:
        self.require_staff(principal)
        query = {"care_type_id": care_type_id} if care_type_id else {}
        items = [
            {"id": d.pop("_id"), **d} async for d in self.care_reasons.find(query).sort("_id", 1)
        ]
        return CareReasonsOut.model_validate({"items": items, "total": len(items)})

    async def add_care_reason(self, principal: Principal, data: CareReasonIn) -> CareReasonOut:
        self.require_admin(principal)
        await self._care_type(data.care_type_id)
        doc = {
            "name": data.name,
            "care_type_id": data.care_type_id,
            "created_by": principal.user_id,
        }
        try:
            await self.care_reasons.insert_one({"_id": data.id, **doc})
        except DuplicateKeyError:
            raise Conflict("care_reason_exists", f"care reason {data.id!r} exists") from None
        return CareReasonOut.model_validate({"id": data.id, **doc})

    # ------------------------------------------------------------ care activities

    async def _run_activity(
        self, activity_id: str, command: domain.ActivityCommand, account_id: str | None, actor: str
    ) -> Activity:
        outcome = await self.activities.run(
            domain.care_stream(activity_id), command, metadata=self._meta(account_id, actor)
        )
        if outcome.commit is not None:
            state = outcome.state
            row: dict[str, Any] = {"status": state.status, "updated_at": self.clock.now()}
            for stored in outcome.commit.events:
                event = stored.event
                if isinstance(event, CareActivityScheduled):
                    row.update(
                        contact_id=state.contact_id,
                        account_id=state.account_id,
                        title=event.title,
                        care_type_id=event.care_type_id,
                        care_type_name=event.care_type_name,
                        action=event.action,
                        reason_id=event.reason_id,
                        value=event.value,
                        due_at=event.due_at,
                        caretaker_id=event.caretaker_id,
                        department=event.department,
                        note=event.note,
                        scheduled_by=event.scheduled_by,
                    )
                elif isinstance(event, CareActivityCompleted):
                    row.update(outcome=event.outcome, done_at=event.occurred_at)
                elif isinstance(event, CareActivityCancelled):
                    row.update(cancel_reason=event.reason)
            await upsert_if_newer(self.activities_view, activity_id, outcome.version, row)
        return outcome.state

    async def schedule(self, principal: Principal, data: ActivityIn) -> ActivityOut:
        self.require_staff(principal)
        contact = await self._contact(data.contact_id)
        care_type = await self._care_type(data.care_type_id)
        if data.reason_id:
            reason = await self.care_reasons.find_one({"_id": data.reason_id})
            if reason is None or reason["care_type_id"] != care_type["_id"]:
                raise DomainError("unknown_care_reason", "no such reason for this care type")
        caretaker = data.caretaker_id or principal.user_id
        activity_id = self.new_id()
        await self._run_activity(
            activity_id,
            domain.ScheduleActivity(
                now=self.clock.now(),
                actor=principal.user_id,
                activity_id=activity_id,
                contact_id=contact.contact_id,
                account_id=contact.account_id,
                title=data.title,
                care_type_id=care_type["_id"],
                care_type_name=care_type["name"],
                action=care_type["action"],
                due_at=data.due_at,
                caretaker_id=caretaker,
                reason_id=data.reason_id,
                value=data.value,
                department=data.department or principal.department,
                note=data.note,
            ),
            contact.account_id,
            principal.user_id,
        )
        return await self.activity(principal, activity_id)

    async def _activity(self, activity_id: str) -> Activity:
        state, _ = await self.activities.load(domain.care_stream(activity_id))
        if state.status == "none":
            raise NotFound("activity_not_found", "no such care activity")
        return state

    async def complete(self, principal: Principal, activity_id: str, outcome: str) -> ActivityOut:
        """Done: a point or money action is recorded on the customer (once, keyed by the id)."""
        self.require_staff(principal)
        state = await self._activity(activity_id)
        if state.status == "planned":
            row = await self.activities_view.find_one({"_id": activity_id}) or {}
            await self._run_contact(
                state.contact_id,
                domain.RecordCareAction(
                    now=self.clock.now(),
                    actor=principal.user_id,
                    action_id=activity_id,
                    care_type_id=row.get("care_type_id", ""),
                    care_type_name=row.get("care_type_name", ""),
                    action=state.action,
                    value=state.value,
                    note=outcome,
                    activity_id=activity_id,
                    levels=await self.levels(),
                ),
                principal.user_id,
            )
        await self._run_activity(
            activity_id,
            domain.CompleteActivity(now=self.clock.now(), actor=principal.user_id, outcome=outcome),
            state.account_id,
            principal.user_id,
        )
        return await self.activity(principal, activity_id)

    async def cancel(self, principal: Principal, activity_id: str, reason: str) -> ActivityOut:
        self.require_staff(principal)
        state = await self._activity(activity_id)
        await self._run_activity(
            activity_id,
            domain.CancelActivity(now=self.clock.now(), actor=principal.user_id, reason=reason),
            state.account_id,
            principal.user_id,
        )
        return await self.activity(principal, activity_id)

    async def comment_activity(
        self, principal: Principal, activity_id: str, data: CommentIn
    ) -> ActivityOut:
        state = await self._activity(activity_id)
        await self.comment(principal, state.contact_id, data, activity_id=activity_id)
        return await self.activity(principal, activity_id)

    async def activity(self, principal: Principal, activity_id: str) -> ActivityOut:
        self.require_staff(principal)
        await self._activity(activity_id)
        row = await self.activities_view.find_one({"_id": activity_id})
        assert row is not None
        row["id"] = row.pop("_id")
        row.pop("version", None)
        contact = await self._contact(row["contact_id"], deleted_ok=True)
        events = await self.store.read_stream(domain.contact_stream(contact.contact_id))
        row["comments"] = [
            {
                "id": e.event.comment_id,
                "text": e.event.text,
                "author_id": e.event.author_id,
                "at": e.event.occurred_at,
            }
            for e in events
            if isinstance(e.event, CommentAdded) and e.event.activity_id == activity_id
        ]
        return ActivityOut.model_validate(row)

    async def list_activities(
        self,
        principal: Principal,
        *,
        scope: str,
        status: str | None,
        q: str | None,
        limit: int,
        offset: int,
    ) -> Page[ActivityRowOut]:
        self.require_staff(principal)
        query: dict[str, Any] = {}
        if status:
            query["status"] = status
        if scope == "mine":
            query["caretaker_id"] = principal.user_id
        elif scope == "my_department":
            query["department"] = principal.department or "-"
        elif scope == "today":
            start = self.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
            query["due_at"] = {"$gte": start, "$lt": start + timedelta(days=1)}
        if q:
            query["title"] = {"$regex": re.escape(q.strip()), "$options": "i"}
        total = await self.activities_view.count_documents(query)
        cursor = self.activities_view.find(query).sort("due_at", 1).skip(offset).limit(limit)
        items = []
        async for row in cursor:
            row["id"] = row.pop("_id")
            items.append(ActivityRowOut.model_validate(row))
        return paginate(items, total, limit, offset)

    # ------------------------------------------------------------ staff directory, timeline

    async def on_staff_event(self, event: DomainEvent) -> None:
        """Platform staff and their departments, for assignments (from identity's events)."""
        if isinstance(event, UserRegistered | UserRoleChanged) and event.account_id == "platform":
            await update_by_id(
                self.staff,
                event.user_id,
                {
                    "$set": {
                        "department": event.department,
                        "roles": list(event.platform_roles),
                        "active": bool(event.platform_roles),
                    }
                },
            )

    async def on_any_event(self, envelope: EventEnvelope, event: DomainEvent) -> None:
        entry = timeline_entry(envelope, event)
        if entry is None:
            return
        await insert_once(self.timeline, {"_id": envelope.id, **entry})  # redelivery: no-op

    async def timeline_of(
        self,
        account_id: str,
        limit: int,
        offset: int,
        *,
        staff: bool = False,
        context: str | None = None,
    ) -> Page[TimelineEntryOut]:
        """Newest first; `context` narrows it to one context's entries (wallet, tickets...)."""
        query: dict[str, Any] = {"account_id": account_id}
        if context:
            query["context"] = context
        if not staff:
            query["staff_only"] = False
        total = await self.timeline.count_documents(query)
        cursor = self.timeline.find(query).sort("at", DESCENDING).skip(offset).limit(limit)
        items = []
        async for row in cursor:
            row["id"] = row.pop("_id")
            if not staff:
                row.pop("staff_only", None)
            items.append(TimelineEntryOut.model_validate(row))
        return paginate(items, total, limit, offset)

    async def contact_timeline(
        self,
        principal: Principal,
        contact_id: str,
        limit: int,
        offset: int,
        *,
        context: str | None = None,
    ) -> Page[TimelineEntryOut]:
        self.require_staff(principal)
        state = await self._contact(contact_id)
        return await self.timeline_of(
            state.account_id or contact_id, limit, offset, staff=True, context=context
        )


def care_row(e: CareActionRecorded) -> dict[str, Any]:
    return {
        "id": e.action_id,
        "care_type_id": e.care_type_id,
        "care_type_name": e.care_type_name,
        "action": e.action,
        "value": e.value,
        "note": e.note,
        "activity_id": e.activity_id,
        "by": e.recorded_by,
        "at": e.occurred_at,
    }


def loyalty_summary(state: Contact, levels: tuple[Level, ...]) -> dict[str, Any]:
    level = state.level or domain.level_for(state.accumulated, levels)
    upcoming = domain.next_level(state.accumulated, levels)
    current_min = next((lv.min_accumulated for lv in levels if lv.name == level), 0)
    progress = 100
    if upcoming is not None:
        span = upcoming.min_accumulated - current_min
        progress = max(0, min(100, (state.accumulated - current_min) * 100 // span)) if span else 0
    return {
        "points": state.points,
        "accumulated": state.accumulated,
        "level": level,
        "next_level": upcoming.name if upcoming else None,
        "to_next_level": upcoming.min_accumulated - state.accumulated if upcoming else 0,
        "progress_percent": progress,
    }
