"""Payment claims: a customer says "I paid by bank transfer" with a proof; staff decide."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from pymongo import DESCENDING

from portal_billing import (
    domain,
    streams,
)
from portal_billing.deps import (
    ADMINS,
    Deps,
    derived_id,
)
from portal_billing.models import (
    ClaimIn,
    ClaimOut,
    ClaimsPage,
)
from portal_billing.views import (
    claim_out,
)
from portal_chassis.auth import Principal
from portal_chassis.blobs import sniff
from portal_chassis.contract import FileIn, paginate
from portal_chassis.decider import BadInput, NotFound, TooLarge, UnsupportedContent
from portal_chassis.logging import get_logger

log = get_logger(__name__)


MAX_PROOF_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Proof:
    """A payment proof checked on its bytes."""

    content_type: str
    extension: str
    data: bytes


PROOF_TYPES = ("image/png", "image/jpeg", "application/pdf")


def checked_proof(file: FileIn) -> Proof:
    """Decode a proof and check it on its bytes. Like the chassis' upload checks these are
    refusals of the input itself (no rule of an invoice), answered with their own statuses."""
    try:
        raw = base64.b64decode(file.content_base64, validate=True)
    except ValueError:
        raise BadInput("invalid_file", "content_base64 is not base64") from None
    if len(raw) > MAX_PROOF_BYTES:
        raise TooLarge("file_too_large", "a proof file is at most 10 MB")
    kind = sniff(raw)
    if kind is None or kind[0] not in PROOF_TYPES:
        raise UnsupportedContent("unsupported_file_type", "a proof is a PNG or JPEG image or a PDF")
    return Proof(kind[0], kind[1], raw)


async def file_claim(
    deps: Deps, principal: Principal, invoice_id: str, data: ClaimIn, key: str | None
) -> ClaimOut:
    state = await streams.load_invoice(deps, principal, invoice_id)
    proof = checked_proof(data.proof) if data.proof is not None else None
    claim_id = derived_id("claim", invoice_id, key) if key else deps.new_id()
    now = deps.clock.now()
    command = domain.FileClaim(
        now=now,
        claim_id=claim_id,
        reference=data.reference,
        amount=data.amount,
        paid_on=data.paid_on,
        proof_file_id=None,
        review_due_at=now + timedelta(hours=deps.settings.claim_review_hours),
    )
    domain.decide_invoice(command, state)  # refuse before storing the file
    if proof is not None:
        stored = await deps.blobs.put(
            proof.data, proof.content_type, proof.extension, state.account_id, now
        )
        command = replace(command, proof_file_id=stored.file_id)
    await streams.run_invoice(deps, invoice_id, command, state.account_id, principal.user_id)
    return await claim(deps, principal, claim_id)


async def decide_claim(
    deps: Deps, principal: Principal, claim_id: str, approve: bool, reason: str
) -> ClaimOut:
    ADMINS.require(principal)
    row = await deps.claims_view.find_one({"_id": claim_id})
    if row is None:
        raise NotFound("claim_not_found", "no such payment claim")
    command: domain.InvoiceCommand
    if approve:
        command = domain.ApproveClaim(
            now=deps.clock.now(),
            claim_id=claim_id,
            reviewer=principal.user_id,
            payment_id=derived_id("claim-payment", claim_id),
        )
    else:
        command = domain.RejectClaim(
            now=deps.clock.now(), claim_id=claim_id, reviewer=principal.user_id, reason=reason
        )
    await streams.run_invoice(
        deps, row["invoice_id"], command, row["account_id"], principal.user_id
    )
    return await claim(deps, principal, claim_id)


async def claim(deps: Deps, principal: Principal, claim_id: str) -> ClaimOut:
    row = await deps.claims_view.find_one({"_id": claim_id})
    if row is None or (row["account_id"] != principal.account_id and not ADMINS.held_by(principal)):
        raise NotFound("claim_not_found", "no such payment claim")
    return ClaimOut.model_validate(claim_out(row, deps.clock.now()))


async def list_claims(
    deps: Deps, principal: Principal, status: str | None, overdue: bool, limit: int, offset: int
) -> ClaimsPage:
    query: dict[str, Any] = {}
    if not ADMINS.held_by(principal):
        query["account_id"] = principal.account_id
    if status:
        query["status"] = status
    now = deps.clock.now()
    if overdue:
        query["status"] = "under_review"
        query["review_due_at"] = {"$lt": now}
    total = await deps.claims_view.count_documents(query)
    cursor = deps.claims_view.find(query).sort("filed_at", DESCENDING).skip(offset).limit(limit)
    rows = [ClaimOut.model_validate(claim_out(r, now)) async for r in cursor]
    return paginate(rows, total, limit, offset)


async def proof(deps: Deps, principal: Principal, claim_id: str) -> tuple[str, str, bytes]:
    filed = await claim(deps, principal, claim_id)
    if not filed.proof_file_id:
        raise NotFound("proof_not_found", "this claim has no proof file")
    found = await deps.blobs.get(filed.proof_file_id, filed.account_id)
    if found is None:
        raise NotFound("proof_not_found", "this claim has no proof file")
    stored, data = found
    return stored.content_type, stored.filename, data
