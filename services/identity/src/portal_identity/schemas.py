"""Identity's typed HTTP boundary: the bodies it takes and the answers it gives.

The bodies are `Strict` (unknown fields refused); the answers list every key clients got
when the routes returned the use cases' dicts, and no more: an answer whose keys differ
by case (login with or without a second factor, a QR code before and after its tokens)
is a union of models rather than one model with null keys it never had.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import EmailStr, Field

from portal_chassis.contract import Out, Strict

Name = Annotated[str, Field(min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=1, max_length=256)]
OneTimeCode = Annotated[str, Field(min_length=6, max_length=20)]
"""Six digits from the app, or a recovery code like `k7q2m-x9d4a`."""
Token = Annotated[str, Field(min_length=10, max_length=200)]
PlatformRole = Literal["support_agent", "technician", "sales", "billing_admin", "platform_admin"]
Department = Annotated[str, Field(max_length=50)]

# ------------------------------------------------------------------ requests


class RegisterIn(Strict):
    email: EmailStr = Field(max_length=254)
    password: Password
    name: Name
    account_name: Name | None = None
    kind: Literal["organisation", "person"] = "person"


class LoginIn(Strict):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Password


class SecondFactorIn(Strict):
    mfa_token: Token
    code: OneTimeCode


class RefreshIn(Strict):
    refresh_token: Token


class ServiceTokenIn(Strict):
    client_id: Annotated[str, Field(min_length=1, max_length=100)]
    client_secret: Annotated[str, Field(min_length=1, max_length=500)]


class QrApprovalIn(Strict):
    device: Annotated[str, Field(min_length=1, max_length=200)]


class AcceptInvitationIn(Strict):
    token: Token
    name: Name
    password: Password


class EmailVerificationIn(Strict):
    token: Token


class TwoFactorConfirmIn(Strict):
    code: OneTimeCode


class TwoFactorDisableIn(Strict):
    password: Password
    code: OneTimeCode


class ProfilePatchIn(Strict):
    """Only the fields sent change; a field sent as null is cleared."""

    name: Name | None = None
    phone: Annotated[str, Field(max_length=30, pattern=r"^\+?[0-9 ().-]{6,30}$")] | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    language: Literal["vi", "en"] | None = None


class AccountPatchIn(Strict):
    time_zone: Annotated[str, Field(min_length=1, max_length=64)]
    """An IANA zone name, e.g. Asia/Ho_Chi_Minh."""


class PasswordChangeIn(Strict):
    current_password: Password
    new_password: Password


class PasswordForgottenIn(Strict):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    """Any text: an address with no account is answered the same way as one with."""


class PasswordResetIn(Strict):
    token: Token
    new_password: Password


class InvitationIn(Strict):
    email: EmailStr = Field(max_length=254)
    role: Literal["admin", "staff"] = "staff"


class RoleChangeIn(Strict):
    role: Literal["owner", "admin", "staff"]
    platform_roles: list[PlatformRole] = Field(default_factory=list, max_length=5)
    department: Department | None = None


class StaffUserIn(Strict):
    email: EmailStr = Field(max_length=254)
    name: Name
    password: Password
    platform_roles: list[PlatformRole] = Field(min_length=1, max_length=5)
    department: Department | None = None


class DepartmentIn(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,49}$")]
    name: Name


# ------------------------------------------------------------------ answers


class TokensOut(Out):
    """A session's tokens, as login, the second factor, refresh and registration answer."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    """Seconds the access token is valid."""
    refresh_token: str
    refresh_expires_in: int
    session_id: str


class SecondFactorRequiredOut(Out):
    """The password was right; finish at /v1/auth/login/2fa with the app's code."""

    mfa_required: Literal[True]
    mfa_token: str
    expires_in: int


class UserIdsOut(Out):
    account_id: str
    user_id: str
    email: str


class RegisteredOut(TokensOut, UserIdsOut):
    """The new account and user, signed in: the same tokens as a login answers."""


