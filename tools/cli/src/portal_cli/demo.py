"""Demo data and platform admins: what `make dev` does, callable from the CLI.

`seed_demo` drives the public API like any client would (register, top up through a
signed sandbox webhook, order and pay a plan), with the same idempotency keys every
run, so running it again changes nothing. `deploy/local/dev.py` calls it too.
`create_admin` runs identity's own use cases in-process against identity's database
(the identity service's relay publishes the events).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-1"
DEMO_TOP_UP = 500_000


class SeedError(RuntimeError):
    pass


@dataclass(frozen=True)
class DemoSeed:
    email: str
    password: str
    access_token: str
    balance: int


def seed_demo(
    base_url: str,
    sandbox_secret: str,
    *,
    timeout: float = 20.0,
    mongodb_uri: str | None = None,
) -> DemoSeed:
    """Seed the demo customer through the gateway at `base_url`; idempotent. Its address
    is confirmed with the link identity queued for it (read from identity's database at
    `mongodb_uri`, by default the services' own), as the customer would from the mail."""
    try:
        return _seed_demo(base_url, sandbox_secret, timeout, mongodb_uri)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise SeedError(f"seeding failed: {type(exc).__name__}: {exc}") from exc


def _verify_demo_address(http: httpx.Client, mongodb_uri: str | None) -> None:
    from pymongo import MongoClient

    from portal_cli.config import database_name, infra

    client: MongoClient[dict[str, Any]] = MongoClient(
        mongodb_uri or infra().mongodb_uri, serverSelectionTimeoutMS=5000
    )
    try:
        mails = client[database_name("identity")]["outgoing_mail"]
        for _ in range(100):
            mail = mails.find_one(
                {"to": DEMO_EMAIL, "kind": "email_verification"}, sort=[("created_at", -1)]
            )
            if mail and mail.get("token"):
                break
            time.sleep(0.2)
        else:
            raise SeedError("no verification link was queued for the demo customer")
    finally:
        client.close()
    verified = http.post("/api/v1/auth/email/verify", json={"token": mail["token"]})
    if verified.status_code != 200:
        raise SeedError(f"demo address not confirmed: {verified.status_code} {verified.text}")


def _seed_demo(
    base_url: str, sandbox_secret: str, timeout: float, mongodb_uri: str | None
) -> DemoSeed:
    from portal_wallet.payments import sign

    base = base_url.rstrip("/")
    with httpx.Client(base_url=base, timeout=timeout) as http:
        # The demo customer registers like anyone else (a 409 on later runs is fine).
        http.post(
            "/api/v1/auth/register",
            json={
                "email": DEMO_EMAIL,
                "password": DEMO_PASSWORD,
                "name": "Demo Customer",
                "account_name": "Demo Hosting Co.",
                "kind": "organisation",
            },
        )
        login = http.post(
            "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        )
        if login.status_code != 200:
            raise SeedError(f"demo login failed: {login.status_code} {login.text}")
        token = login.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        me = http.get("/api/v1/me", headers=auth)
        if me.status_code == 200 and not me.json().get("email_verified", True):
            # Paying needs a confirmed address; the token after it no longer says otherwise.
            _verify_demo_address(http, mongodb_uri)
            login = http.post(
                "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
            )
            token = login.json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
        for _ in range(100):  # the wallet opens once the registration event is processed
            if http.get("/api/v1/wallet", headers=auth).json().get("version"):
                break
            time.sleep(0.2)
        # Idempotent seed: the same keys every run, so a restart never credits twice.
        r = http.post(
            "/api/v1/wallet/top-ups",
            json={"amount": DEMO_TOP_UP},
            headers={**auth, "Idempotency-Key": "demo-seed-top-up"},
        )
        if r.status_code in (200, 201):
            ref = r.json()["payment"]["reference"]
            body = json.dumps(
                {
                    "id": f"demo-seed-{ref}",
                    "type": "payment.succeeded",
                    "reference": ref,
                    "amount": DEMO_TOP_UP,
                    "currency": "VND",
                }
            ).encode()
            http.post(
                "/api/v1/payments/webhooks/sandbox",
                content=body,
                headers={"Portal-Signature": sign(sandbox_secret, body, int(time.time()))},
            )
        board: dict[str, Any] = {}
        for _ in range(50):  # let the dashboard show the seeded balance before going on
            board = http.get("/api/v1/dashboard", headers=auth).json()
            if board.get("wallet", {}).get("balance"):
                break
            time.sleep(0.2)
        # A demo subscription: Hosting Support for 3 months, paid from the seeded balance.
        ordered = http.post(
            "/api/v1/orders",
            json={"plan_id": "host-sup", "months": 3},
            headers={**auth, "Idempotency-Key": "demo-seed-order"},
        )
        if ordered.status_code in (200, 201):
            http.post(
                f"/api/v1/invoices/{ordered.json()['id']}/pay",
                json={"method": "wallet"},
                headers={**auth, "Idempotency-Key": "demo-seed-order-payment"},
            )
            board = http.get("/api/v1/dashboard", headers=auth).json()
    balance = int(board.get("wallet", {}).get("balance", 0))
    return DemoSeed(DEMO_EMAIL, DEMO_PASSWORD, token, balance)


async def create_admin(email: str, password: str, name: str, actor: str) -> dict[str, str]:
    """A platform admin: identity's seeding when the platform has none yet, otherwise a
    staff user with the platform admin role (what a platform admin's `POST /v1/staff/users`
    does), made by `actor`."""
    from portal_chassis.auth import Principal
    from portal_identity import domain
    from portal_identity.handlers import normalise_email
    from portal_identity.main import bootstrap
    from portal_identity.settings import IdentitySettings

    # The rest from the environment, like the identity service's own settings.
    settings = IdentitySettings().model_copy(
        update={"admin_email": email, "admin_password": password}
    )
    runtime, service = bootstrap(settings)
    try:
        assert runtime.store is not None
        await runtime.store.setup()
        if await service.emails.find_one({"_id": normalise_email(email), "status": "active"}):
            raise SeedError(f"{email} is registered already")
        platform = await service.store.stream_version(
            domain.account_stream(domain.PLATFORM_ACCOUNT)
        )
        if platform == 0:
            await service.seed_platform_admin()
            found = await service.emails.find_one({"_id": normalise_email(email)})
            if not found or found.get("status") != "active":
                raise SeedError(f"{email} was not created (see identity's log line above)")
            return {"email": email, "account_id": domain.PLATFORM_ACCOUNT, "created": "owner"}
        operator = Principal(
            f"cli:{actor}", domain.PLATFORM_ACCOUNT, frozenset({"platform_admin"}), None, ""
        )
        created = await service.create_staff(
            operator,
            email=email,
            name=name,
            password=password,
            platform_roles=("platform_admin",),
            department=None,
        )
        return {**created, "created": "staff"}
    finally:
        await runtime.mongo.close()
