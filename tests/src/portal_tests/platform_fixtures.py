"""The running platform for end-to-end and browser tests (tests/e2e, tests/web): one per
session, shared by both. tests/faults overrides `platform`: in `make test` it runs last, on
this one (`e2e_platform`); `make faults` starts its own on its own infrastructure."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient

from portal_tests.e2e import MAILBOXES, QUEUED_MAIL, REUSE_GRACE_SECONDS, SECRET, Customer
from portal_tests.infra import REPO_ROOT
from portal_tests.mailcatcher import MailCatcher
from portal_tests.otlp import OtlpReceiver
from portal_tests.platform import mail_ports, platform_env, platform_processes

BASE_PORT = int(os.environ.get("PORTAL_E2E_BASE_PORT", "18000"))


@pytest.fixture(scope="session")
def e2e_platform(infra) -> Iterator[dict[str, Any]]:
    prefix = f"e2e_{uuid.uuid4().hex[:6]}"
    clock_file = REPO_ROOT / ".cache" / f"{prefix}-clock-offset"
    clock_file.parent.mkdir(parents=True, exist_ok=True)
    clock_file.write_text("0")
    # Every process exports its spans here (the trace test follows one across them).
    traces = OtlpReceiver().start()
    env = platform_env(
        BASE_PORT,
        infra.kafka_bootstrap_servers,
        infra.mongodb_uri,
        prefix,
        extra={
            "PAYMENTS_SANDBOX_SECRET": SECRET,
            "WALLET_RELAY_POLL_SECONDS": "0.2",
            # Short quiet period and sweep so auto-close is observable in a test.
            "TICKETS_AUTO_CLOSE_SECONDS": "3",
            "TICKETS_SWEEP_SECONDS": "0.5",
            # Billing's scheduler runs often and its clock is moved by the tests.
            "BILLING_EXPIRY_SWEEP_SECONDS": "0.5",
            # Payments left in progress (crash tests) are finished within seconds.
            "BILLING_PAYMENT_SWEEP_SECONDS": "0.5",
            "BILLING_PAYMENT_RESUME_AFTER_SECONDS": "3",
            "PORTAL_CLOCK_OFFSET_FILE": str(clock_file),
            "IDENTITY_REFRESH_REUSE_GRACE_SECONDS": str(REUSE_GRACE_SECONDS),
            # Every e2e customer registers from 127.0.0.1 (the throttle has its own tests).
            "IDENTITY_REGISTRATIONS_PER_ADDRESS_PER_HOUR": "100000",
            # Request heads that trickle in are cut off after this (test_edge.py).
            "GATEWAY_HEADER_TIMEOUT_SECONDS": "3",
            "OTEL_EXPORTER_OTLP_ENDPOINT": traces.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "500",
        },
    )
    # Mail the platform sends is caught here; tests read it from `platform["mail"]`.
    mail = MailCatcher(port=mail_ports(BASE_PORT)[0])
    mail.start()
    with platform_processes(BASE_PORT, env, REPO_ROOT / ".cache" / "e2e-logs") as processes:
        url = processes.url
        MAILBOXES[url] = mail
        mongo: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_uri)
        QUEUED_MAIL[url] = mongo[f"{prefix}_identity"]["outgoing_mail"]
        yield {
            "url": url,
            "processes": processes,
            "wallet_db": mongo[f"{prefix}_wallet"],
            "identity_db": mongo[f"{prefix}_identity"],
            "repairs_db": mongo[f"{prefix}_repairs"],
            "tickets_db": mongo[f"{prefix}_tickets"],
            "billing_db": mongo[f"{prefix}_billing"],
            "crm_db": mongo[f"{prefix}_crm"],
            "notifications_db": mongo[f"{prefix}_notifications"],
            "mail": mail,
            "clock_file": clock_file,
            "billing_url": f"http://127.0.0.1:{BASE_PORT + 106}",
            "wallet_url": f"http://127.0.0.1:{BASE_PORT + 101}",
            "identity_url": f"http://127.0.0.1:{BASE_PORT + 102}",
            "metrics_url": f"http://127.0.0.1:{BASE_PORT + 191}/metrics",
            "traces": traces,
            "db_prefix": prefix,
            "mongodb_uri": infra.mongodb_uri,
            "kafka_bootstrap_servers": infra.kafka_bootstrap_servers,
        }
        MAILBOXES.pop(url, None)
        QUEUED_MAIL.pop(url, None)
        mongo.close()
    mail.stop()
    traces.stop()
    clock_file.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def platform(e2e_platform: dict[str, Any]) -> dict[str, Any]:
    return e2e_platform


@pytest.fixture
def customer(platform) -> Customer:
    return Customer(platform["url"])
