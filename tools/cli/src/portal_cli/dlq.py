"""Dead letters: read `<topic>.dlq`, redrive a message to its topic once.

The chassis' consumer dead-letters a message with its original key, value and headers,
plus `dlq_error`, `dlq_group` and `dlq_topic`. A redrive publishes key, value and the
original headers (without the `dlq_*` ones) to the original topic, adds who redrove it
and when, and is remembered in the operators' database (`dlq_redrives`, keyed by the
dead letter's topic/partition/offset): the claim is written before the publish, so two
operators (or a retry) never redrive the same dead letter twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.consumer import dlq_topic
from portal_cli import kafka

REDRIVES = "dlq_redrives"
REDRIVE_HEADERS = ("redriven_by", "redriven_at", "redriven_from")


def dlq_name(topic: str) -> str:
    """`wallet.events` and `wallet.events.dlq` both name the wallet's DLQ."""
    return topic if topic.endswith(".dlq") else dlq_topic(topic)


@dataclass(frozen=True)
class DeadLetter:
    record: ConsumerRecord[Any, Any]

    @property
    def headers(self) -> dict[str, str]:
        return kafka.headers_of(self.record)

    @property
    def position(self) -> str:
        return f"{self.record.partition}:{self.record.offset}"

    @property
    def id(self) -> str:
        """The event's id when it has one, else its partition:offset in the DLQ."""
        return self.headers.get("ce_id") or self.position

    @property
    def key(self) -> str:
        return f"{self.record.topic}/{self.record.partition}/{self.record.offset}"

    @property
    def original_topic(self) -> str:
        return self.headers.get("dlq_topic") or self.record.topic.removesuffix(".dlq")

    def matches(self, wanted: str) -> bool:
        return wanted in (self.id, self.position)


async def read_all(topic: str) -> list[DeadLetter]:
    """Every message on the DLQ now (it is kept forever, like the event topics)."""
    name = dlq_name(topic)
    out: list[DeadLetter] = []
    async with kafka.consumer() as client:
        tps = await kafka.partitions(client, [name])
        if not tps:
            return out
        client.assign(tps)
        await client.seek_to_beginning(*tps)
        ends = await client.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            batch = await client.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                out.extend(DeadLetter(r) for r in records if r.offset < ends[tp])
            for tp in list(remaining):
                if await client.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    out.sort(key=lambda d: (d.record.timestamp, d.record.partition, d.record.offset))
    return out


async def redrives(db: AsyncDatabase[dict[str, Any]], letters: list[DeadLetter]) -> dict[str, Any]:
    keys = [d.key for d in letters]
    return {doc["_id"]: doc async for doc in db[REDRIVES].find({"_id": {"$in": keys}})}


@dataclass(frozen=True)
class Redriven:
    letter: DeadLetter
    done: bool
    note: str


async def redrive(
    db: AsyncDatabase[dict[str, Any]], letters: list[DeadLetter], actor: str
) -> list[Redriven]:
    out: list[Redriven] = []
    async with kafka.producer() as producer:
        for letter in letters:
            now = datetime.now(UTC)
            claim = {
                "_id": letter.key,
                "event_id": letter.id,
                "topic": letter.original_topic,
                "actor": actor,
                "claimed_at": now,
                "status": "claimed",
            }
            try:
                await db[REDRIVES].insert_one(claim)
            except DuplicateKeyError:
                earlier = await db[REDRIVES].find_one({"_id": letter.key}) or {}
                out.append(
                    Redriven(
                        letter,
                        False,
                        f"already redriven by {earlier.get('actor')} "
                        f"at {earlier.get('claimed_at')}",
                    )
                )
                continue
            record = letter.record
            headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq_")]
            headers = [(k, v) for k, v in headers if k not in REDRIVE_HEADERS]
            headers += [
                ("redriven_by", actor.encode()),
                ("redriven_at", now.isoformat().encode()),
                ("redriven_from", letter.key.encode()),
            ]
            try:
                sent = await producer.send_and_wait(
                    letter.original_topic, value=record.value, key=record.key, headers=headers
                )
            except BaseException:
                await db[REDRIVES].delete_one({"_id": letter.key, "status": "claimed"})
                raise
            await db[REDRIVES].update_one(
                {"_id": letter.key},
                {
                    "$set": {
                        "status": "redriven",
                        "redriven_at": datetime.now(UTC),
                        "published": f"{sent.topic}/{sent.partition}/{sent.offset}",
                    }
                },
            )
            out.append(Redriven(letter, True, f"to {sent.topic} {sent.partition}:{sent.offset}"))
    return out
