"""Mails identity needs sent, each to one address, some carrying a link token.

A token that proves a mailbox (invitation, email verification, password reset) must reach
that mailbox and nobody else: never the answer to the inviter or the registrant, never an
event (topics are kept for ever and read by analytics). Identity queues the mail here and
appends an event naming only the mail's id; the notifications service reads the mail with
its service token (`GET /v1/internal/mails/{id}`) and sends it. Only the token's hash is
kept where it is checked; the plain token lives here until the link expires (then the
purge removes it).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.mongo import ensure_indexes, index

MailKind = Literal[
    "email_verification",
    "password_reset",
    "invitation",
    "registration_attempt",
    "invitation_for_existing_address",
]


class Outbox:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.mails = db["outgoing_mail"]

    async def setup(self) -> None:
        await ensure_indexes(self.mails, [index("expires", "expires_at"), index("to", "to")])

    async def queue(
        self,
        kind: MailKind,
        to: str,
        now: datetime,
        expires_at: datetime,
        token: str | None = None,
        **fields: Any,
    ) -> str:
        mail_id = uuid.uuid4().hex
        await self.mails.insert_one(
            {
                "_id": mail_id,
                "kind": kind,
                "to": to,
                "token": token,
                "created_at": now,
                "expires_at": expires_at,
                **fields,
            }
        )
        return mail_id

    async def count(self, to: str, kind: MailKind, since: datetime) -> int:
        return await self.mails.count_documents(
            {"to": to, "kind": kind, "created_at": {"$gte": since}}
        )

    async def purge(self, now: datetime) -> int:
        return (await self.mails.delete_many({"expires_at": {"$lt": now}})).deleted_count
