"""The public API by prefix: which service answers a path, who may call it, how big a body
may be. One forwarding handler per prefix does the rest (token, idempotency, correlation
ids, escaping); the service validates bodies and checks roles and tenancy itself.

Adding a service route needs no gateway change when its public path sits under a prefix
below. Hand-written gateway routes remain only where the gateway adds behaviour of its
own (dashboards and their live stream).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import unquote

from litestar import Request, Response, route
from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler

from portal_chassis.auth import principal_from
from portal_chassis.problems import ProblemError, problem
from portal_gateway.upstream import forward_to, seg

SMALL = 64 * 1024
# Five attachments of 10 MB, base64-encoded, plus text.
WITH_FILES = 5 * (10 * 1024 * 1024 * 4 // 3 + 1024) + 256 * 1024
# A proof of payment (image or PDF, <= 10 MB) base64-encoded, plus text.
ONE_FILE = 10 * 1024 * 1024 * 4 // 3 + 64 * 1024
LOGO = 1024 * 1024 + 1
PHOTO = 5 * 1024 * 1024 + 1

READS = frozenset({"GET", "HEAD", "OPTIONS"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class Access(Enum):
    """Who may call a prefix at all (the service decides the finer roles)."""

    ANONYMOUS = "anonymous"  # sign-in, registration, webhooks (signed by the provider)
    PUBLIC_READ = "public read"  # reads are public (a token, if sent, must be valid)
    SIGNED_IN = "signed in"
    STAFF = "platform staff"


@dataclass(frozen=True)
class Prefix:
    public: str
    service: str
    access: Access
    max_body: int = SMALL
    # (METHOD, pattern of the path below the prefix) -> a larger body limit (uploads)
    uploads: dict[tuple[str, str], int] = field(default_factory=dict)
    # The service's path for `public`; by default `public` without its leading `/api`.
    upstream: str = ""
    tag: str = ""
    # Service routes below the prefix that other services call, never the public (404).
    internal: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        return self.upstream or self.public.removeprefix("/api")

    @property
    def largest_body(self) -> int:
        return max([self.max_body, *self.uploads.values()])

    def is_internal(self, rest: str) -> bool:
        return any(fnmatch.fnmatchcase(rest, pattern) for pattern in self.internal)

    def body_limit(self, method: str, rest: str) -> int:
        for (upload_method, pattern), limit in self.uploads.items():
            if method == upload_method and fnmatch.fnmatchcase(rest or "/", pattern):
                return limit
        return self.max_body


PREFIXES: tuple[Prefix, ...] = (
    # identity
    Prefix("/api/v1/auth", "identity", Access.ANONYMOUS, tag="auth", internal=("/service-token*",)),
    Prefix(
        "/api/v1/me", "identity", Access.SIGNED_IN, uploads={("PUT", "/logo"): LOGO}, tag="profile"
    ),
    Prefix("/api/v1/account/users", "identity", Access.SIGNED_IN, tag="account"),
    Prefix("/api/v1/staff/users", "identity", Access.SIGNED_IN, tag="staff"),
    Prefix("/api/v1/staff/departments", "identity", Access.SIGNED_IN, tag="staff"),
    Prefix(
        "/.well-known/jwks.json", "identity", Access.ANONYMOUS, upstream="/v1/auth/jwks", tag="auth"
    ),
    # wallet
    Prefix("/api/v1/wallet", "wallet", Access.SIGNED_IN, tag="wallet"),
    Prefix("/api/v1/payments/webhooks", "wallet", Access.ANONYMOUS, tag="payments"),
    Prefix(
        "/api/v1/staff/wallet/holds",
        "wallet",
        Access.STAFF,
        upstream="/v1/wallet-holds",
        tag="wallet-staff",
    ),
    # repairs and tickets
    Prefix(
        "/api/v1/repairs",
        "repairs",
        Access.SIGNED_IN,
        uploads={("POST", "/*/photos"): PHOTO},
        tag="repairs",
    ),
    Prefix(
        "/api/v1/tickets",
        "tickets",
        Access.SIGNED_IN,
        uploads={("POST", "/"): WITH_FILES, ("POST", "/*/replies"): WITH_FILES},
        tag="tickets",
    ),
    # billing
    Prefix("/api/v1/plans", "billing", Access.PUBLIC_READ, tag="plans"),
    Prefix("/api/v1/orders", "billing", Access.SIGNED_IN, tag="orders"),
    Prefix("/api/v1/subscriptions", "billing", Access.SIGNED_IN, tag="subscriptions"),
    Prefix("/api/v1/contracts", "billing", Access.SIGNED_IN, tag="contracts"),
    Prefix(
        "/api/v1/invoices",
        "billing",
        Access.SIGNED_IN,
        uploads={("POST", "/*/payment-confirmation"): ONE_FILE},
        tag="invoices",
    ),
    Prefix("/api/v1/purchases", "billing", Access.SIGNED_IN, tag="purchases"),
    Prefix("/api/v1/payment-claims", "billing", Access.SIGNED_IN, tag="payment-claims"),
    Prefix("/api/v1/billing/settings", "billing", Access.SIGNED_IN, tag="billing"),
    # crm
    Prefix(
        "/api/v1/crm",
        "crm",
        Access.STAFF,
        uploads={
            ("POST", "/contacts/*/attachments"): WITH_FILES,
            ("POST", "/contacts/*/comments"): WITH_FILES,
            ("POST", "/care-activities/*/comments"): WITH_FILES,
        },
        tag="crm",
    ),
    Prefix("/api/v1/loyalty", "crm", Access.SIGNED_IN, tag="loyalty"),
    Prefix("/api/v1/timeline", "crm", Access.SIGNED_IN, tag="timeline"),
    # notifications (the preferences sit below identity's /me, as the more specific route)
    Prefix("/api/v1/notifications", "notifications", Access.SIGNED_IN, tag="notifications"),
    Prefix(
        "/api/v1/staff/notifications/deliveries",
        "notifications",
        Access.STAFF,
        upstream="/v1/deliveries",
        tag="notifications-staff",
    ),
    # The link in a mail: its signed token says whose mail of which category to switch off.
    Prefix(
        "/api/v1/notifications/unsubscribe",
        "notifications",
        Access.ANONYMOUS,
        tag="notifications",
    ),
    Prefix(
        "/api/v1/me/notification-preferences",
        "notifications",
        Access.SIGNED_IN,
        tag="notifications",
    ),
)


async def _guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    prefix: Prefix = handler.opt["prefix"]
    method = connection.scope.get("method", "GET")
    if method == "OPTIONS" or prefix.access is Access.ANONYMOUS:
        return
    if prefix.access is Access.PUBLIC_READ and method in READS:
        if connection.headers.get("authorization"):
            await principal_from(connection)  # a token that is sent must be valid
        return
    principal = await principal_from(connection)
    if prefix.access is Access.STAFF and not principal.is_staff:
        # Not "a staff role": a customer account's own `staff` users are refused too.
        raise ProblemError(403, "forbidden", "this is for platform staff only")


def below(prefix: Prefix, scope: Any) -> str:
    """The part of the request's path below the prefix, each segment escaped again for
    the upstream URL (an id holding `/`, `?`, `#` or `..` stays one segment)."""
    # Some servers keep the query in `raw_path`; an encoded `?` inside an id is `%3F`.
    raw = (scope.get("raw_path") or b"").decode("latin-1").partition("?")[0]
    if raw.startswith(prefix.public):
        rest = raw[len(prefix.public) :]
    else:  # the prefix itself was percent-encoded: fall back to the decoded path
        rest = scope["path"][len(prefix.public) :]
    if rest in ("", "/"):
        return ""
    return "/".join(seg(unquote(part)) for part in rest.split("/"))


def forwarding_handler(prefix: Prefix) -> HTTPRouteHandler:
    async def forward(request: Request[Any, Any, Any]) -> Response[Any]:
        rest = below(prefix, request.scope)
        if prefix.is_internal(unquote(rest).rstrip("/")):
            return problem(404, "not_found", "no such route")
        if request.method in WITH_BODY:
            # Bodies sent without a Content-Length are measured here (the edge checks a
            # declared length before the body is read).
            limit = prefix.body_limit(request.method, unquote(rest))
            if len(await request.body()) > limit:
                return problem(
                    413, "payload_too_large", f"the body may be at most {limit} bytes here"
                )
        return await forward_to(request, prefix.service, prefix.target + rest)

    return route(
        [prefix.public, prefix.public + "/{rest:path}"],
        http_method=[
            HttpMethod.GET,
            HttpMethod.POST,
            HttpMethod.PUT,
            HttpMethod.PATCH,
            HttpMethod.DELETE,
            HttpMethod.OPTIONS,
        ],
        name=f"forward {prefix.public}",
        guards=[_guard],
        opt={"prefix": prefix},
        request_max_body_size=prefix.largest_body,
        include_in_schema=False,  # the public OpenAPI is merged from the services' own
    )(forward)


def forwarding_handlers() -> list[HTTPRouteHandler]:
    return [forwarding_handler(prefix) for prefix in PREFIXES]
