"""Identity aggregates: accounts, users and QR-login challenges. Pure code.

Streams: `account-<id>`, `user-<id>`, `qr-<id>`. Secrets (password hashes, refresh
tokens, signing keys) are not state here: they live in identity's own collections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field

from portal_chassis.auth import UNVERIFIED_MARK
from portal_chassis.decider import Conflict, Decider, DomainError, NotFound
from portal_contracts.events.identity import (
    AccountKind,
    AccountRegistered,
    AccountTimeZoneChanged,
    EmailVerified,
    IdentityEvent,
    PasswordChanged,
    QrLoginApproved,
    QrLoginCompleted,
    QrLoginRequested,
    UserInvited,
    UserProfileUpdated,
    UserRegistered,
    UserRemoved,
    UserRoleChanged,
)

ACCOUNT_ROLES = ("owner", "admin", "staff")
PLATFORM_ROLES = ("support_agent", "technician", "sales", "billing_admin", "platform_admin")
PLATFORM_ACCOUNT = "platform"
DEFAULT_TIME_ZONE = "Asia/Ho_Chi_Minh"
TIME_ZONES = frozenset(available_timezones())
"""The IANA zone names this runtime knows (read once: the decider stays pure)."""


def account_stream(account_id: str) -> str:
    return f"account-{account_id}"


def user_stream(user_id: str) -> str:
    return f"user-{user_id}"


def qr_stream(challenge_id: str) -> str:
    return f"qr-{challenge_id}"


# ---------------------------------------------------------------- accounts


@dataclass(frozen=True)
class RegisterAccount:
    account_id: str
    kind: AccountKind
    name: str
    owner_user_id: str
    email: str
    now: datetime


@dataclass(frozen=True)
class ChangeTimeZone:
    account_id: str
    time_zone: str
    changed_by: str
    now: datetime


AccountCommand = RegisterAccount | ChangeTimeZone


class NoAccount(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["none"] = "none"


class Account(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["account"] = "account"
    account_id: str
    account_kind: str
    name: str
    owner_user_id: str
    time_zone: str = DEFAULT_TIME_ZONE


class _AccountBox(BaseModel):
    state: Annotated[NoAccount | Account, Field(discriminator="kind")]


def decide_account(cmd: AccountCommand, state: NoAccount | Account) -> Sequence[IdentityEvent]:
    if isinstance(cmd, ChangeTimeZone):
        if not isinstance(state, Account) or state.account_id != cmd.account_id:
            raise NotFound("account_not_found", "no such account")
        if cmd.time_zone not in TIME_ZONES:
            raise DomainError("invalid_time_zone", "the time zone must be an IANA name")
        if cmd.time_zone == state.time_zone:
            return []
        return [
            AccountTimeZoneChanged(
                account_id=state.account_id,
                time_zone=cmd.time_zone,
                changed_by=cmd.changed_by,
                occurred_at=cmd.now,
            )
        ]
    if isinstance(state, Account):
        return []  # registering again is a no-op (retries)
    return [
        AccountRegistered(
            account_id=cmd.account_id,
            kind=cmd.kind,
            name=cmd.name,
            owner_user_id=cmd.owner_user_id,
            email=cmd.email,
            occurred_at=cmd.now,
        )
    ]


def evolve_account(state: NoAccount | Account, event: IdentityEvent) -> NoAccount | Account:
    if isinstance(event, AccountRegistered):
        return Account(
            account_id=event.account_id,
            account_kind=event.kind,
            name=event.name,
            owner_user_id=event.owner_user_id,
        )
    if isinstance(event, AccountTimeZoneChanged) and isinstance(state, Account):
        return state.model_copy(update={"time_zone": event.time_zone})
    return state


account_decider: Decider[AccountCommand, NoAccount | Account, IdentityEvent] = Decider(
    initial_state=NoAccount(),
    decide=decide_account,
    evolve=evolve_account,
    dump_state=lambda s: _AccountBox(state=s).model_dump(mode="json"),
    load_state=lambda d: _AccountBox.model_validate(d).state,
)


# ---------------------------------------------------------------- users


@dataclass(frozen=True)
class RegisterUser:
    user_id: str
    account_id: str
    email: str
    name: str
    role: str
    now: datetime
    platform_roles: tuple[str, ...] = ()
    department: str | None = None


@dataclass(frozen=True)
class InviteUser:
    user_id: str
    account_id: str
    email: str
    role: str
    invited_by: str
    expires_at: datetime
    now: datetime


@dataclass(frozen=True)
class AcceptInvitation:
    name: str
    now: datetime


@dataclass(frozen=True)
class VerifyEmail:
    email: str
    """The address the token was mailed to: a token for an address since changed is void."""
    now: datetime


@dataclass(frozen=True)
class ChangeRole:
    account_id: str
    role: str
    changed_by: str
    now: datetime
    platform_roles: tuple[str, ...] = ()
    department: str | None = None


@dataclass(frozen=True)
class RemoveUser:
    account_id: str
    removed_by: str
    now: datetime


@dataclass(frozen=True)
class UpdateProfile:
    account_id: str
    now: datetime
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    language: str | None = None
    logo_file_id: str | None = None
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RecordPasswordChange:
    now: datetime
    via: Literal["change", "reset"] = "change"


UserCommand = (
    RegisterUser
    | InviteUser
    | AcceptInvitation
    | VerifyEmail
    | ChangeRole
    | RemoveUser
    | UpdateProfile
    | RecordPasswordChange
)


class NoUser(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["none"] = "none"


class InvitedUser(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["invited"] = "invited"
    user_id: str
    account_id: str
    email: str
    role: str
    expires_at: datetime


class ActiveUser(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["active"] = "active"
    user_id: str
    account_id: str
    email: str
    name: str
    role: str
    platform_roles: list[str] = Field(default_factory=list)
    department: str | None = None
    phone: str | None = None
    address: str | None = None
    language: str = "vi"
    logo_file_id: str | None = None
    email_verified: bool = False

    def roles(self) -> list[str]:
        """The token's roles; a staff member's department travels as `dept:<id>`."""
        department = [f"dept:{self.department}"] if self.department else []
        return [self.role, *self.platform_roles, *department]

    def token_roles(self) -> list[str]:
        """The roles a token carries: with `email_unverified` until the address is proved
        (services refuse payments and the like to it: `Principal.email_verified`)."""
        return self.roles() + ([] if self.email_verified else [UNVERIFIED_MARK])


class RemovedUser(BaseModel):
    """Removed from its account: signs in nowhere (its address may join anew)."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["removed"] = "removed"
    user_id: str
    account_id: str
    email: str


