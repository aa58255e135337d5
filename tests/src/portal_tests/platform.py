"""The platform's processes, started the same way by `make dev` and by e2e tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    app: str
    port: int
    extra: tuple[str, ...] = ()

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            self.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "5",
            "--timeout-keep-alive",
            "15",
            *self.extra,
        ]


def specs(base_port: int = 8000) -> list[ProcessSpec]:
    """Gateway on base_port (its metrics on base_port+191), services on base_port+101..,
    the projector on base_port+190, the local mail catcher on base_port+192/193."""
    return [
        ProcessSpec("identity", "portal_identity.main:app", base_port + 102),
        ProcessSpec("tickets", "portal_tickets.main:app", base_port + 103),
        ProcessSpec("repairs", "portal_repairs.main:app", base_port + 104),
        ProcessSpec("wallet", "portal_wallet.main:app", base_port + 101),
        ProcessSpec("billing", "portal_billing.main:app", base_port + 106),
        ProcessSpec("crm", "portal_crm.main:app", base_port + 105),
        ProcessSpec("notifications", "portal_notifications.main:app", base_port + 107),
        ProcessSpec("projector", "portal_gateway.projector:app", base_port + 190),
        # The public port times out request heads that trickle in (slowloris).
        ProcessSpec(
            "gateway",
            "portal_gateway.main:app",
            base_port,
            ("--http", "portal_gateway.edge:HeaderTimeoutProtocol"),
        ),
    ]


def mail_ports(base_port: int) -> tuple[int, int]:
    """The local mail catcher's SMTP port and the port of its page."""
    return base_port + 192, base_port + 193


def platform_env(
    base_port: int,
    kafka: str,
    mongodb_uri: str,
    db_prefix: str = "portal",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    env = dict(os.environ)
    # Dev/test only: production reads these secrets from its secret store.
    billing_secret = env.get("BILLING_SERVICE_CLIENT_SECRET", "billing-dev-secret")
    mail_secret = env.get("NOTIFICATIONS_SERVICE_CLIENT_SECRET", "notifications-dev-secret")
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "MONGODB_URI": mongodb_uri,
            "WALLET_MONGODB_DATABASE": f"{db_prefix}_wallet",
            "IDENTITY_MONGODB_DATABASE": f"{db_prefix}_identity",
            "REPAIRS_MONGODB_DATABASE": f"{db_prefix}_repairs",
            "TICKETS_MONGODB_DATABASE": f"{db_prefix}_tickets",
            "GATEWAY_TICKETS_URL": f"http://127.0.0.1:{base_port + 103}",
            "GATEWAY_REPAIRS_URL": f"http://127.0.0.1:{base_port + 104}",
            "GATEWAY_IDENTITY_URL": f"http://127.0.0.1:{base_port + 102}",
            "PORTAL_JWT_JWKS_URL": f"http://127.0.0.1:{base_port + 102}/v1/auth/jwks",
            "PORTAL_ADMIN_PASSWORD": env.get("PORTAL_ADMIN_PASSWORD", "admin-password-1"),
            "GATEWAY_MONGODB_DATABASE": f"{db_prefix}_gateway",
            "GATEWAY_WALLET_URL": f"http://127.0.0.1:{base_port + 101}",
            "GATEWAY_BILLING_URL": f"http://127.0.0.1:{base_port + 106}",
            "GATEWAY_CRM_URL": f"http://127.0.0.1:{base_port + 105}",
            "GATEWAY_METRICS_PORT": str(base_port + 191),
            "CRM_MONGODB_DATABASE": f"{db_prefix}_crm",
            "NOTIFICATIONS_MONGODB_DATABASE": f"{db_prefix}_notifications",
            "GATEWAY_NOTIFICATIONS_URL": f"http://127.0.0.1:{base_port + 107}",
            "NOTIFICATIONS_PORTAL_URL": f"http://127.0.0.1:{base_port}",
            # The local mail catcher (portal_tests.mailcatcher) unless set otherwise.
            "NOTIFICATIONS_SMTP_PORT": env.get(
                "NOTIFICATIONS_SMTP_PORT", str(mail_ports(base_port)[0])
            ),
            "BILLING_MONGODB_DATABASE": f"{db_prefix}_billing",
            "BILLING_WALLET_URL": f"http://127.0.0.1:{base_port + 101}",
            "BILLING_IDENTITY_URL": f"http://127.0.0.1:{base_port + 102}",
            "BILLING_SERVICE_CLIENT_SECRET": billing_secret,
            "NOTIFICATIONS_IDENTITY_URL": f"http://127.0.0.1:{base_port + 102}",
            "NOTIFICATIONS_SERVICE_CLIENT_SECRET": mail_secret,
            "IDENTITY_SERVICE_CLIENTS": json.dumps(
                {"billing": billing_secret, "notifications": mail_secret}
            ),
            "TICKETS_BILLING_URL": f"http://127.0.0.1:{base_port + 106}",
            "PAYMENTS_SANDBOX_SECRET": env.get("PAYMENTS_SANDBOX_SECRET", "sandbox-secret"),
        }
    )
    env.update(extra or {})
    return env


