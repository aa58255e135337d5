"""Clients for end-to-end tests: customers that register and log in through the gateway,
and a signed provider webhook."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
from pymongo.collection import Collection

from portal_gateway.dashboard_models import CustomerDashboard, StaffDashboard, undeclared
from portal_wallet.payments import sign

if TYPE_CHECKING:
    from portal_tests.mailcatcher import MailCatcher

SECRET = "e2e-sandbox-secret"
PASSWORD = "correct horse battery"
ADMIN_EMAIL = "admin@portal.local"
ADMIN_PASSWORD = "admin-password-1"
REUSE_GRACE_SECONDS = 4
"""Identity's refresh-token reuse grace in the end-to-end platform (short, so tests wait)."""


DASHBOARD_MODELS = {
    "/api/v1/dashboard": CustomerDashboard,
    "/api/v1/staff/dashboard": StaffDashboard,
}


def dashboards_as_declared(response: httpx.Response) -> None:
    """Fails a test on a dashboard key its public model does not declare: the gateway passes
    such keys on, so the published contract would be missing what the parts render."""
    model = DASHBOARD_MODELS.get(response.request.url.path.rstrip("/") or "/")
    if model is None or response.status_code != 200:
        return
    response.read()
    extra = undeclared(model, response.json())
    assert not extra, f"dashboard keys missing from {model.__name__}: {extra}"


def dashboard_events(
    stream: httpx.Response, model: type[CustomerDashboard | StaffDashboard] = CustomerDashboard
) -> Iterator[dict[str, Any]]:
    """The `event: dashboard` payloads of a live dashboard stream, each checked against its
    public model like a GET of the dashboard (valid, and no key the model does not declare)."""
    assert stream.headers["content-type"].startswith("text/event-stream")
    kind = None
    for line in stream.iter_lines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and kind == "dashboard":
            board = json.loads(line.split(":", 1)[1])
            model.model_validate(board)
            extra = undeclared(model, board)
            assert not extra, f"streamed dashboard keys missing from {model.__name__}: {extra}"
            yield board


