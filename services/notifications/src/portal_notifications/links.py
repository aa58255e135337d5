"""Link mails' tokens, read from identity (GET /v1/internal/mails/{id}, service token).

Identity's events name a queued mail by id only: a reset or verification token must not sit
in a topic that is kept for ever and read by analytics. This service alone may read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import httpx
from pydantic import BaseModel

from portal_chassis.service_auth import ServiceClient


class LinkMail(BaseModel):
    id: str
    kind: str
    to: str
    token: str
    expires_at: datetime
    name: str
    language: str


class LinkMails(Protocol):
    async def fetch(self, mail_id: str) -> LinkMail | None:
        """The mail, or None once it is gone (its link expired and was purged)."""


class LinkMailUnavailable(Exception):
    """Identity did not answer: the event is tried again (then the DLQ)."""


class HttpLinkMails:
    def __init__(self, identity: ServiceClient) -> None:
        self.identity = identity

    async def fetch(self, mail_id: str) -> LinkMail | None:
        try:
            answer = await self.identity.request("GET", f"/v1/internal/mails/{mail_id}")
        except httpx.HTTPError as exc:
            raise LinkMailUnavailable(f"identity unreachable: {exc}") from exc
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise LinkMailUnavailable(f"identity answered {answer.status_code}")
        return LinkMail.model_validate(answer.json())