UserState = NoUser | InvitedUser | ActiveUser | RemovedUser


class _UserBox(BaseModel):
    state: Annotated[UserState, Field(discriminator="kind")]


def _check_role(role: str, platform_roles: Sequence[str], account_id: str) -> None:
    if role not in ACCOUNT_ROLES:
        raise DomainError("invalid_role", f"role must be one of {', '.join(ACCOUNT_ROLES)}")
    unknown = set(platform_roles) - set(PLATFORM_ROLES)
    if unknown:
        raise DomainError("invalid_role", f"unknown staff roles: {', '.join(sorted(unknown))}")
    if platform_roles and account_id != PLATFORM_ACCOUNT:
        raise DomainError("invalid_role", "staff roles exist only on the platform account")


def decide_user(cmd: UserCommand, state: UserState) -> Sequence[IdentityEvent]:
    match cmd:
        case RegisterUser():
            if not isinstance(state, NoUser):
                return []
            _check_role(cmd.role, cmd.platform_roles, cmd.account_id)
            return [
                UserRegistered(
                    user_id=cmd.user_id,
                    account_id=cmd.account_id,
                    email=cmd.email,
                    name=cmd.name,
                    role=cmd.role,
                    platform_roles=list(cmd.platform_roles),
                    department=cmd.department,
                    occurred_at=cmd.now,
                )
            ]
        case InviteUser():
            # A new invitation may replace one that expired unused.
            expired = isinstance(state, InvitedUser) and cmd.now > state.expires_at
            if not isinstance(state, NoUser) and not expired:
                raise Conflict("user_exists", "this user exists already")
            _check_role(cmd.role, (), cmd.account_id)
            if cmd.role == "owner":
                raise DomainError("invalid_role", "an invitation cannot make an owner")
            return [
                UserInvited(
                    user_id=cmd.user_id,
                    account_id=cmd.account_id,
                    email=cmd.email,
                    role=cmd.role,
                    invited_by=cmd.invited_by,
                    expires_at=cmd.expires_at,
                    occurred_at=cmd.now,
                )
            ]
        case AcceptInvitation():
            if isinstance(state, ActiveUser):
                raise Conflict("invitation_used", "this invitation was accepted already")
            if not isinstance(state, InvitedUser):
                raise NotFound("invitation_not_found", "no such invitation")
            if cmd.now > state.expires_at:
                raise DomainError("invitation_expired", "this invitation has expired")
            # The token went to the invited mailbox: accepting it proves the address.
            return [
                UserRegistered(
                    user_id=state.user_id,
                    account_id=state.account_id,
                    email=state.email,
                    name=cmd.name,
                    role=state.role,
                    occurred_at=cmd.now,
                ),
                EmailVerified(
                    user_id=state.user_id,
                    account_id=state.account_id,
                    email=state.email,
                    occurred_at=cmd.now,
                ),
            ]
        case VerifyEmail():
            user = _active(state, None)
            if user.email != cmd.email:
                raise DomainError("verification_invalid", "this link is not valid any more")
            if user.email_verified:
                return []
            return [
                EmailVerified(
                    user_id=user.user_id,
                    account_id=user.account_id,
                    email=user.email,
                    occurred_at=cmd.now,
                )
            ]
        case ChangeRole():
            user = _active(state, cmd.account_id)
            _check_role(cmd.role, cmd.platform_roles, cmd.account_id)
            if user.role == "owner" and cmd.role != "owner":
                raise DomainError("owner_required", "the account owner keeps the owner role")
            if cmd.role == "owner" and user.role != "owner":
                raise DomainError("invalid_role", "ownership cannot be given by a role change")
            if (user.role, user.platform_roles, user.department) == (
                cmd.role,
                list(cmd.platform_roles),
                cmd.department,
            ):
                return []
            return [
                UserRoleChanged(
                    user_id=user.user_id,
                    account_id=user.account_id,
                    role=cmd.role,
                    platform_roles=list(cmd.platform_roles),
                    department=cmd.department,
                    changed_by=cmd.changed_by,
                    occurred_at=cmd.now,
                )
            ]
        case RemoveUser():
            if isinstance(state, RemovedUser) and state.account_id == cmd.account_id:
                return []  # a retry: what follows the removal may not have finished
            if not isinstance(state, ActiveUser | InvitedUser) or (
                state.account_id != cmd.account_id
            ):
                raise NotFound("user_not_found", "no such user")
            if state.role == "owner":
                raise DomainError("owner_cannot_be_removed", "the account owner cannot be removed")
            if state.user_id == cmd.removed_by:
                raise DomainError("cannot_remove_yourself", "you cannot remove yourself")
            return [
                UserRemoved(
                    user_id=state.user_id,
                    account_id=state.account_id,
                    email=state.email,
                    removed_by=cmd.removed_by,
                    occurred_at=cmd.now,
                )
            ]
        case UpdateProfile():
            user = _active(state, cmd.account_id)
            fields: dict[str, Any] = {
                "name": user.name,
                "phone": user.phone,
                "address": user.address,
                "language": user.language,
                "logo_file_id": user.logo_file_id,
            }
            for key in ("name", "phone", "address", "language", "logo_file_id"):
                value = getattr(cmd, key)
                if value is not None:
                    fields[key] = value
            for key in cmd.clear:
                if key in ("phone", "address", "logo_file_id"):
                    fields[key] = None
            if not fields["name"]:
                raise DomainError("name_required", "a name is required")
            current = {k: getattr(user, k) for k in fields}
            if fields == current:
                return []
            return [
                UserProfileUpdated(
                    user_id=user.user_id,
                    account_id=user.account_id,
                    occurred_at=cmd.now,
                    **fields,
                )
            ]
        case RecordPasswordChange():
            user = _active(state, None)
            return [
                PasswordChanged(
                    user_id=user.user_id,
                    account_id=user.account_id,
                    via=cmd.via,
                    occurred_at=cmd.now,
                )
            ]
    raise TypeError(f"unknown command {cmd!r}")


