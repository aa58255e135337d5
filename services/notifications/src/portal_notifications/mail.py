"""The email channel: one message to one address over SMTP (aiosmtplib).

Failures are sorted once, here: `MailFailure.temporary` says whether trying again later
may work (no connection, a 4xx answer) or not (a 5xx answer, an address that is no address).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import aiosmtplib

from portal_notifications.domain import is_temporary_smtp_code
from portal_notifications.settings import NotificationsSettings


class MailFailure(Exception):
    def __init__(self, reason: str, *, temporary: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary


class Mailer(Protocol):
    async def send(
        self, to: str, subject: str, body: str, key: str, unsubscribe_url: str | None = None
    ) -> None: ...


def plausible_address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in address))


class SmtpMailer:
    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    def _message(
        self, to: str, subject: str, body: str, key: str, unsubscribe_url: str | None = None
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        # Stable per delivery: a mail sent again after a crash is recognisably the same one.
        message["Message-ID"] = make_msgid(idstring=key.replace(":", "."), domain="portal")
        message["X-Portal-Delivery"] = key
        if unsubscribe_url:
            # RFC 2369 and RFC 8058: mail clients offer one-click unsubscribe by POSTing
            # "List-Unsubscribe=One-Click" to this URL.
            message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(body)
        return message

    async def send(
        self, to: str, subject: str, body: str, key: str, unsubscribe_url: str | None = None
    ) -> None:
        if not plausible_address(to):
            raise MailFailure(f"not an email address: {to!r}", temporary=False)
        s = self.settings
        try:
            await aiosmtplib.send(
                self._message(to, subject, body, key, unsubscribe_url),
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_tls,
                start_tls=s.smtp_starttls,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            temporary = all(is_temporary_smtp_code(c) for c in codes)
            raise MailFailure(f"recipient refused: {exc}", temporary=temporary) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise MailFailure(
                f"{exc.code} {exc.message}", temporary=is_temporary_smtp_code(exc.code)
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # No connection, a dropped one, a timeout: the server may be back later.
            raise MailFailure(f"{type(exc).__name__}: {exc}", temporary=True) from exc
