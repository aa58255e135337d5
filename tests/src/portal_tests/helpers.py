from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer

from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.wallet import WalletCredited

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def credit(account: str, amount: int, balance_after: int, n: int = 0) -> WalletCredited:
    return WalletCredited(
        account_id=account,
        transaction_id=f"tx-{n}-{uuid.uuid4().hex[:6]}",
        amount=amount,
        currency="VND",
        balance_after=balance_after,
        reason="adjustment",
        reference=f"r{n}",
        occurred_at=NOW,
    )


def credit_envelope(unique: str, reference: str, version: int) -> EventEnvelope:
    """A wallet credit in its envelope, told apart by `reference` (consumer tests)."""
    e = credit(unique, 1, version, version).model_copy(update={"reference": reference})
    return EventEnvelope(
        id=str(uuid.uuid4()),
        source="/t",
        type=e.event_type,
        subject=f"s-{unique}",
        time=e.occurred_at,
        streamversion=version,
        data=e.model_dump(mode="json"),
    )


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    subject_prefix: str | None = None,
    expect: int,
    timeout: float = 30.0,
) -> list[tuple[dict[str, str], bytes]]:
    """Read `topic` from offset 0 until `expect` matching messages arrived (or time out)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[tuple[dict[str, str], bytes]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < expect and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    if subject_prefix and not headers.get("ce_subject", "").startswith(
                        subject_prefix
                    ):
                        continue
                    found.append((headers, record.value))
    finally:
        await consumer.stop()
    return found


def envelopes(messages: list[tuple[dict[str, str], bytes]]) -> list[EventEnvelope]:
    return [EventEnvelope.from_kafka(h, v) for h, v in messages]


async def eventually(check: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    return last