def _active(state: UserState, account_id: str | None) -> ActiveUser:
    # Another account's user is reported as missing: existence must not leak.
    if not isinstance(state, ActiveUser) or (account_id and state.account_id != account_id):
        raise NotFound("user_not_found", "no such user")
    return state


def evolve_user(state: UserState, event: IdentityEvent) -> UserState:
    match event:
        case UserInvited():
            return InvitedUser(
                user_id=event.user_id,
                account_id=event.account_id,
                email=event.email,
                role=event.role,
                expires_at=event.expires_at,
            )
        case UserRegistered():
            return ActiveUser(
                user_id=event.user_id,
                account_id=event.account_id,
                email=event.email,
                name=event.name,
                role=event.role,
                platform_roles=list(event.platform_roles),
                department=event.department,
            )
        case EmailVerified() if isinstance(state, ActiveUser) and state.email == event.email:
            return state.model_copy(update={"email_verified": True})
        case UserRoleChanged() if isinstance(state, ActiveUser):
            return state.model_copy(
                update={
                    "role": event.role,
                    "platform_roles": list(event.platform_roles),
                    "department": event.department,
                }
            )
        case UserRemoved():
            return RemovedUser(
                user_id=event.user_id, account_id=event.account_id, email=event.email
            )
        case UserProfileUpdated() if isinstance(state, ActiveUser):
            return state.model_copy(
                update={
                    "name": event.name,
                    "phone": event.phone,
                    "address": event.address,
                    "language": event.language,
                    "logo_file_id": event.logo_file_id,
                }
            )
    return state


