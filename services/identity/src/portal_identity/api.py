"""Identity's internal HTTP API (reached through the gateway).

Typed at the boundary (portal_chassis.contract): bodies are `Strict` models, answers are
`Out` models, and each controller owns its guards and its dependencies. The use cases
answer plain dicts; the routes publish them through the answer models (schemas.py).
"""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Operation
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from portal_chassis.auth import Principal, principal_from
from portal_chassis.contract import PRINCIPAL, use_cases
from portal_chassis.decider import Forbidden
from portal_chassis.web import download
from portal_identity.handlers import MAX_LOGO_BYTES, MAX_QR_WAIT_SECONDS, IdentityService
from portal_identity.schemas import (
    AcceptInvitationIn,
    AccountOut,
    AccountPatchIn,
    AccountUsersOut,
    DepartmentIn,
    DepartmentOut,
    DepartmentsOut,
    EmailStatusOut,
    EmailVerificationIn,
    InvitationIn,
    InvitationOut,
    JwksOut,
    KeyRotationOut,
    LinkMailOut,
    LoginIn,
    MeOut,
    PasswordChangedOut,
    PasswordChangeIn,
    PasswordForgottenIn,
    PasswordResetIn,
    PasswordResetMailOut,
    PasswordResetOut,
    ProfileOut,
    ProfilePatchIn,
    QrApprovalIn,
    QrApprovedOut,
    QrChallengeOut,
    QrRequestOut,
    QrSignedInOut,
    QrStatusOut,
    RefreshIn,
    RegisteredOut,
    RegisterIn,
    RoleChangeIn,
    SecondFactorIn,
    SecondFactorRequiredOut,
    ServiceTokenIn,
    ServiceTokenOut,
    SessionsEndedOut,
    SessionsOut,
    StaffMembersOut,
    StaffUserIn,
    TokensOut,
    TwoFactorConfirmIn,
    TwoFactorDisabledOut,
    TwoFactorDisableIn,
    TwoFactorEnabledOut,
    TwoFactorSetupOut,
    UserIdsOut,
)

Conn = ASGIConnection[Any, Any, Any, Any]
Identity = NamedDependency[IdentityService]
Caller = NamedDependency[Principal]
IDENTITY = use_cases("identity")


class Client(NamedTuple):
    """Where a request comes from, for throttling and the security log."""

    address: str
    agent: str


def client_of(request: Request[Any, Any, Any]) -> Client:
    # Only the gateway reaches this service (NetworkPolicy); it passes the caller's address.
    address = request.headers.get("x-client-address") or (
        request.client.host if request.client else "unknown"
    )
    return Client(address[:100], request.headers.get("user-agent", "")[:300])


CLIENT = Provide(client_of, sync_to_thread=False)
From = NamedDependency[Client]


# Guards run before the body is read: a caller without a token (or without the role) is
# refused as such, whatever body it sent.
async def signed_in(connection: Conn, _: BaseRouteHandler) -> None:
    await principal_from(connection)