def login(base_url: str, email: str, password: str) -> dict[str, Any]:
    r = httpx.post(
        f"{base_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=20
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


MAILBOXES: dict[str, MailCatcher] = {}
"""The mail catcher of each running platform, by the platform's URL: `Customer(mail_link=True)`
reads its verification mail there."""

QUEUED_MAIL: dict[str, Collection[dict[str, Any]]] = {}
"""Identity's queue of mail to send (`outgoing_mail`) of each running platform, by URL:
`Customer` takes its verification token there, as the mailer does, instead of waiting for the
mail's whole trip (event, notifications, SMTP) before every test."""


def mailed_link(
    mail: MailCatcher, email: str, page: str, *, take: bool = False, timeout: float = 120
) -> str:
    """The token of the newest link to `page` (e.g. "verify-email") mailed to `email`,
    as delivered to the mail catcher; `take` removes that mail from the catcher."""
    marker = f"/{page}?token="

    def find() -> str | None:
        found = [m for m in mail.messages(to=email) if marker in m.body]
        if not found:
            return None
        if take:
            mail.take(email, marker)
        match = re.search(re.escape(marker) + r"([A-Za-z0-9_-]+)", found[-1].body)
        assert match, found[-1].body
        return match.group(1)

    return str(eventually(find, timeout=timeout, what=f"a {page} mail to {email}"))


def mailed_token(platform: dict[str, Any], email: str, kind: str) -> str:
    """The token in the newest mail of `kind` to `email` (what the mailer would send)."""
    doc = platform["identity_db"]["outgoing_mail"].find_one(
        {"to": email, "kind": kind}, sort=[("created_at", -1)]
    )
    assert doc and doc["token"], (email, kind)
    return str(doc["token"])


class Customer:
    """A freshly registered account's owner, logged in, with an open wallet; its address
    verified (when the platform has a mail catcher in `MAILBOXES`), so it may pay and invite:
    with the link's token identity queued for the mailer, or with `mail_link` through the
    mail as delivered. The verification mail is kept out of the catcher either way (tests
    counting a customer's mail count the rest)."""

    def __init__(
        self,
        base_url: str,
        *,
        wait_for_wallet: bool = True,
        kind: str = "organisation",
        verify_email: bool = True,
        mail_link: bool = False,
    ) -> None:
        self.base_url = base_url
        self.email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
        r = httpx.post(
            f"{base_url}/api/v1/auth/register",
            timeout=20,
            json={
                "email": self.email,
                "password": PASSWORD,
                "name": "Owner",
                "account_name": "Acme Hosting",
                "kind": kind,
            },
        )
        assert r.status_code == 201, r.text
        self.account_id: str = r.json()["account_id"]
        self.user_id: str = r.json()["user_id"]
        token = self._verification_token(mail_link) if verify_email else None
        if token is not None:
            # The login after it gets tokens without `email_unverified`.
            verified = httpx.post(
                f"{base_url}/api/v1/auth/email/verify", json={"token": token}, timeout=20
            )
            assert verified.status_code == 200, verified.text
        self.tokens = login(base_url, self.email, PASSWORD)
        self.token: str = self.tokens["access_token"]
        self.http = httpx.Client(
            base_url=base_url,
            timeout=20,
            headers={"Authorization": f"Bearer {self.token}"},
            event_hooks={"response": [dashboards_as_declared]},
        )
        if wait_for_wallet:
            self.wait_for_wallet()

    def _verification_token(self, mail_link: bool) -> str | None:
        mailbox = MAILBOXES.get(self.base_url)
        queued = QUEUED_MAIL.get(self.base_url)
        if mailbox is None:
            return None
        if mail_link or queued is None:
            return mailed_link(mailbox, self.email, "verify-email", take=True)
        mailbox.drop(self.email, "/verify-email?token=")
        doc = queued.find_one({"to": self.email, "kind": "email_verification"})
        assert doc and doc["token"], f"identity queued no verification mail to {self.email}"
        return str(doc["token"])

    def wait_for_wallet(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.http.get("/api/v1/wallet").json().get("version", 0) > 0:
                return
            time.sleep(0.2)
        raise AssertionError("the wallet did not open after registration")

    def top_up(self, amount: Any = 100_000, **body: Any) -> httpx.Response:
        return self.http.post("/api/v1/wallet/top-ups", json={"amount": amount, **body})

    def dashboard(self) -> dict[str, Any]:
        r = self.http.get("/api/v1/dashboard")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def wait_for_balance(self, expected: int, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        board = self.dashboard()
        while board["wallet"]["balance"] != expected and time.monotonic() < deadline:
            time.sleep(0.2)
            board = self.dashboard()
        assert board["wallet"]["balance"] == expected, board
        return board


def admin_client(base_url: str) -> httpx.Client:
    tokens = login(base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    return httpx.Client(
        base_url=base_url,
        timeout=20,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        event_hooks={"response": [dashboards_as_declared]},
    )


def staff_client(base_url: str, role: str, department: str) -> httpx.Client:
    """A new staff member with one platform role (made by the seeded admin), logged in."""
    email = f"{role.replace('_', '-')}-{uuid.uuid4().hex[:8]}@example.com"
    password = f"{role} password 1"
    r = admin_client(base_url).post(
        "/api/v1/staff/users",
        json={
            "email": email,
            "name": role.replace("_", " ").title(),
            "password": password,
            "platform_roles": [role],
            "department": department,
        },
    )
    assert r.status_code == 201, r.text
    token = login(base_url, email, password)["access_token"]
    return httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"})


def webhook(
    base_url: str,
    payload: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    provider: str = "sandbox",
    signature: str | None = None,
) -> httpx.Response:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    header = (
        signature if signature is not None else sign(secret, raw, timestamp or int(time.time()))
    )
    return httpx.post(
        f"{base_url}/api/v1/payments/webhooks/{provider}",
        content=raw,
        headers={"Portal-Signature": header, "Content-Type": "application/json"},
        timeout=20,
    )


def paid(
    reference: str, amount: int, event_id: str | None = None, kind: str = "payment.succeeded"
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": kind,
        "reference": reference,
        "amount": amount,
        "currency": "VND",
    }


def problem(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert an RFC 9457 problem answer with this status (and stable code); return it."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    if code:
        assert body["code"] == code, body
    return body


def eventually(check: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    """Poll `check` until it returns something truthy (projections and reactions lag)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.25)
