"""Events of the identity context (topic `identity.events`).

Secrets never travel in events: password hashes, refresh tokens and signing keys stay
in identity's own collections.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from portal_contracts.base import DomainEvent

AccountKind = Literal["organisation", "person", "platform"]
AccountRole = Literal["owner", "admin", "staff"]
PlatformRole = Literal["support_agent", "technician", "sales", "billing_admin", "platform_admin"]
LoginMethod = Literal["password", "qr"]


class IdentityEvent(DomainEvent):
    context: ClassVar[str] = "identity"


class AccountRegistered(IdentityEvent):
    event_type: ClassVar[str] = "AccountRegistered"
    account_id: str
    kind: AccountKind
    name: str
    owner_user_id: str
    email: str


class AccountTimeZoneChanged(IdentityEvent):
    """The account's day boundaries and shown times follow this IANA zone from now on."""

    event_type: ClassVar[str] = "AccountTimeZoneChanged"
    account_id: str
    time_zone: str
    changed_by: str


class UserRegistered(IdentityEvent):
    """A user exists and can log in (an owner at registration, staff, or an accepted invite)."""

    event_type: ClassVar[str] = "UserRegistered"
    user_id: str
    account_id: str
    email: str
    name: str
    role: str
    """An account role (owner, admin, staff) or, on the platform account, a staff role."""
    platform_roles: list[str] = []
    department: str | None = None


class UserInvited(IdentityEvent):
    event_type: ClassVar[str] = "UserInvited"
    user_id: str
    account_id: str
    email: str
    role: str
    invited_by: str
    expires_at: datetime


class EmailVerified(IdentityEvent):
    """The user proved they read the address's mailbox (a mailed token, or an accepted
    invitation, whose token went to that mailbox)."""

    event_type: ClassVar[str] = "EmailVerified"
    user_id: str
    account_id: str
    email: str


class UserRoleChanged(IdentityEvent):
    event_type: ClassVar[str] = "UserRoleChanged"
    user_id: str
    account_id: str
    role: str
    platform_roles: list[str] = []
    department: str | None = None
    changed_by: str


class UserRemoved(IdentityEvent):
    """The account's owner or an admin removed the user (or withdrew their invitation):
    their sessions end and they can no longer sign in to the account."""

    event_type: ClassVar[str] = "UserRemoved"
    user_id: str
    account_id: str
    email: str
    removed_by: str


class UserProfileUpdated(IdentityEvent):
    event_type: ClassVar[str] = "UserProfileUpdated"
    user_id: str
    account_id: str
    name: str
    phone: str | None = None
    address: str | None = None
    language: str = "vi"
    logo_file_id: str | None = None


class PasswordChanged(IdentityEvent):
    event_type: ClassVar[str] = "PasswordChanged"
    user_id: str
    account_id: str
    via: Literal["change", "reset"] = "change"
    """"change": signed in, with the current password; "reset": with a mailed reset link."""


class LinkMailRequested(IdentityEvent):
    """Base of the events that ask for a mail carrying a one-time link.

    The link's token is not in the event (topics are kept forever and read by analytics):
    identity keeps it in its outgoing mail, and the notifications service fetches it with
    its service token by `mail_id`, once, to put it in the mail.
    """

    user_id: str
    account_id: str
    mail_id: str
    expires_at: datetime


class PasswordResetRequested(LinkMailRequested):
    """Somebody asked for a password reset link for this user's address."""

    event_type: ClassVar[str] = "PasswordResetRequested"


class EmailVerificationRequested(LinkMailRequested):
    """A link that proves the user reads the address (after registration, or resent)."""

    event_type: ClassVar[str] = "EmailVerificationRequested"


class LoginSucceeded(IdentityEvent):
    event_type: ClassVar[str] = "LoginSucceeded"
    user_id: str
    account_id: str
    method: LoginMethod
    client_address: str
    user_agent: str
    session_id: str
    second_factor: bool = False
    """A one-time code (or a recovery code) was given after the password."""


class TwoFactorEnabled(IdentityEvent):
    """Logins now ask for a one-time code from an authenticator app (TOTP, RFC 6238)."""

    event_type: ClassVar[str] = "TwoFactorEnabled"
    user_id: str
    account_id: str


class TwoFactorDisabled(IdentityEvent):
    event_type: ClassVar[str] = "TwoFactorDisabled"
    user_id: str
    account_id: str


class SecondFactorFailed(IdentityEvent):
    """A wrong or replayed one-time code after a right password."""

    event_type: ClassVar[str] = "SecondFactorFailed"
    user_id: str
    account_id: str
    client_address: str
    user_agent: str
    attempts: int


class SecondFactorLocked(IdentityEvent):
    """Too many wrong one-time codes across sign-ins: the second factor is locked until
    `locked_until` (the user is told: someone knows their password)."""

    event_type: ClassVar[str] = "SecondFactorLocked"
    user_id: str
    account_id: str
    failures: int
    locked_until: datetime
    client_address: str
    user_agent: str


class LoginFailed(IdentityEvent):
    """A failed attempt; `user_id` is absent when the email matched nobody."""

    event_type: ClassVar[str] = "LoginFailed"
    email_hash: str
    user_id: str | None = None
    account_id: str | None = None
    reason: Literal["invalid_credentials", "throttled", "disabled"]
    client_address: str
    user_agent: str


class SessionRevoked(IdentityEvent):
    event_type: ClassVar[str] = "SessionRevoked"
    user_id: str
    account_id: str
    session_id: str
    reason: Literal["logout", "refresh_token_reuse", "password_changed"]


class QrLoginRequested(IdentityEvent):
    event_type: ClassVar[str] = "QrLoginRequested"
    challenge_id: str
    expires_at: datetime
    client_address: str
    user_agent: str


class QrLoginApproved(IdentityEvent):
    event_type: ClassVar[str] = "QrLoginApproved"
    challenge_id: str
    user_id: str
    account_id: str
    device: str
    approving_session_id: str


class QrLoginCompleted(IdentityEvent):
    """The web session that showed the code received its tokens (exactly once)."""

    event_type: ClassVar[str] = "QrLoginCompleted"
    challenge_id: str
    user_id: str
    account_id: str
    session_id: str
