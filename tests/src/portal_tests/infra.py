"""Real infrastructure for tests: the project's own scripts, or Docker when present.

Order of preference:
1. PORTAL_TEST_KAFKA / PORTAL_TEST_MONGODB_URI given: use them as they are.
2. A Docker engine answers: testcontainers starts the official Kafka and MongoDB images.
3. Otherwise deploy/local/infra.sh starts a private Kafka and FerretDB (own ports and
   data dir beside `make dev`'s), reusing the cached jars and binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
INFRA_SCRIPT = REPO_ROOT / "deploy" / "local" / "infra.sh"


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap_servers: str
    mongodb_uri: str
    kind: str


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _script_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(overrides or {})}
    env.setdefault("PORTAL_INFRA_DIR", str(REPO_ROOT / ".cache" / "local-infra" / "test"))
    env.setdefault("KAFKA_PORT", "19092")
    env.setdefault("KAFKA_CONTROLLER_PORT", "19093")
    env.setdefault("FERRETDB_PORT", "27018")
    return env


@contextmanager
def local_infra(overrides: dict[str, str] | None = None) -> Iterator[Infra]:
    """The infra script's Kafka and FerretDB; `overrides` give another instance its own
    directory and ports."""
    env = _script_env(overrides)
    if not os.environ.get("PORTAL_KEEP_INFRA"):
        # Fresh data every session: topics and databases start empty.
        subprocess.run(["bash", str(INFRA_SCRIPT), "stop"], env=env, check=False)
        shutil.rmtree(env["PORTAL_INFRA_DIR"], ignore_errors=True)
    subprocess.run(["bash", str(INFRA_SCRIPT), "start"], check=True, env=env)
    try:
        yield Infra(
            f"127.0.0.1:{env['KAFKA_PORT']}",
            f"mongodb://127.0.0.1:{env['FERRETDB_PORT']}/",
            "local",
        )
    finally:
        if not os.environ.get("PORTAL_KEEP_INFRA"):
            subprocess.run(["bash", str(INFRA_SCRIPT), "stop"], env=env, check=False)


@contextmanager
def docker_infra() -> Iterator[Infra]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    with KafkaContainer().with_kraft() as kafka, MongoDbContainer("mongo:7") as mongo:
        yield Infra(kafka.get_bootstrap_server(), mongo.get_connection_url(), "docker")


@contextmanager
def test_infra() -> Iterator[Infra]:
    kafka, mongo = os.environ.get("PORTAL_TEST_KAFKA"), os.environ.get("PORTAL_TEST_MONGODB_URI")
    if kafka and mongo:
        yield Infra(kafka, mongo, "external")
    elif docker_available():
        with docker_infra() as infra:
            yield infra
    else:
        with local_infra() as infra:
            yield infra
