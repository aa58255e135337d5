"""Sign-in for the web portal: the refresh token in an httpOnly cookie, never in the page.

The JSON token routes (/api/v1/auth/login, /refresh, ...) stay as they are for mobile apps.
These routes call the same identity endpoints and differ only in where the refresh token
goes: into a `portal_refresh` cookie (HttpOnly, SameSite=Strict, path-scoped to these routes,
Secure except on plain-http localhost) instead of the answer, which carries the access token
alone for the app to keep in memory. A script injected into the page can therefore never read
a token that outlives the tab.

CSRF: every route here demands the `X-Portal-Session: 1` header (a cross-site form cannot send
a custom header, and a cross-site script would need a CORS preflight the gateway never grants),
refuses an `Origin` that is not this host, and refuses `Sec-Fetch-Site: cross-site`. SameSite=
Strict already keeps the cookie off cross-site requests; the checks hold even where a browser
ignores it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, QueryParameter

from portal_chassis.problems import ProblemError, problem
from portal_gateway.upstream import Upstream, seg

COOKIE = "portal_refresh"
PATH = "/api/v1/auth/session"
CSRF_HEADER = "x-portal-session"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
SMALL_BODY = 64 * 1024
DEFAULT_MAX_AGE = 30 * 24 * 3600


def _identity(request: Request[Any, Any, Any]) -> Upstream:
    return request.app.state.upstreams["identity"]  # type: ignore[no-any-return]


def _host(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("host", "").lower()


def _secure(request: Request[Any, Any, Any]) -> bool:
    """Secure, except on plain http to the machine itself (`make dev`, the browser tests)."""
    host = urlsplit(f"//{_host(request)}").hostname or ""
    bracketed = f"[{host}]" if ":" in host else host
    return not (request.url.scheme == "http" and bracketed in LOCAL_HOSTS)


def same_site_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The CSRF guard of every route here (see the module's docstring)."""
    headers = connection.headers
    if headers.get(CSRF_HEADER) != "1":
        raise ProblemError(403, "csrf_header_required", "send the X-Portal-Session: 1 header")
    origin = headers.get("origin")
    host = headers.get("host", "").lower()
    if (origin is not None and urlsplit(origin).netloc.lower() != host) or headers.get(
        "sec-fetch-site"
    ) == "cross-site":
        raise ProblemError(403, "cross_origin_refused", "this call is only taken from this site")


def session_cookie(request: Request[Any, Any, Any], token: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=token,
        path=PATH,
        max_age=max_age,
        httponly=True,
        secure=_secure(request),
        samesite="strict",
    )


def cleared_cookie(request: Request[Any, Any, Any]) -> Cookie:
    return session_cookie(request, "", 0)


def _tokens_into_cookie(request: Request[Any, Any, Any], answer: Response[Any]) -> Response[Any]:
    """An identity answer with tokens: the refresh token moves into the cookie."""
    if answer.status_code != 200:
        return answer
    try:
        body = json.loads(answer.content)
    except (TypeError, ValueError):
        return answer
    if not isinstance(body, dict) or not isinstance(body.get("refresh_token"), str):
        return answer  # a second factor is needed, or a QR login still pending
    token = body.pop("refresh_token")
    max_age = body.pop("refresh_expires_in", None)
    return Response(
        body,
        status_code=200,
        cookies=[
            session_cookie(request, token, max_age if isinstance(max_age, int) else DEFAULT_MAX_AGE)
        ],
    )


class BrowserSessionController(Controller):
    """Sign in, stay signed in across reloads, sign out: the web portal's session."""

    path = PATH
    tags = ["auth"]
    guards = [same_site_only]
    request_max_body_size = SMALL_BODY

    @post(
        "/login",
        status_code=200,
        summary="Log in from the web portal (refresh token set as an httpOnly cookie)",
        description=(
            "Body and answers as /api/v1/auth/login, without `refresh_token`: it is set as "
            "the `portal_refresh` cookie. Requires the `X-Portal-Session: 1` header."
        ),
    )
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        answer = await _identity(request).forward(
            request, "/v1/auth/login", body=await request.body(), params={}
        )
        return _tokens_into_cookie(request, answer)

    @post(
        "/login/2fa",
        status_code=200,
        summary="Finish a two-factor login from the web portal",
        description="Body {mfa_token, code}; as /api/v1/auth/login/2fa (refresh token: cookie).",
    )
    async def login_second_factor(self, request: Request[Any, Any, Any]) -> Response[Any]:
        answer = await _identity(request).forward(
            request, "/v1/auth/login/2fa", body=await request.body(), params={}
        )
        return _tokens_into_cookie(request, answer)

    @get(
        "/qr/{challenge_id:str}",
        summary="Poll a QR login from the web portal (header Qr-Poll-Token)",
        description=(
            "As GET /api/v1/auth/qr/{id}; once the app approved, the answer carries the "
            "access token and the refresh token is set as the cookie."
        ),
    )
    async def qr_status(
        self,
        request: Request[Any, Any, Any],
        challenge_id: FromPath[str],
        wait: Annotated[int, QueryParameter(ge=0, le=10)] = 0,
    ) -> Response[Any]:
        answer = await _identity(request).forward(
            request, f"/v1/auth/qr/{seg(challenge_id)}", params={"wait": wait}
        )
        return _tokens_into_cookie(request, answer)

    @post(
        "/refresh",
        status_code=200,
        summary="A new access token for the web portal, from the session cookie",
        description=(
            "No body. Rotates the cookie's refresh token; 401 no_session without the cookie, "
            "and the cookie is cleared when identity refuses it. Requires X-Portal-Session: 1 "
            "and a same-site Origin."
        ),
    )
    async def refresh(self, request: Request[Any, Any, Any]) -> Response[Any]:
        token = request.cookies.get(COOKIE)
        if not token:
            return problem(401, "no_session", "not signed in on this browser")
        answer = await _identity(request).forward(
            request,
            "/v1/auth/refresh",
            body=json.dumps({"refresh_token": token}).encode(),
            params={},
        )
        if answer.status_code in (400, 401, 422):
            answer.cookies.append(cleared_cookie(request))
            return answer
        return _tokens_into_cookie(request, answer)

    @post(
        "/logout",
        status_code=200,
        summary="Sign out of the web portal (answers 204; ends the session, clears the cookie)",
        description="Send the access token as usual; the cookie is cleared in any case.",
    )
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if request.headers.get("authorization"):
            # Revokes the session (and so the refresh token in the cookie) at identity.
            await _identity(request).forward(request, "/v1/auth/logout", body=b"", params={})
        return Response(None, status_code=204, cookies=[cleared_cookie(request)])
