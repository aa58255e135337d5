"""Fault injection: the whole platform runs while its infrastructure is stopped and
started again (the local Kafka and FerretDB, through deploy/local/infra.sh).

It runs on its own ports beside the e2e platform (both may live in one pytest session).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient

from portal_tests.e2e import MAILBOXES, QUEUED_MAIL, SECRET
from portal_tests.infra import INFRA_SCRIPT, REPO_ROOT, Infra, _script_env, local_infra
from portal_tests.mailcatcher import MailCatcher
from portal_tests.platform import mail_ports, platform_env, platform_processes, specs

FULL = os.environ.get("PORTAL_FAULTS_FULL") == "1"
# `make test` keeps the bounded scenarios (a database outage under light load, a hung
# service, kill -9 of the wallet and of billing); the outages under top-ups, the replay
# with duplicates and the other victims run in `make faults`, which sets
# PORTAL_FAULTS_FULL=1: together they would take the test run past its time budget.
collect_ignore = [] if FULL else ["test_outages_under_load.py", "test_replay.py"]

E2E_BASE_PORT = int(os.environ.get("PORTAL_E2E_BASE_PORT", "18000"))
BASE_PORT = int(os.environ.get("PORTAL_FAULTS_BASE_PORT", str(E2E_BASE_PORT + 300)))


class InfraControl:
    """Stops and starts one piece of the local infrastructure."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def _run(self, action: str, component: str) -> None:
        subprocess.run(
            ["bash", str(INFRA_SCRIPT), action, component], env=self.env, check=True, timeout=180
        )

    def stop(self, component: str) -> None:
        self._run("stop", component)

    def start(self, component: str) -> None:
        self._run("start", component)


# `make faults` stops and starts Kafka and FerretDB under a second platform of its own, on
# a private pair: on the session's shared pair it would stop the broker under the e2e
# platform that later tests use, and the two platforms' consumer groups (same names, same
# topics) would split the partitions, each consuming some of the other's events. Its
# directory and ports move with PORTAL_FAULTS_INFRA_DIR, PORTAL_FAULTS_KAFKA_PORT,
# PORTAL_FAULTS_KAFKA_CONTROLLER_PORT and PORTAL_FAULTS_FERRETDB_PORT (two runs side by side
# on one machine need two pairs).
# `make test`'s bounded scenarios instead run last in the session (the root conftest orders
# them) on the e2e platform and the session's own infrastructure: nothing runs after them,
# and a second platform and pair would cost the run a minute and a half to start.
PRIVATE_INFRA = {
    "PORTAL_INFRA_DIR": os.environ.get(
        "PORTAL_FAULTS_INFRA_DIR", str(REPO_ROOT / ".cache" / "local-infra" / "faults")
    ),
    "KAFKA_PORT": os.environ.get("PORTAL_FAULTS_KAFKA_PORT", "19192"),
    "KAFKA_CONTROLLER_PORT": os.environ.get("PORTAL_FAULTS_KAFKA_CONTROLLER_PORT", "19193"),
    "FERRETDB_PORT": os.environ.get("PORTAL_FAULTS_FERRETDB_PORT", "27028"),
}


def shares_the_session(infra: Infra) -> bool:
    """Bounded scenarios on the session's platform; only a local pair can be stopped."""
    return not FULL and infra.kind == "local"


@pytest.fixture(scope="session")
def fault_infra(infra: Infra) -> Iterator[tuple[Infra, InfraControl]]:
    if shares_the_session(infra):
        yield infra, InfraControl(_script_env())
        return
    with local_infra(PRIVATE_INFRA) as own:
        yield own, InfraControl(_script_env(PRIVATE_INFRA))


@pytest.fixture(scope="session")
def infra_control(fault_infra: tuple[Infra, InfraControl]) -> Iterator[InfraControl]:
    control = fault_infra[1]
    yield control
    # Whatever a failed test left stopped, the next tests need it back.
    control.start("all")


@pytest.fixture(scope="session")
def platform(request, infra, fault_infra, infra_control) -> Iterator[dict[str, Any]]:
    if shares_the_session(infra):
        e2e = request.getfixturevalue("e2e_platform")
        running = e2e["processes"]
        yield {
            **e2e,
            "services": {s.name: f"http://127.0.0.1:{s.port}" for s in specs(E2E_BASE_PORT)},
            "processes": running.procs,
            "running": running,
        }
        return
    infra = fault_infra[0]
    prefix = f"faults_{uuid.uuid4().hex[:6]}"
    env = platform_env(
        BASE_PORT,
        infra.kafka_bootstrap_servers,
        infra.mongodb_uri,
        prefix,
        extra={"PAYMENTS_SANDBOX_SECRET": SECRET, "WALLET_RELAY_POLL_SECONDS": "0.2"},
    )
    # Customers verify their address with the mailed link (portal_tests.e2e.Customer).
    mail = MailCatcher(port=mail_ports(BASE_PORT)[0])
    mail.start()
    with platform_processes(BASE_PORT, env, REPO_ROOT / ".cache" / "faults-logs") as running:
        MAILBOXES[running.url] = mail
        mongo: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_uri)
        QUEUED_MAIL[running.url] = mongo[f"{prefix}_identity"]["outgoing_mail"]
        yield {
            "url": running.url,
            "services": {spec.name: f"http://127.0.0.1:{spec.port}" for spec in specs(BASE_PORT)},
            "processes": running.procs,
            "running": running,
            "mongodb_uri": infra.mongodb_uri,
            "kafka_bootstrap_servers": infra.kafka_bootstrap_servers,
            "db_prefix": prefix,
            "mail": mail,
        }
        MAILBOXES.pop(running.url, None)
        QUEUED_MAIL.pop(running.url, None)
        mongo.close()
    mail.stop()
