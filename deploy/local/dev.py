"""`make dev`: run the whole platform locally until Ctrl-C.

Builds the web portal when its sources changed (served by the gateway at `/`), starts
local Kafka + FerretDB through infra.sh unless KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI
are both set, then the services under honcho (one coloured log stream,
Ctrl-C stops everything), waits for /health/ready, seeds demo data and prints how to
use it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from honcho.manager import Manager

from portal_cli.demo import DEMO_EMAIL, DEMO_PASSWORD, SeedError, seed_demo
from portal_tests.platform import mail_ports, platform_env, specs, wait_ready
from portal_tests.webbuild import WebBuildError, ensure_web_build

ROOT = Path(__file__).resolve().parents[2]
BASE_PORT = int(os.environ.get("PORTAL_PORT", "8000"))
# The settings prefix of every process (the projector reads the gateway's).
LOG_PREFIXES = (
    "WALLET",
    "IDENTITY",
    "TICKETS",
    "REPAIRS",
    "CRM",
    "BILLING",
    "NOTIFICATIONS",
    "GATEWAY",
)
SMTP_PORT, MAIL_PAGE_PORT = mail_ports(BASE_PORT)


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


def seed_and_announce(env: dict[str, str], web: str) -> None:
    base = f"http://127.0.0.1:{BASE_PORT}"
    try:
        wait_ready([f"http://127.0.0.1:{s.port}/health/ready" for s in specs(BASE_PORT)], 120)
    except TimeoutError as exc:
        print(f"[dev] {exc}; see the logs above", flush=True)
        return
    # The same seeding as `portal seed demo`: idempotent, through the public API.
    try:
        token = seed_demo(
            base, env["PAYMENTS_SANDBOX_SECRET"], mongodb_uri=env.get("MONGODB_URI")
        ).access_token
    except SeedError as exc:
        print(f"[dev] {exc}", flush=True)
        return
    admin_password = os.environ.get("PORTAL_ADMIN_PASSWORD", "admin-password-1")
    print(
        f"""
[dev] ================= the customer portal is up =================
[dev]  Portal (web)   {base}/   {web}
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
[dev]  Notifications  http://127.0.0.1:{BASE_PORT + 107}
[dev]  Mail catcher   http://127.0.0.1:{MAIL_PAGE_PORT}/   (every mail sent; SMTP on {SMTP_PORT})
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


def web_portal() -> str:
    """Builds web/dist when its sources changed; the gateway serves it at `/`."""
    print(f"[dev] the portal will be at http://127.0.0.1:{BASE_PORT}/", flush=True)
    try:
        ensure_web_build()
    except WebBuildError as exc:
        print(f"[dev] {exc}\n[dev] the API runs without the web portal", flush=True)
        return "(NOT BUILT: see [web] above; the API runs alone)"
    return "(demo customer below)"


def main() -> int:
    web = web_portal()
    kafka, mongo, _local = infrastructure()
    env = platform_env(
        BASE_PORT,
        kafka,
        mongo,
        extra={
            "PAYMENTS_SANDBOX_SECRET": os.environ.get("PAYMENTS_SANDBOX_SECRET", "sandbox-secret"),
            # Readable key=value lines here (JSON in production); LOG_JSON=true for JSON.
            **{
                f"{prefix}_LOG_JSON": os.environ.get(
                    f"{prefix}_LOG_JSON", os.environ.get("LOG_JSON", "false")
                )
                for prefix in LOG_PREFIXES
            },
        },
    )
    manager = Manager()
    for spec in specs(BASE_PORT):
        manager.add_process(spec.name, " ".join(spec.command()), env=env)
    # Mail goes to a local catcher that keeps it and lists it on a page (no real mailbox).
    catcher = [sys.executable, "-m", "portal_tests.mailcatcher"]
    catcher += ["--smtp-port", str(SMTP_PORT), "--http-port", str(MAIL_PAGE_PORT)]
    manager.add_process("mail", " ".join(catcher), env=env)
    threading.Thread(target=seed_and_announce, args=(env, web), daemon=True).start()
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
