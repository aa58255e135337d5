"""The gateway's edge: what every public answer carries, and bounds on what a client may
hold or send.

- `edge_headers` wraps the whole app (404s included): `nosniff` on every answer,
  `no-store` on authentication, profile and every authenticated answer, a strict CSP with
  `frame-ancestors 'none'` on HTML pages (the hashes of their inline scripts are allowed,
  nothing else inline), and a 401 for a token whose session was revoked.
- `request_limits` runs per route: a body declared larger than the route's limit is
  refused before a byte of it is read (413), a body that trickles in is cut off (408), and
  large bodies count against the account's upload quota (429).
- `HeaderTimeoutProtocol` is uvicorn's HTTP/1.1 protocol plus a deadline for a request's
  head: uvicorn never times out a client that sends its headers byte by byte.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import h11
from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from portal_chassis.auth import principal_from
from portal_chassis.problems import PROBLEM_JSON, ProblemError
from portal_gateway.sessions import RevokedSessions
from portal_gateway.settings import GatewaySettings

NO_STORE_PREFIXES = ("/api/v1/auth", "/api/v1/me")
"""Tokens, codes and the profile: never kept by a browser or a proxy, signed in or not."""
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)


def html_policy(body: bytes) -> str:
    """CSP for one HTML page: its own inline scripts (by hash) and same-origin assets."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(body)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        # blob: for images the page fetched with its bearer token (a logo, a ticket's
        # screenshot): an <img> cannot send the token, so the page shows an object URL.
        "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((v for k, v in scope.get("headers", []) if k == name), None)