async def platform_admin(connection: Conn, _: BaseRouteHandler) -> None:
    if "platform_admin" not in (await principal_from(connection)).roles:
        raise Forbidden("forbidden", "this needs the platform admin role")


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]
    dependencies = {"principal": PRINCIPAL, "identity": IDENTITY, "client": CLIENT}

    @post("/register", status_code=201)
    async def register(
        self, data: JSONBody[RegisterIn], identity: Identity, client: From
    ) -> RegisteredOut:
        """Signed in at once: the tokens a login answers. An address in use gets an answer
        of the same shape (its owner is mailed) whose tokens open nothing."""
        return RegisteredOut.model_validate(
            await identity.sign_up(
                email=str(data.email),
                password=data.password,
                name=data.name,
                account_name=data.account_name or data.name,
                kind=data.kind,
                client_address=client.address,
                user_agent=client.agent,
            )
        )

    @post("/login", status_code=200)
    async def login(
        self, data: JSONBody[LoginIn], identity: Identity, client: From
    ) -> TokensOut | SecondFactorRequiredOut:
        """The tokens, or with two-factor login on, a challenge to finish at /login/2fa."""
        answer = await identity.login(data.email, data.password, client.address, client.agent)
        if answer.get("mfa_required"):
            return SecondFactorRequiredOut.model_validate(answer)
        return TokensOut.model_validate(answer)

    @post("/login/2fa", status_code=200)
    async def login_second_factor(
        self, data: JSONBody[SecondFactorIn], identity: Identity, client: From
    ) -> TokensOut:
        return TokensOut.model_validate(
            await identity.login_second_factor(
                data.mfa_token, data.code, client.address, client.agent
            )
        )

    @post("/refresh", status_code=200)
    async def refresh(self, data: JSONBody[RefreshIn], identity: Identity) -> TokensOut:
        return TokensOut.model_validate(await identity.refresh(data.refresh_token))

    @post("/logout", status_code=204, guards=[signed_in])
    async def logout(self, principal: Caller, identity: Identity) -> None:
        await identity.logout(principal)

    @post("/service-token", status_code=200)
    async def service_token(
        self, data: JSONBody[ServiceTokenIn], identity: Identity
    ) -> ServiceTokenOut:
        """Internal: never routed by the gateway (client credentials of a service)."""
        return ServiceTokenOut.model_validate(
            identity.service_token(data.client_id, data.client_secret)
        )

    @get("/jwks")
    async def jwks(self, identity: Identity) -> JwksOut:
        return JwksOut.model_validate(identity.keyring.jwks())

    @post("/keys/rotate", status_code=200, guards=[signed_in])
    async def rotate(self, principal: Caller, identity: Identity) -> KeyRotationOut:
        return KeyRotationOut.model_validate(await identity.rotate_keys(principal))

    @post("/qr", status_code=201)
    async def qr(self, identity: Identity, client: From) -> QrChallengeOut:
        return QrChallengeOut.model_validate(await identity.create_qr(client.address, client.agent))

    @get("/qr/{challenge_id:str}")
    async def qr_status(
        self,
        challenge_id: FromPath[str],
        identity: Identity,
        client: From,
        # Required, and said so in the contract: the page that started the login has it.
        poll_token: Annotated[
            str,
            HeaderParameter(name="qr-poll-token", required=True, min_length=1, max_length=200),
        ],
        wait: Annotated[int, QueryParameter(ge=0, le=MAX_QR_WAIT_SECONDS)] = 0,
    ) -> QrStatusOut | QrSignedInOut:
        """`wait` seconds of long polling: the answer comes as soon as the app approves.
        The tokens come once, to the poll that completes the login."""
        answer = await identity.poll_qr(
            challenge_id, poll_token, client.address, client.agent, wait=wait
        )
        if answer["status"] == "completed":
            return QrSignedInOut.model_validate(answer)
        return QrStatusOut.model_validate(answer)

    @get("/qr/{challenge_id:str}/request", guards=[signed_in])
    async def qr_request(
        self, challenge_id: FromPath[str], principal: Caller, identity: Identity
    ) -> QrRequestOut:
        """For the signed-in app, before it approves: who asked (address, browser, time)."""
        return QrRequestOut.model_validate(await identity.qr_request(principal, challenge_id))

    @post("/qr/{challenge_id:str}/approve", status_code=200, guards=[signed_in])
    async def qr_approve(
        self,
        challenge_id: FromPath[str],
        data: JSONBody[QrApprovalIn],
        principal: Caller,
        identity: Identity,
    ) -> QrApprovedOut:
        return QrApprovedOut.model_validate(
            await identity.approve_qr(principal, challenge_id, data.device)
        )

    @post("/password/forgot", status_code=202)
    async def forgot_password(
        self, data: JSONBody[PasswordForgottenIn], identity: Identity
    ) -> PasswordResetMailOut:
        """Mail a single-use reset link (valid 30 minutes) if the address has an account.
        The answer is the same whether or not it has one."""
        await identity.forgot_password(data.email)
        return PasswordResetMailOut(status="accepted")

    @post("/password/reset", status_code=200)
    async def reset_password(
        self, data: JSONBody[PasswordResetIn], identity: Identity
    ) -> PasswordResetOut:
        """Set a new password with the mailed token (once); every session of the user ends."""
        ended = await identity.reset_password(data.token, data.new_password)
        return PasswordResetOut(status="reset", sessions_revoked=ended)

    @post("/email/verify", status_code=200)
    async def verify_email(
        self, data: JSONBody[EmailVerificationIn], identity: Identity
    ) -> EmailStatusOut:
        """Confirm an address with the token from the verification mail (no sign-in needed:
        the link may be opened on another device). Tokens then issued no longer carry
        `email_unverified`: refresh or sign in again to pay, invite or change the email."""
        return EmailStatusOut.model_validate(await identity.verify_email_link(data.token))

    @post("/invitations/accept", status_code=201)
    async def accept(self, data: JSONBody[AcceptInvitationIn], identity: Identity) -> UserIdsOut:
        return UserIdsOut.model_validate(
            await identity.accept_invitation(data.token, data.name, data.password)
        )


