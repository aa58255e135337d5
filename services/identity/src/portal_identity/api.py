"""Identity's internal HTTP API (reached through the gateway)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, QueryParameter
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from portal_chassis.auth import Principal, principal_from
from portal_chassis.problems import ProblemError, parse_json_body
from portal_chassis.web import download
from portal_identity.handlers import MAX_LOGO_BYTES, MAX_QR_WAIT_SECONDS, IdentityService

Name = Annotated[str, Field(min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=1, max_length=256)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterRequest(Strict):
    email: EmailStr = Field(max_length=254)
    password: Password
    name: Name
    account_name: Name | None = None
    kind: Literal["organisation", "person"] = "person"


class LoginRequest(Strict):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Password


OneTimeCode = Annotated[str, Field(min_length=6, max_length=20)]
"""Six digits from the app, or a recovery code like `k7q2m-x9d4a`."""


class SecondFactorRequest(Strict):
    mfa_token: Annotated[str, Field(min_length=10, max_length=200)]
    code: OneTimeCode


class TwoFactorConfirm(Strict):
    code: OneTimeCode


class TwoFactorDisable(Strict):
    password: Password
    code: OneTimeCode


class RefreshRequest(Strict):
    refresh_token: Annotated[str, Field(min_length=10, max_length=200)]


class ServiceTokenRequest(Strict):
    client_id: Annotated[str, Field(min_length=1, max_length=100)]
    client_secret: Annotated[str, Field(min_length=1, max_length=500)]


class ProfilePatch(Strict):
    name: Name | None = None
    phone: Annotated[str, Field(max_length=30, pattern=r"^\+?[0-9 ().-]{6,30}$")] | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    language: Literal["vi", "en"] | None = None


class PasswordChange(Strict):
    current_password: Password
    new_password: Password


class Invitation(Strict):
    email: EmailStr = Field(max_length=254)
    role: Literal["admin", "staff"] = "staff"


class AcceptInvitation(Strict):
    token: Annotated[str, Field(min_length=10, max_length=200)]
    name: Name
    password: Password


class RoleChange(Strict):
    role: Literal["owner", "admin", "staff"]
    platform_roles: list[
        Literal["support_agent", "technician", "sales", "billing_admin", "platform_admin"]
    ] = Field(default_factory=list, max_length=5)
    department: Annotated[str, Field(max_length=50)] | None = None


class StaffUser(Strict):
    email: EmailStr = Field(max_length=254)
    name: Name
    password: Password
    platform_roles: list[
        Literal["support_agent", "technician", "sales", "billing_admin", "platform_admin"]
    ] = Field(min_length=1, max_length=5)
    department: Annotated[str, Field(max_length=50)] | None = None


class Department(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,49}$")]
    name: Name


class EmailVerification(Strict):
    token: Annotated[str, Field(min_length=10, max_length=200)]


class QrApproval(Strict):
    device: Annotated[str, Field(min_length=1, max_length=200)]


def _svc(request: Request[Any, Any, Any]) -> IdentityService:
    return request.app.state.identity  # type: ignore[no-any-return]


def client_of(request: Request[Any, Any, Any]) -> tuple[str, str]:
    # Only the gateway reaches this service (NetworkPolicy); it passes the caller's address.
    address = request.headers.get("x-client-address") or (
        request.client.host if request.client else "unknown"
    )
    return address[:100], request.headers.get("user-agent", "")[:300]


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]

    @post("/register", status_code=201)
    async def register(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        """An address in use gets the same answer as a new one (its owner is mailed)."""
        data = parse_json_body(await request.body(), RegisterRequest)
        address, _ = client_of(request)
        return await _svc(request).sign_up(
            email=str(data.email),
            password=data.password,
            name=data.name,
            account_name=data.account_name or data.name,
            kind=data.kind,
            client_address=address,
        )

    @post("/login", status_code=200)
    async def login(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        data = parse_json_body(await request.body(), LoginRequest)
        address, agent = client_of(request)
        return Response(await _svc(request).login(data.email, data.password, address, agent))

    @post("/login/2fa", status_code=200)
    async def login_second_factor(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        data = parse_json_body(await request.body(), SecondFactorRequest)
        address, agent = client_of(request)
        return await _svc(request).login_second_factor(data.mfa_token, data.code, address, agent)

    @post("/refresh", status_code=200)
    async def refresh(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        data = parse_json_body(await request.body(), RefreshRequest)
        return await _svc(request).refresh(data.refresh_token)

    @post("/logout", status_code=204)
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        await _svc(request).logout(await principal_from(request))

    @post("/service-token", status_code=200)
    async def service_token(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        """Internal: never routed by the gateway (client credentials of a service)."""
        data = parse_json_body(await request.body(), ServiceTokenRequest)
        return _svc(request).service_token(data.client_id, data.client_secret)

    @get("/jwks")
    async def jwks(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return _svc(request).keyring.jwks()

    @post("/keys/rotate", status_code=200)
    async def rotate(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return await _svc(request).rotate_keys(await principal_from(request))

    @post("/qr", status_code=201)
    async def qr(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        address, agent = client_of(request)
        return await _svc(request).create_qr(address, agent)

    @get("/qr/{challenge_id:str}")
    async def qr_status(
        self,
        request: Request[Any, Any, Any],
        challenge_id: FromPath[str],
        wait: Annotated[int, QueryParameter(ge=0, le=MAX_QR_WAIT_SECONDS)] = 0,
    ) -> dict[str, Any]:
        """`wait` seconds of long polling: the answer comes as soon as the app approves."""
        poll_token = request.headers.get("qr-poll-token", "")[:200]
        if not poll_token:
            raise ProblemError(400, "poll_token_required", "send the Qr-Poll-Token header")
        address, agent = client_of(request)
        return await _svc(request).poll_qr(challenge_id, poll_token, address, agent, wait=wait)

    @get("/qr/{challenge_id:str}/request")
    async def qr_request(
        self, request: Request[Any, Any, Any], challenge_id: FromPath[str]
    ) -> dict[str, Any]:
        """For the signed-in app, before it approves: who asked (address, browser, time)."""
        principal = await principal_from(request)
        return await _svc(request).qr_request(principal, challenge_id)

    @post("/qr/{challenge_id:str}/approve", status_code=200)
    async def qr_approve(
        self, request: Request[Any, Any, Any], challenge_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), QrApproval)
        return await _svc(request).approve_qr(principal, challenge_id, data.device)

    @post("/invitations/accept", status_code=201)
    async def accept(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        data = parse_json_body(await request.body(), AcceptInvitation)
        return await _svc(request).accept_invitation(data.token, data.name, data.password)


class MeController(Controller):
    path = "/v1/me"
    tags = ["profile"]

    @get("/")
    async def me(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        svc = _svc(request)
        user = await svc.me(await principal_from(request))
        return {**svc.profile(user), "two_factor": await svc.mfa.is_enabled(user.user_id)}

    @post("/email/verify", status_code=200)
    async def verify_email(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        """Confirm my address with the token mailed to it."""
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), EmailVerification)
        return await _svc(request).verify_email(principal, data.token)

    @post("/email/verification", status_code=202)
    async def resend_verification(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        """Mail a new verification link (nothing happens once the address is verified)."""
        return await _svc(request).resend_verification(await principal_from(request))

    @post("/2fa", status_code=201)
    async def start_two_factor(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return await _svc(request).start_two_factor(await principal_from(request))

    @post("/2fa/confirm", status_code=200)
    async def confirm_two_factor(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), TwoFactorConfirm)
        return await _svc(request).confirm_two_factor(principal, data.code)

    @post("/2fa/disable", status_code=200)
    async def disable_two_factor(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), TwoFactorDisable)
        return await _svc(request).disable_two_factor(principal, data.password, data.code)

    @patch("/")
    async def update(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), ProfilePatch)
        return await _svc(request).update_profile(principal, data.model_dump(exclude_unset=True))

    @post("/password", status_code=200)
    async def password(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), PasswordChange)
        revoked = await _svc(request).change_password(
            principal, data.current_password, data.new_password
        )
        return {"status": "changed", "other_sessions_revoked": revoked}

    @put("/logo", status_code=200, request_max_body_size=MAX_LOGO_BYTES + 1)
    async def upload_logo(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        return await _svc(request).upload_logo(principal, await request.body())

    @get("/logo")
    async def logo(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        content_type, filename, data = await _svc(request).logo(await principal_from(request))
        return download(
            data, content_type, filename, headers={"Cache-Control": "private, max-age=300"}
        )


class AccountUsersController(Controller):
    path = "/v1/account/users"
    tags = ["account"]

    @get("/")
    async def users(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        items = await _svc(request).list_users(await principal_from(request))
        return {"items": items, "total": len(items)}

    @post("/", status_code=201)
    async def invite(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), Invitation)
        return await _svc(request).invite(principal, str(data.email), data.role)

    @patch("/{user_id:str}")
    async def change_role(
        self, request: Request[Any, Any, Any], user_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = await principal_from(request)
        data = parse_json_body(await request.body(), RoleChange)
        return await _svc(request).change_role(
            principal, user_id, data.role, tuple(data.platform_roles), data.department
        )


async def _platform_admin(request: Request[Any, Any, Any]) -> Principal:
    principal = await principal_from(request)
    if "platform_admin" not in principal.roles:
        raise ProblemError(403, "forbidden", "this needs the platform admin role")
    return principal


class StaffController(Controller):
    path = "/v1/staff"
    tags = ["staff"]

    @post("/users", status_code=201)
    async def create_staff(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        principal = await _platform_admin(request)
        data = parse_json_body(await request.body(), StaffUser)
        return await _svc(request).create_staff(
            principal,
            email=str(data.email),
            name=data.name,
            password=data.password,
            platform_roles=tuple(data.platform_roles),
            department=data.department,
        )

    @get("/departments")
    async def departments(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await principal_from(request)
        if not principal.is_staff:
            raise ProblemError(403, "forbidden", "this is for platform staff only")
        return await _svc(request).departments.listing()

    @post("/departments", status_code=201)
    async def add_department(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        principal = await _platform_admin(request)
        data = parse_json_body(await request.body(), Department)
        return await _svc(request).departments.put(principal, data.id, data.name)
