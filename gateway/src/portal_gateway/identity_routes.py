"""Public auth, profile and user-management routes, forwarded to the identity service.

Identity validates every body strictly and checks the token itself; the gateway adds the
caller's address (for throttling and the security log) and keeps bodies small.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, QueryParameter

from portal_gateway.upstream import forward_to, seg

SMALL_BODY = 64 * 1024
LOGO_BODY = 1024 * 1024 + 1


async def _forward(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    return await forward_to(request, "identity", path)


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]
    request_max_body_size = SMALL_BODY

    @post(
        "/register",
        status_code=201,
        summary="Register an account and its owner",
        description=(
            "Body: {email, password, name, account_name?, kind: person|organisation}. An "
            "address in use gets the same answer (its owner is mailed); a verification link "
            "is mailed to the address. 429 too_many_registrations with Retry-After."
        ),
    )
    async def register(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/register")

    @post(
        "/login",
        status_code=200,
        summary="Log in with email and password",
        description=(
            "Body: {email, password}. 401 invalid_credentials; 429 with Retry-After. With "
            "two-factor login on, the answer is {mfa_required, mfa_token, expires_in}: "
            "finish at /api/v1/auth/login/2fa."
        ),
    )
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/login")

    @post(
        "/login/2fa",
        status_code=200,
        summary="Finish a two-factor login with the app's code or a recovery code",
        description=(
            "Body: {mfa_token, code}. Tokens as from /login; 401 invalid_code; five codes per "
            "challenge; too many wrong codes lock it: 429 second_factor_locked, Retry-After."
        ),
    )
    async def login_second_factor(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/login/2fa")

    @post(
        "/refresh",
        status_code=200,
        summary="Rotate a refresh token",
        description="Body: {refresh_token}. Reusing a used token revokes the session.",
    )
    async def refresh(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/refresh")

    @post(
        "/logout",
        status_code=200,
        summary="End this session (answers 204; revokes its refresh tokens)",
    )
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/logout")

    @get("/jwks", summary="Public keys that verify access tokens (JWKS)")
    async def jwks(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/jwks")

    @post("/keys/rotate", status_code=200, summary="Rotate the token signing key (platform admin)")
    async def rotate(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/keys/rotate")

    @post(
        "/qr",
        status_code=201,
        summary="Start a QR login (web)",
        description="Answers the challenge id, a poll_token, the QR as SVG and its expiry.",
    )
    async def qr(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/qr")

    @get(
        "/qr/{challenge_id:str}",
        summary="Poll a QR login (web; header Qr-Poll-Token)",
        description=(
            "Tokens are delivered exactly once, after the app approved. With ?wait=N "
            "(at most 10) the answer is held until the status changes: long polling."
        ),
    )
    async def qr_status(
        self,
        request: Request[Any, Any, Any],
        challenge_id: FromPath[str],
        wait: Annotated[int, QueryParameter(ge=0, le=10)] = 0,
    ) -> Response[Any]:
        return await _forward(request, f"/v1/auth/qr/{seg(challenge_id)}")

    @get(
        "/qr/{challenge_id:str}/request",
        summary="Who asked to sign in with a QR code (the app shows it before approving)",
        description="Answers the requester's address, user agent, time and the code's expiry.",
    )
    async def qr_request(
        self, request: Request[Any, Any, Any], challenge_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/auth/qr/{seg(challenge_id)}/request")

    @post(
        "/qr/{challenge_id:str}/approve",
        status_code=200,
        summary="Approve a QR login from a logged-in app",
        description="Body: {device}",
    )
    async def qr_approve(
        self, request: Request[Any, Any, Any], challenge_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/auth/qr/{seg(challenge_id)}/approve")

    @post(
        "/invitations/accept",
        status_code=201,
        summary="Accept an invitation",
        description="Body: {token, name, password}",
    )
    async def accept(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/invitations/accept")


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["profile"]
    request_max_body_size = SMALL_BODY

    @get("/", summary="My profile")
    async def me(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me")

    @patch(
        "/",
        summary="Update my profile",
        description="Body: any of {name, phone, address, language: vi|en}; null clears.",
    )
    async def update(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me")

    @post(
        "/password",
        status_code=200,
        summary="Change my password (ends my other sessions)",
        description="Body: {current_password, new_password}",
    )
    async def password(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me/password")

    @post(
        "/email/verify",
        status_code=200,
        summary="Confirm my email address with the token mailed to it",
        description="Body: {token}. 422 verification_invalid.",
    )
    async def verify_email(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me/email/verify")

    @post(
        "/email/verification",
        status_code=202,
        summary="Mail me a new verification link",
    )
    async def resend_verification(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me/email/verification")

    @post(
        "/2fa",
        status_code=201,
        summary="Start two-factor login: a secret and its QR for an authenticator app",
    )
    async def start_two_factor(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me/2fa")

    @post(
        "/2fa/confirm",
        status_code=200,
        summary="Turn two-factor login on with a code from the app",
        description="Body: {code}. Answers ten single-use recovery codes, shown once.",
    )
    async def confirm_two_factor(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me/2fa/confirm")

    @post(
        "/2fa/disable",
        status_code=200,
        summary="Turn two-factor login off",
        description="Body: {password, code} (a code from the app or a recovery code).",
    )
    async def disable_two_factor(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me/2fa/disable")

    @put(
        "/logo",
        status_code=200,
        request_max_body_size=LOGO_BODY,
        summary="Upload my logo (raw PNG or JPEG bytes, at most 1 MB)",
    )
    async def upload_logo(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me/logo")

    @get("/logo", summary="Download my logo")
    async def logo(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/me/logo")


class AccountUsersController(Controller):
    path = "/api/v1/account/users"
    tags = ["account"]
    request_max_body_size = SMALL_BODY

    @get("/", summary="Users of my account (owner/admin)")
    async def users(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/account/users")

    @post(
        "/",
        status_code=201,
        summary="Invite a user by email (owner/admin)",
        description=(
            "Body: {email, role: admin|staff}. The acceptance token is mailed to the address, "
            "never returned: only the mailbox's owner can accept."
        ),
    )
    async def invite(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/account/users")

    @patch(
        "/{user_id:str}",
        summary="Change a user's role (owner/admin)",
        description="Body: {role, platform_roles?, department?}",
    )
    async def change_role(
        self, request: Request[Any, Any, Any], user_id: FromPath[str]
    ) -> Response[Any]:
        return await _forward(request, f"/v1/account/users/{seg(user_id)}")


class StaffController(Controller):
    path = "/api/v1/staff"
    tags = ["staff"]
    request_max_body_size = SMALL_BODY

    @post("/users", status_code=201, summary="Create a platform staff user (platform admin)")
    async def create_staff(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/staff/users")

    @get("/departments", summary="Staff departments")
    async def departments(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/staff/departments")

    @post("/departments", status_code=201, summary="Add a department (platform admin)")
    async def add_department(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/staff/departments")


class WellKnownController(Controller):
    path = "/.well-known"
    include_in_schema = False

    @get("/jwks.json")
    async def jwks(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await _forward(request, "/v1/auth/jwks")