user_decider: Decider[UserCommand, UserState, IdentityEvent] = Decider(
    initial_state=NoUser(),
    decide=decide_user,
    evolve=evolve_user,
    dump_state=lambda s: _UserBox(state=s).model_dump(mode="json"),
    load_state=lambda d: _UserBox.model_validate(d).state,
)


# ---------------------------------------------------------------- QR login


@dataclass(frozen=True)
class RequestQrLogin:
    challenge_id: str
    expires_at: datetime
    client_address: str
    user_agent: str
    now: datetime


@dataclass(frozen=True)
class ApproveQrLogin:
    user_id: str
    account_id: str
    device: str
    approving_session_id: str
    now: datetime


@dataclass(frozen=True)
class CompleteQrLogin:
    session_id: str
    now: datetime


QrCommand = RequestQrLogin | ApproveQrLogin | CompleteQrLogin


class QrState(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: Literal["none", "pending", "approved", "completed"] = "none"
    challenge_id: str = ""
    expires_at: datetime | None = None
    user_id: str | None = None
    account_id: str | None = None
    device: str | None = None
    requested_at: datetime | None = None
    client_address: str | None = None
    user_agent: str | None = None


def decide_qr(cmd: QrCommand, state: QrState) -> Sequence[IdentityEvent]:
    match cmd:
        case RequestQrLogin():
            if state.status != "none":
                return []
            return [
                QrLoginRequested(
                    challenge_id=cmd.challenge_id,
                    expires_at=cmd.expires_at,
                    client_address=cmd.client_address,
                    user_agent=cmd.user_agent,
                    occurred_at=cmd.now,
                )
            ]
        case ApproveQrLogin():
            _live(state, cmd.now)
            if state.status != "pending":
                raise Conflict("challenge_used", "this code was approved already")
            return [
                QrLoginApproved(
                    challenge_id=state.challenge_id,
                    user_id=cmd.user_id,
                    account_id=cmd.account_id,
                    device=cmd.device,
                    approving_session_id=cmd.approving_session_id,
                    occurred_at=cmd.now,
                )
            ]
        case CompleteQrLogin():
            _live(state, cmd.now)
            if state.status == "completed":
                # Gone for good: the web session that won already holds the tokens.
                raise ChallengeGone("challenge_used", "the tokens were delivered already")
            if state.status != "approved":
                return []
            assert state.user_id and state.account_id
            return [
                QrLoginCompleted(
                    challenge_id=state.challenge_id,
                    user_id=state.user_id,
                    account_id=state.account_id,
                    session_id=cmd.session_id,
                    occurred_at=cmd.now,
                )
            ]
    raise TypeError(f"unknown command {cmd!r}")


class ChallengeGone(DomainError):
    status_code = 410


def _live(state: QrState, now: datetime) -> None:
    if state.status == "none":
        raise NotFound("challenge_not_found", "no such login code")
    if state.status != "completed" and state.expires_at and now >= state.expires_at:
        raise ChallengeGone("challenge_expired", "this login code has expired")


def evolve_qr(state: QrState, event: IdentityEvent) -> QrState:
    match event:
        case QrLoginRequested():
            return QrState(
                status="pending",
                challenge_id=event.challenge_id,
                expires_at=event.expires_at,
                requested_at=event.occurred_at,
                client_address=event.client_address,
                user_agent=event.user_agent,
            )
        case QrLoginApproved():
            return state.model_copy(
                update={
                    "status": "approved",
                    "user_id": event.user_id,
                    "account_id": event.account_id,
                    "device": event.device,
                }
            )
        case QrLoginCompleted():
            return state.model_copy(update={"status": "completed"})
    return state


qr_decider: Decider[QrCommand, QrState, IdentityEvent] = Decider(
    initial_state=QrState(),
    decide=decide_qr,
    evolve=evolve_qr,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=QrState.model_validate,
)