def wait_ready(urls: list[str], timeout: float | None = None) -> None:
    # Eight Python processes importing at once on two busy cores can take minutes.
    timeout = timeout or float(os.environ.get("PORTAL_READY_TIMEOUT", "300"))
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        for url in list(pending):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    pending.remove(url)
            except httpx.HTTPError:
                pass
        if pending:
            time.sleep(0.3)
    if pending:
        raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")


class RunningPlatform:
    """The platform's processes, started together; one can be restarted (crash tests)."""

    def __init__(self, base_port: int, env: dict[str, str], log_dir: Path) -> None:
        self.url = f"http://127.0.0.1:{base_port}"
        self.env = env
        self.log_dir = log_dir
        self.specs = {spec.name: spec for spec in specs(base_port)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ready_at: float | None = None
        """When every process first answered ready (time.time()): the end of the start."""

    def _spawn(self, spec: ProcessSpec, env: dict[str, str]) -> None:
        log = (self.log_dir / f"{spec.name}.log").open("ab")
        self.procs[spec.name] = subprocess.Popen(
            spec.command(), env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.specs.values():
            (self.log_dir / f"{spec.name}.log").write_bytes(b"")
            self._spawn(spec, self.env)
        try:
            wait_ready([f"http://127.0.0.1:{s.port}/health/ready" for s in self.specs.values()])
            self.ready_at = time.time()
        except TimeoutError:
            for spec in self.specs.values():
                tail = (self.log_dir / f"{spec.name}.log").read_text(errors="replace")[-3000:]
                print(f"--- {spec.name} ---\n{tail}", file=sys.stderr)
            raise

    def wait_exit(self, name: str, timeout: float = 30) -> int:
        """Wait for a process to end by itself (a failpoint); returns its exit status."""
        return self.procs[name].wait(timeout=timeout)

    def kill(self, name: str) -> None:
        """kill -9: no shutdown hook runs, nothing is flushed or released (a crash)."""
        proc = self.procs[name]
        proc.kill()
        proc.wait(timeout=30)

    def restart(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        """Stop one process (if it still runs) and start it again, e.g. with failpoints."""
        proc = self.procs[name]
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        spec = self.specs[name]
        self._spawn(spec, {**self.env, **(extra_env or {})})
        wait_ready([f"http://127.0.0.1:{spec.port}/health/ready"])

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def platform_processes(
    base_port: int, env: dict[str, str], log_dir: Path
) -> Iterator[RunningPlatform]:
    """Start every process, wait until each is ready, stop them all on exit."""
    running = RunningPlatform(base_port, env, log_dir)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@contextmanager
def running_platform(base_port: int, env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """Start every process, wait until each is ready, stop them all on exit."""
    with platform_processes(base_port, env, log_dir) as running:
        yield running.url
