"""`make dev`: run the whole platform locally until Ctrl-C.

Starts local Kafka + FerretDB through infra.sh unless KAFKA_BOOTSTRAP_SERVERS and
MONGODB_URI are both set, then the services under honcho (one coloured log stream,
Ctrl-C stops everything), waits for /health/ready, seeds demo data and prints how to
use it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from honcho.manager import Manager

from portal_tests.platform import platform_env, specs, wait_ready
from portal_wallet.payments import sign

ROOT = Path(__file__).resolve().parents[2]
BASE_PORT = int(os.environ.get("PORTAL_PORT", "8000"))
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-1"


def infrastructure() -> tuple[str, str, bool]:
    kafka, mongo = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URI")
    if kafka and mongo:
        print(f"[dev] using Kafka at {kafka} and MongoDB at {mongo}", flush=True)
        return kafka, mongo, False
    subprocess.run(["bash", str(ROOT / "deploy/local/infra.sh"), "start"], check=True)
    out = subprocess.run(
        ["bash", str(ROOT / "deploy/local/infra.sh"), "env"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    values = dict(
        line.removeprefix("export ").split("=", 1)
        for line in out.splitlines()
        if line.startswith("export ")
    )
    return values["KAFKA_BOOTSTRAP_SERVERS"], values["MONGODB_URI"], True


def seed_and_announce(env: dict[str, str]) -> None:
    base = f"http://127.0.0.1:{BASE_PORT}"
    try:
        wait_ready([f"http://127.0.0.1:{s.port}/health/ready" for s in specs(BASE_PORT)], 120)
    except TimeoutError as exc:
        print(f"[dev] {exc}; see the logs above", flush=True)
        return
    # The demo customer registers like anyone else (a 409 on later runs is fine).
    httpx.post(
        f"{base}/api/v1/auth/register",
        timeout=20,
        json={
            "email": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
            "name": "Demo Customer",
            "account_name": "Demo Hosting Co.",
            "kind": "organisation",
        },
    )
    login = httpx.post(
        f"{base}/api/v1/auth/login",
        timeout=20,
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
    )
    if login.status_code != 200:
        print(f"[dev] demo login failed: {login.text}", flush=True)
        return
    token = login.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(100):  # the wallet opens once the registration event is processed
        if httpx.get(f"{base}/api/v1/wallet", headers=auth, timeout=5).json().get("version"):
            break
        time.sleep(0.2)
    # Idempotent seed: the same keys every run, so a restart never credits twice.
    r = httpx.post(
        f"{base}/api/v1/wallet/top-ups",
        json={"amount": 500_000},
        headers={**auth, "Idempotency-Key": "demo-seed-top-up"},
        timeout=20,
    )
    if r.status_code in (200, 201):
        ref = r.json()["payment"]["reference"]
        body = json.dumps(
            {
                "id": f"demo-seed-{ref}",
                "type": "payment.succeeded",
                "reference": ref,
                "amount": 500_000,
                "currency": "VND",
            }
        ).encode()
        httpx.post(
            f"{base}/api/v1/payments/webhooks/sandbox",
            content=body,
            timeout=20,
            headers={
                "Portal-Signature": sign(env["PAYMENTS_SANDBOX_SECRET"], body, int(time.time()))
            },
        )
    for _ in range(50):  # let the dashboard show the seeded balance before announcing
        board = httpx.get(f"{base}/api/v1/dashboard", headers=auth, timeout=5).json()
        if board.get("wallet", {}).get("balance"):
            break
        time.sleep(0.2)
    # A demo subscription: Hosting Support for 3 months, paid from the seeded balance.
    ordered = httpx.post(
        f"{base}/api/v1/orders",
        json={"plan_id": "host-sup", "months": 3},
        headers={**auth, "Idempotency-Key": "demo-seed-order"},
        timeout=20,
    )
    if ordered.status_code in (200, 201):
        httpx.post(
            f"{base}/api/v1/invoices/{ordered.json()['id']}/pay",
            json={"method": "wallet"},
            headers={**auth, "Idempotency-Key": "demo-seed-order-payment"},
            timeout=20,
        )
    admin_password = os.environ.get("PORTAL_ADMIN_PASSWORD", "admin-password-1")
    print(
        f"""
[dev] ================= the customer portal is up =================
[dev]  API            {base}/api/v1/...
[dev]  OpenAPI        {base}/schema   (Swagger UI: {base}/schema/swagger)
[dev]  Health         {base}/health/ready
[dev]  Metrics        http://127.0.0.1:{BASE_PORT + 191}/metrics   (not on the public port)
[dev]  Wallet svc     http://127.0.0.1:{BASE_PORT + 101}
[dev]  Identity svc   http://127.0.0.1:{BASE_PORT + 102}
[dev]  Tickets svc    http://127.0.0.1:{BASE_PORT + 103}
[dev]  Repairs svc    http://127.0.0.1:{BASE_PORT + 104}
[dev]  CRM svc        http://127.0.0.1:{BASE_PORT + 105}
[dev]  Billing svc    http://127.0.0.1:{BASE_PORT + 106}
[dev]  Projector      http://127.0.0.1:{BASE_PORT + 190}
[dev]  Demo customer  {DEMO_EMAIL} / {DEMO_PASSWORD}   access token (15 min):
[dev]    {token}
[dev]  Try            curl -H 'Authorization: Bearer <token>' {base}/api/v1/dashboard
[dev]  Platform admin admin@portal.local / {admin_password}
[dev]  Log in         curl -X POST {base}/api/v1/auth/login -H 'Content-Type: application/json' \\
[dev]                   -d '{{"email": "{DEMO_EMAIL}", "password": "{DEMO_PASSWORD}"}}'
[dev]  Sandbox webhook secret  {env["PAYMENTS_SANDBOX_SECRET"]}
[dev]  Stop           Ctrl-C (stops every process; infra: deploy/local/infra.sh stop)
[dev] ==============================================================""",
        flush=True,
    )


def main() -> int:
    kafka, mongo, _local = infrastructure()
    env = platform_env(
        BASE_PORT,
        kafka,
        mongo,
        extra={
            "PAYMENTS_SANDBOX_SECRET": os.environ.get("PAYMENTS_SANDBOX_SECRET", "sandbox-secret"),
            "WALLET_LOG_JSON": os.environ.get("WALLET_LOG_JSON", "false"),
            "GATEWAY_LOG_JSON": os.environ.get("GATEWAY_LOG_JSON", "false"),
        },
    )
    manager = Manager()
    for spec in specs(BASE_PORT):
        manager.add_process(spec.name, " ".join(spec.command()), env=env)
    threading.Thread(target=seed_and_announce, args=(env,), daemon=True).start()
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