class ServiceTokenOut(Out):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class JwkOut(Out):
    kty: str
    crv: str
    x: str
    y: str
    kid: str
    alg: str
    use: str


class JwksOut(Out):
    keys: list[JwkOut]


class KeyRotationOut(Out):
    active_kid: str
    published: list[str]


class QrChallengeOut(Out):
    id: str
    poll_token: str
    expires_at: datetime
    qr_payload: str
    qr_svg: str
    status: Literal["pending"]


class QrStatusOut(Out):
    """The code is not used yet (pending, approved) or no more (expired, completed)."""

    id: str
    status: str
    expires_at: datetime | None


class QrSignedInOut(TokensOut):
    """This poll completed the login: the tokens, delivered once."""

    id: str
    status: Literal["completed"]


class QrRequestOut(Out):
    id: str
    status: str
    requested_at: datetime | None
    expires_at: datetime | None
    client_address: str | None
    user_agent: str | None


class QrApprovedOut(Out):
    id: str
    status: Literal["approved"]


class ProfileOut(Out):
    user_id: str
    account_id: str
    email: str
    name: str
    phone: str | None
    address: str | None
    language: str
    role: str
    platform_roles: list[str]
    department: str | None
    logo_url: str | None
    email_verified: bool


class MeOut(ProfileOut):
    two_factor: bool
    time_zone: str
    """The account's IANA time zone: every date shown to its users is in it."""


class AccountOut(Out):
    account_id: str
    name: str
    time_zone: str


class SessionOut(Out):
    """One of my sign-ins (a refresh-token family)."""

    id: str
    device: str | None
    """Read from the browser's User-Agent ("Chrome on Windows"); null when it says nothing."""
    user_agent: str | None
    ip_address: str | None
    """The address it signed in from, when known."""
    method: Literal["password", "qr"]
    signed_in_at: datetime
    last_used_at: datetime
    """Its last token refresh (or the sign-in)."""
    current: bool
    """The session this request's access token belongs to."""


class SessionsOut(Out):
    items: list[SessionOut]
    total: int


class SessionsEndedOut(Out):
    sessions_ended: int


class EmailStatusOut(Out):
    email: str
    email_verified: bool


class PasswordResetMailOut(Out):
    """The same answer whether or not the address has an account."""

    status: Literal["accepted"]


class PasswordResetOut(Out):
    status: Literal["reset"]
    sessions_revoked: int


class LinkMailOut(Out):
    """Internal (the notifications service): a queued mail with its one-time link token."""

    id: str
    kind: Literal["password_reset", "email_verification"]
    to: str
    token: str
    expires_at: datetime
    name: str
    language: str


class TwoFactorSetupOut(Out):
    secret: str
    otpauth_uri: str
    qr_svg: str


class TwoFactorEnabledOut(Out):
    two_factor: Literal[True]
    recovery_codes: list[str]


class TwoFactorDisabledOut(Out):
    two_factor: Literal[False]


class PasswordChangedOut(Out):
    status: Literal["changed"]
    other_sessions_revoked: int


class ActiveUserRowOut(ProfileOut):
    status: Literal["active"]


class InvitedUserRowOut(Out):
    user_id: str
    account_id: str
    email: str
    role: str
    status: Literal["invited"]


class AccountUsersOut(Out):
    items: list[Annotated[ActiveUserRowOut | InvitedUserRowOut, Field(discriminator="status")]]
    total: int


class InvitationOut(Out):
    """The same for an address with an account elsewhere as for a free one."""

    user_id: str
    email: str
    role: str
    status: Literal["invited"]
    expires_at: datetime


class DepartmentOut(Out):
    id: str
    name: str


class DepartmentsOut(Out):
    items: list[DepartmentOut]
    total: int


class StaffMemberOut(Out):
    """An active member of the platform staff, as assignment pickers show them."""

    user_id: str
    name: str
    email: str
    department: str | None
    platform_roles: list[str]


class StaffMembersOut(Out):
    items: list[StaffMemberOut]
    total: int