def session_of(authorization: bytes | None) -> str | None:
    """The `sid` claim of a bearer token, unverified: only ever used to refuse."""
    if not authorization or authorization[:7].lower() != b"bearer ":
        return None
    parts = authorization[7:].strip().split(b".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + b"=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    sid = claims.get("sid") if isinstance(claims, dict) else None
    return sid if isinstance(sid, str) else None


async def send_problem(
    send: Callable[[Any], Awaitable[None]],
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    body = json.dumps(
        {
            "type": f"https://portal.local/problems/{code.replace('_', '-')}",
            "title": code.replace("_", " ").capitalize(),
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def edge_headers(app: ASGIApp, revoked: RevokedSessions | None = None) -> ASGIApp:
    """Wrap the whole app: security headers on every answer, revoked sessions refused."""

    async def edge(scope: Scope, receive: Receive, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        authorization = _header(scope, b"authorization")
        path = scope.get("path", "")
        no_store = authorization is not None or path.startswith(NO_STORE_PREFIXES)
        held: list[Any] = []

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                replaced = {b"x-content-type-options", *((b"cache-control",) if no_store else ())}
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in replaced
                ]
                headers.append((b"x-content-type-options", b"nosniff"))
                if no_store:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    held.append(message)  # sent once the page (and its scripts) is known
                    return
            elif held:
                held.append(message)
                if message["type"] == "http.response.body" and message.get("more_body"):
                    return
                start, *parts = held
                body = b"".join(p.get("body", b"") for p in parts)
                headers = [
                    *(
                        (k, v)
                        for k, v in start.get("headers", [])
                        if k.lower() != b"content-length"
                    ),
                    (b"content-length", str(len(body)).encode()),
                    (b"content-security-policy", html_policy(body).encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                held.clear()
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        if revoked is not None and revoked.contains(session_of(authorization)):
            await send_problem(
                send_with_headers,
                401,
                "session_revoked",
                "this session has ended (logged out or revoked); log in again",
                {"WWW-Authenticate": 'Bearer realm="portal", error="invalid_token"'},
            )
            return
        await app(scope, receive, send_with_headers)

    return edge


class UploadQuota:
    """Bytes of large bodies one account sends per window, counted across replicas."""

    def __init__(self, db: Any, limit: int, window_seconds: int) -> None:
        self.usage = db["upload_quota"]
        self.limit = limit
        self.window = window_seconds

    async def charge(self, account_id: str, size: int, now: float) -> int | None:
        """Count `size` bytes; None if within the quota, else seconds until it resets."""
        window = int(now) // self.window * self.window
        key = f"{account_id}|{window}"
        doc = await self.usage.find_one_and_update(
            {"_id": key},
            {"$inc": {"bytes": size}, "$setOnInsert": {"window": window}},
            upsert=True,
            return_document=True,
        )
        if doc["bytes"] <= self.limit:
            return None
        await self.usage.update_one({"_id": key}, {"$inc": {"bytes": -size}})
        return window + self.window - int(now)

    async def purge_now(self) -> None:
        await self.usage.delete_many({"window": {"$lt": int(time.time()) - 2 * self.window}})


def request_limits(
    settings: GatewaySettings, quota: UploadQuota | None = None
) -> Callable[[ASGIApp], ASGIApp]:
    """Per-route middleware bounding the size and the arrival time of a request body."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def limits(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope.get("method") not in WITH_BODY:
                await app(scope, receive, send)
                return
            declared = _content_length(scope)
            limit = _body_limit(scope)
            if declared is not None and limit is not None and declared > limit:
                await send_problem(
                    send,
                    413,
                    "payload_too_large",
                    f"the body may be at most {limit} bytes here",
                    {"Connection": "close"},
                )
                return
            if quota is not None and declared and declared >= settings.upload_min_bytes:
                retry = await _charge(scope, quota, declared)
                if retry is not None:
                    await send_problem(
                        send,
                        429,
                        "upload_quota_exceeded",
                        "this account sent too many large uploads; try again later",
                        {"Retry-After": str(retry), "Connection": "close"},
                    )
                    return
            await app(scope, _timed(receive, settings, declared or 0), send)

        return limits

    return middleware


def _body_limit(scope: Scope) -> int | None:
    handler = scope.get("route_handler")
    prefix = getattr(handler, "opt", {}).get("prefix")
    if prefix is not None:  # a forwarded prefix: its limit for this method and path
        rest = scope["path"][len(prefix.public) :]
        return int(prefix.body_limit(scope.get("method", "POST"), rest))
    resolve = getattr(handler, "resolve_request_max_body_size", None)
    return resolve() if resolve is not None else None


async def _charge(scope: Scope, quota: UploadQuota, size: int) -> int | None:
    try:
        principal = await principal_from(ASGIConnection(scope))
    except ProblemError:
        return None  # the route's own check answers 401
    return await quota.charge(principal.account_id, size, time.time())


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _timed(receive: Receive, settings: GatewaySettings, declared: int) -> Receive:
    """`receive`, but a body that stalls or takes too long ends in 408 (problem+json).

    "Too long" grows with the declared size at a slow but honest rate, so a large upload
    over a poor link gets through; such bodies also count against the upload quota first,
    so one account cannot hold many of them open.
    """
    loop = asyncio.get_running_loop()
    allowed = settings.body_timeout_seconds + declared / settings.body_min_bytes_per_second
    ends = loop.time() + allowed
    done = False

    async def receive_in_time() -> Any:
        nonlocal done
        if done:  # the body is in; what follows (a disconnect) may take any time
            return await receive()
        wait = min(settings.body_idle_seconds, ends - loop.time())
        try:
            message = await asyncio.wait_for(receive(), timeout=max(wait, 0.0))
        except TimeoutError:
            raise ProblemError(
                408, "request_timeout", "the request body did not arrive in time"
            ) from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            done = True
        return message

    return receive_in_time


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's head (slowloris).

    The clock starts when a connection opens and again at the first byte of each next
    request on a kept-alive connection; it stops when the head is complete. Run with
    `uvicorn --http portal_gateway.edge:HeaderTimeoutProtocol`.
    """

    header_timeout = float(os.environ.get("GATEWAY_HEADER_TIMEOUT_SECONDS", "10"))

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # a head has begun but is not complete
            self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_deadline is None and not self.transport.is_closing():
            self._head_deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        self.transport.write(
            b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
        )
        self.transport.close()