class InternalController(Controller):
    """For other services only: never routed by the gateway (no prefix leads here)."""

    path = "/v1/internal"
    tags = ["internal"]
    guards = [signed_in]
    dependencies = {"principal": PRINCIPAL, "identity": IDENTITY}

    @get("/mails/{mail_id:str}")
    async def mail(
        self, mail_id: FromPath[str], principal: Caller, identity: Identity
    ) -> LinkMailOut:
        """A queued mail with its link token, for the notifications service's mail sender."""
        return LinkMailOut.model_validate(await identity.link_mail(principal, mail_id))


class ImageBody(Operation):
    """Documents the logo upload's body: the image's bytes as they are (not JSON), read
    by the route itself so that its size and type are checked on the bytes."""

    def to_schema(self) -> dict[str, Any]:
        schema = super().to_schema()
        binary = {"schema": {"type": "string", "format": "binary"}}
        schema["requestBody"] = {
            "required": True,
            "content": {"image/png": binary, "image/jpeg": binary},
        }
        return schema


class MeController(Controller):
    path = "/v1/me"
    tags = ["profile"]
    guards = [signed_in]
    dependencies = {"principal": PRINCIPAL, "identity": IDENTITY}

    @get("/")
    async def me(self, principal: Caller, identity: Identity) -> MeOut:
        user = await identity.me(principal)
        two_factor = await identity.mfa.is_enabled(user.user_id)
        time_zone = await identity.time_zone(user.account_id)
        return MeOut.model_validate(
            {**identity.profile(user), "two_factor": two_factor, "time_zone": time_zone}
        )

    @patch("/account")
    async def update_account(
        self, data: JSONBody[AccountPatchIn], principal: Caller, identity: Identity
    ) -> AccountOut:
        """My account's settings (owner or admin): its time zone."""
        return AccountOut.model_validate(await identity.change_time_zone(principal, data.time_zone))

    @post("/email/verify", status_code=200)
    async def verify_email(
        self, data: JSONBody[EmailVerificationIn], principal: Caller, identity: Identity
    ) -> EmailStatusOut:
        """Confirm my address with the token mailed to it."""
        return EmailStatusOut.model_validate(await identity.verify_email(principal, data.token))

    @post("/email/verification", status_code=202)
    async def resend_verification(self, principal: Caller, identity: Identity) -> EmailStatusOut:
        """Mail a new verification link (nothing happens once the address is verified)."""
        return EmailStatusOut.model_validate(await identity.resend_verification(principal))

    @post("/2fa", status_code=201)
    async def start_two_factor(self, principal: Caller, identity: Identity) -> TwoFactorSetupOut:
        return TwoFactorSetupOut.model_validate(await identity.start_two_factor(principal))

    @post("/2fa/confirm", status_code=200)
    async def confirm_two_factor(
        self, data: JSONBody[TwoFactorConfirmIn], principal: Caller, identity: Identity
    ) -> TwoFactorEnabledOut:
        return TwoFactorEnabledOut.model_validate(
            await identity.confirm_two_factor(principal, data.code)
        )

    @post("/2fa/disable", status_code=200)
    async def disable_two_factor(
        self, data: JSONBody[TwoFactorDisableIn], principal: Caller, identity: Identity
    ) -> TwoFactorDisabledOut:
        return TwoFactorDisabledOut.model_validate(
            await identity.disable_two_factor(principal, data.password, data.code)
        )

    @patch("/")
    async def update(
        self, data: JSONBody[ProfilePatchIn], principal: Caller, identity: Identity
    ) -> ProfileOut:
        return ProfileOut.model_validate(await identity.update_profile(principal, data))

    @post("/password", status_code=200)
    async def password(
        self, data: JSONBody[PasswordChangeIn], principal: Caller, identity: Identity
    ) -> PasswordChangedOut:
        revoked = await identity.change_password(
            principal, data.current_password, data.new_password
        )
        return PasswordChangedOut(status="changed", other_sessions_revoked=revoked)

    @get("/sessions")
    async def sessions(self, principal: Caller, identity: Identity) -> SessionsOut:
        """My live sign-ins, the most recently used first."""
        items = await identity.list_sessions(principal)
        return SessionsOut.model_validate({"items": items, "total": len(items)})

    @delete("/sessions/{session_id:str}", status_code=204)
    async def end_session(
        self, session_id: FromPath[str], principal: Caller, identity: Identity
    ) -> None:
        """Sign that session out: its refresh token is refused from now on."""
        await identity.end_session(principal, session_id)

    @post("/sessions/end-others", status_code=200)
    async def end_other_sessions(self, principal: Caller, identity: Identity) -> SessionsEndedOut:
        """Sign out everywhere but this session."""
        return SessionsEndedOut(sessions_ended=await identity.end_other_sessions(principal))

    @put(
        "/logo",
        status_code=200,
        request_max_body_size=MAX_LOGO_BYTES + 1,
        operation_class=ImageBody,
    )
    async def upload_logo(
        self, request: Request[Any, Any, Any], principal: Caller, identity: Identity
    ) -> ProfileOut:
        return ProfileOut.model_validate(
            await identity.upload_logo(principal, await request.body())
        )

    @get(
        "/logo",
        media_type="image/*",
        description="The logo's bytes (PNG or JPEG, typed from its content).",
    )
    async def logo(self, principal: Caller, identity: Identity) -> Response[bytes]:
        content_type, filename, data = await identity.logo(principal)
        return download(
            data, content_type, filename, headers={"Cache-Control": "private, max-age=300"}
        )


