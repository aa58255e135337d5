"""Topics are declared with their partitions, not left to auto-creation."""

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from portal_chassis.settings import InfraSettings
from portal_chassis.topics import all_topics, ensure_topics

pytestmark = pytest.mark.integration


async def test_every_context_topic_and_its_dlq_exist_with_three_partitions(infra, unique):
    settings = InfraSettings(KAFKA_BOOTSTRAP_SERVERS=infra.kafka_bootstrap_servers)
    names = [*all_topics(), f"probe-{unique}.events"]
    await ensure_topics(settings, names)
    assert await ensure_topics(settings, names) == []  # idempotent
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(["wallet.events", f"probe-{unique}.events"])
    finally:
        await admin.close()
    assert [len(t["partitions"]) for t in described] == [3, 3]
    assert {"identity.events", "wallet.events.dlq", "billing.events"} <= set(all_topics())
