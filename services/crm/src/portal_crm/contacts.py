"""Contact use cases: create, edit, label, delete and restore, files and comments."""

from __future__ import annotations

from portal_chassis.auth import Principal
from portal_chassis.blobs import CheckedUpload, check_uploads
from portal_chassis.contract import FileIn
from portal_chassis.decider import DomainError, NotFound
from portal_contracts.events.crm import (
    ContactDetails,
    FileRef,
)
from portal_crm import domain, queries
from portal_crm.deps import ADMINS, STAFF, Deps, current_levels
from portal_crm.schemas import (
    MAX_FILE_BYTES,
    MAX_FILES,
    CommentIn,
    ContactIn,
    ContactOut,
    ContactPatch,
    DeletedOut,
    LabelIn,
    LabelOut,
)
from portal_crm.streams import load_contact, run_contact


async def create_contact(deps: Deps, principal: Principal, data: ContactIn) -> ContactOut:
    STAFF.require(principal)
    contact_id = deps.new_id()
    details = data.details(default_owner=principal.user_id)
    if details.owner_id != principal.user_id and not await deps.staff.find_one(
        {"_id": details.owner_id, "active": True}
    ):
        raise DomainError("unknown_owner", "the owner is not a staff member")
    await run_contact(
        deps,
        contact_id,
        domain.CreateContact(
            now=deps.clock.now(),
            actor=principal.user_id,
            contact_id=contact_id,
            kind=data.kind,
            details=details,
            levels=await current_levels(deps),
        ),
        principal.user_id,
    )
    if data.labels:
        await set_labels(deps, principal, contact_id, data.labels)
    return await queries.contact(deps, principal, contact_id)


async def update_contact(
    deps: Deps, principal: Principal, contact_id: str, patch: ContactPatch
) -> ContactOut:
    STAFF.require(principal)
    state = await load_contact(deps, contact_id)
    assert state.details is not None
    changes = patch.model_dump(exclude_unset=True)
    details = ContactDetails.model_validate({**state.details.model_dump(), **changes})
    await run_contact(
        deps,
        contact_id,
        domain.UpdateContact(now=deps.clock.now(), actor=principal.user_id, details=details),
        principal.user_id,
    )
    return await queries.contact(deps, principal, contact_id)


async def convert(deps: Deps, principal: Principal, contact_id: str) -> ContactOut:
    STAFF.require(principal)
    await load_contact(deps, contact_id)
    await run_contact(
        deps,
        contact_id,
        domain.ConvertToCustomer(
            now=deps.clock.now(), actor=principal.user_id, levels=await current_levels(deps)
        ),
        principal.user_id,
    )
    return await queries.contact(deps, principal, contact_id)


async def set_labels(
    deps: Deps, principal: Principal, contact_id: str, labels: list[str]
) -> ContactOut:
    STAFF.require(principal)
    for label in labels:
        await deps.labels.require(label)
    await load_contact(deps, contact_id)
    await run_contact(
        deps,
        contact_id,
        domain.SetLabels(now=deps.clock.now(), actor=principal.user_id, labels=tuple(labels)),
        principal.user_id,
    )
    return await queries.contact(deps, principal, contact_id)


async def delete(deps: Deps, principal: Principal, contact_id: str, confirm: bool) -> DeletedOut:
    STAFF.require(principal)
    if not confirm:
        raise DomainError("confirmation_required", "confirm the deletion with confirm=true")
    await load_contact(deps, contact_id)
    await run_contact(
        deps,
        contact_id,
        domain.DeleteContact(now=deps.clock.now(), actor=principal.user_id),
        principal.user_id,
    )
    return DeletedOut(id=contact_id, status="deleted")


async def restore(deps: Deps, principal: Principal, contact_id: str) -> ContactOut:
    ADMINS.require(principal)
    await load_contact(deps, contact_id, deleted_ok=True)
    await run_contact(
        deps,
        contact_id,
        domain.RestoreContact(now=deps.clock.now(), actor=principal.user_id),
        principal.user_id,
    )
    return await queries.contact(deps, principal, contact_id)


async def set_portrait(
    deps: Deps, principal: Principal, contact_id: str, attributes: dict[str, str]
) -> ContactOut:
    STAFF.require(principal)
    await load_contact(deps, contact_id)
    await run_contact(
        deps,
        contact_id,
        domain.UpdatePortrait(now=deps.clock.now(), actor=principal.user_id, attributes=attributes),
        principal.user_id,
    )
    return await queries.contact(deps, principal, contact_id)


async def _store(deps: Deps, uploads: list[CheckedUpload], contact_id: str) -> tuple[FileRef, ...]:
    refs = []
    for upload in uploads:
        stored = await deps.blobs.put(
            upload.data, upload.content_type, upload.extension, contact_id, deps.clock.now()
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
    deps: Deps, principal: Principal, contact_id: str, files: list[FileIn]
) -> ContactOut:
    STAFF.require(principal)
    await load_contact(deps, contact_id)
    if not files:
        raise DomainError("file_required", "attach at least one file")
    checked = check_uploads(files, max_files=MAX_FILES, max_bytes=MAX_FILE_BYTES)
    for ref in await _store(deps, checked, contact_id):
        await run_contact(
            deps,
            contact_id,
            domain.AttachDocument(now=deps.clock.now(), actor=principal.user_id, file=ref),
            principal.user_id,
        )
    return await queries.contact(deps, principal, contact_id)


async def comment(
    deps: Deps,
    principal: Principal,
    contact_id: str,
    data: CommentIn,
    activity_id: str | None = None,
) -> ContactOut:
    STAFF.require(principal)
    await load_contact(deps, contact_id)
    checked = check_uploads(data.attachments, max_files=MAX_FILES, max_bytes=MAX_FILE_BYTES)
    if not data.text.strip() and not checked:
        raise DomainError("empty_comment", "a comment has text or an attachment")
    refs = await _store(deps, checked, contact_id)
    await run_contact(
        deps,
        contact_id,
        domain.AddComment(
            now=deps.clock.now(),
            actor=principal.user_id,
            comment_id=deps.new_id(),
            text=data.text,
            attachments=refs,
            activity_id=activity_id,
        ),
        principal.user_id,
    )
    return await queries.contact(deps, principal, contact_id)


async def file(
    deps: Deps, principal: Principal, contact_id: str, file_id: str
) -> tuple[str, str, bytes]:
    STAFF.require(principal)
    state = await load_contact(deps, contact_id)
    found = await deps.blobs.get(file_id, contact_id) if file_id in state.files else None
    if found is None:
        raise NotFound("file_not_found", "no such file")
    stored, data = found
    return stored.content_type, stored.filename, data


async def add_label(deps: Deps, principal: Principal, data: LabelIn) -> LabelOut:
    STAFF.require(principal)
    return LabelOut.model_validate(await deps.labels.put(principal, data.id, data.name))