class AccountUsersController(Controller):
    path = "/v1/account/users"
    tags = ["account"]
    guards = [signed_in]
    dependencies = {"principal": PRINCIPAL, "identity": IDENTITY}

    @get("/")
    async def users(self, principal: Caller, identity: Identity) -> AccountUsersOut:
        items = await identity.list_users(principal)
        return AccountUsersOut.model_validate({"items": items, "total": len(items)})

    @post("/", status_code=201)
    async def invite(
        self, data: JSONBody[InvitationIn], principal: Caller, identity: Identity
    ) -> InvitationOut:
        return InvitationOut.model_validate(
            await identity.invite(principal, str(data.email), data.role)
        )

    @patch("/{user_id:str}")
    async def change_role(
        self,
        user_id: FromPath[str],
        data: JSONBody[RoleChangeIn],
        principal: Caller,
        identity: Identity,
    ) -> ProfileOut:
        return ProfileOut.model_validate(
            await identity.change_role(
                principal, user_id, data.role, tuple(data.platform_roles), data.department
            )
        )

    @delete("/{user_id:str}", status_code=204)
    async def remove(self, user_id: FromPath[str], principal: Caller, identity: Identity) -> None:
        """Remove a user, or withdraw an invitation (the owner stays): their sessions end
        and they can no longer sign in to the account."""
        await identity.remove_user(principal, user_id)


class StaffController(Controller):
    path = "/v1/staff"
    tags = ["staff"]
    guards = [signed_in]
    dependencies = {"principal": PRINCIPAL, "identity": IDENTITY}

    @post("/users", status_code=201, guards=[platform_admin])
    async def create_staff(
        self, data: JSONBody[StaffUserIn], principal: Caller, identity: Identity
    ) -> UserIdsOut:
        return UserIdsOut.model_validate(
            await identity.create_staff(
                principal,
                email=str(data.email),
                name=data.name,
                password=data.password,
                platform_roles=tuple(data.platform_roles),
                department=data.department,
            )
        )

    @get("/users", summary="The platform's active staff, for assignment pickers")
    async def staff_users(
        self,
        principal: Caller,
        identity: Identity,
        department: Annotated[str | None, QueryParameter(max_length=50)] = None,
    ) -> StaffMembersOut:
        items = await identity.staff_listing(principal, department)
        return StaffMembersOut.model_validate({"items": items, "total": len(items)})

    @get("/departments")
    async def departments(self, principal: Caller, identity: Identity) -> DepartmentsOut:
        return DepartmentsOut.model_validate(await identity.departments_listing(principal))

    @post("/departments", status_code=201, guards=[platform_admin])
    async def add_department(
        self, data: JSONBody[DepartmentIn], principal: Caller, identity: Identity
    ) -> DepartmentOut:
        return DepartmentOut.model_validate(
            await identity.departments.put(principal, data.id, data.name)
        )
