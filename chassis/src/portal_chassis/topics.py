"""Kafka connection security and explicit topic declaration.

Topics are declared explicitly (partitions, infinite retention) instead of relying on
auto-creation, which gives a consumer-created topic a single partition. In Kubernetes
the topics are Strimzi KafkaTopic resources; set KAFKA_CREATE_TOPICS=false there.
"""

from __future__ import annotations

import contextlib
import ssl
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from portal_chassis.logging import get_logger
from portal_chassis.settings import InfraSettings

log = get_logger(__name__)

CONTEXTS = ("identity", "wallet", "tickets", "crm", "repairs", "billing", "notifications")


def all_topics() -> list[str]:
    return [name for c in CONTEXTS for name in (f"{c}.events", f"{c}.events.dlq")]


def _ssl_context(infra: InfraSettings) -> ssl.SSLContext | None:
    if infra.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    return ssl.create_default_context(cafile=infra.kafka_ssl_cafile or None)


def broker_security(infra: InfraSettings) -> BaseSecurity | None:
    """FastStream security for the broker (SCRAM over TLS on Strimzi; none locally)."""
    context = _ssl_context(infra)
    if infra.kafka_security_protocol == "SASL_SSL":
        cls = SASLScram512 if infra.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
        return cls(infra.kafka_sasl_username, infra.kafka_sasl_password, ssl_context=context)
    if context is not None:
        return BaseSecurity(ssl_context=context)
    return None


def client_options(infra: InfraSettings) -> dict[str, Any]:
    """The same security for plain aiokafka clients (admin, tools)."""
    options: dict[str, Any] = {"security_protocol": infra.kafka_security_protocol}
    context = _ssl_context(infra)
    if context is not None:
        options["ssl_context"] = context
    if infra.kafka_security_protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=infra.kafka_sasl_mechanism,
            sasl_plain_username=infra.kafka_sasl_username,
            sasl_plain_password=infra.kafka_sasl_password,
        )
    return options


async def ensure_topics(infra: InfraSettings, names: list[str]) -> list[str]:
    """Create the topics that do not exist yet; returns the ones created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=infra.kafka_bootstrap_servers, **client_options(infra)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            new = [
                NewTopic(
                    n,
                    num_partitions=infra.kafka_topic_partitions,
                    replication_factor=infra.kafka_replication_factor,
                    topic_configs={"retention.ms": "-1"},
                )
                for n in missing
            ]
            # Another service may create the same topics at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
            log.info("created topics", topics=missing)
        return missing
    finally:
        await admin.close()


async def topic_partitions(infra: InfraSettings, topics: list[str]) -> list[TopicPartition]:
    """Every partition of the topics that exist (an absent topic has none, and asking
    for all topics' metadata never auto-creates one)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=infra.kafka_bootstrap_servers, **client_options(infra)
    )
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics()}
    finally:
        await admin.close()
    found: list[TopicPartition] = []
    for topic in topics:
        ids = sorted(p["partition"] for p in described.get(topic, {}).get("partitions", []))
        found.extend(TopicPartition(topic, p) for p in ids)
    return found
