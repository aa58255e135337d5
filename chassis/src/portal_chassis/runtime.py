"""What a running service holds: its database, event store, Kafka broker and relay.

Nothing connects at import time: `start()` is called from the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.auth import JwksVerifier, TokenVerifier
from portal_chassis.bus import KafkaEventPublisher, make_broker
from portal_chassis.eventstore import EventStore
from portal_chassis.logging import get_logger
from portal_chassis.relay import OutboxRelay
from portal_chassis.settings import AuthSettings, InfraSettings, ServiceSettings
from portal_chassis.topics import all_topics, broker_security, ensure_topics

log = get_logger(__name__)


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        infra: InfraSettings | None = None,
        auth: AuthSettings | None = None,
        *,
        with_event_store: bool = True,
    ) -> None:
        self.settings = settings
        self.infra = infra or InfraSettings()
        self.verifier: TokenVerifier = JwksVerifier(auth or AuthSettings())
        self.broker: KafkaBroker = make_broker(
            self.infra.kafka_bootstrap_servers,
            client_id=settings.service_name,
            security=broker_security(self.infra),
        )
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            self.infra.mongodb_uri, tz_aware=True, connect=False, serverSelectionTimeoutMS=5000
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.mongo[settings.database_name()]
        self.store = EventStore(self.db) if with_event_store else None
        self.relay: OutboxRelay | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.broker_ready = asyncio.Event()
        self.started = False

    async def start(self, *, run_relay: bool = True, wait_for_kafka: float = 15.0) -> None:
        """Connect; Kafka may come later: commands still append, the relay catches up."""
        if self.store is not None:
            await self.store.setup()
        connecting = asyncio.create_task(self._connect_broker(), name="kafka-connect")
        self._tasks.append(connecting)
        await asyncio.wait({connecting}, timeout=wait_for_kafka)
        if self.store is not None and run_relay:
            self.relay = OutboxRelay(
                self.store,
                KafkaEventPublisher(self.broker),
                service=self.settings.service_name,
                lease_seconds=self.settings.relay_lease_seconds,
                poll_seconds=self.settings.relay_poll_seconds,
                batch_size=self.settings.relay_batch_size,
            )
            self._tasks.append(
                asyncio.create_task(self._relay_when_connected(self.relay), name="outbox-relay")
            )
        self.started = True
        log.info("service started", database=self.settings.database_name())

    async def _connect_broker(self) -> None:
        delay = 0.5
        while True:
            try:
                if self.infra.kafka_create_topics:
                    await ensure_topics(self.infra, all_topics())
                await self.broker.start()
            except Exception as exc:
                log.warning("kafka not reachable yet, retrying", error=str(exc), delay=delay)
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            else:
                self.broker_ready.set()
                return

    async def _relay_when_connected(self, relay: OutboxRelay) -> None:
        await self.broker_ready.wait()
        await relay.run()

    async def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        for task in self._tasks:
            if not self.broker_ready.is_set() or task.get_name() == "kafka-connect":
                task.cancel()
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5)
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        await self.mongo.close()
        self.started = False

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(self.mongo.admin.command("ping"), timeout=3)
            checks["mongodb"] = "ok"
        except Exception as exc:
            checks["mongodb"] = f"down: {type(exc).__name__}"
        try:
            ok = await self.broker.ping(timeout=3)
            checks["kafka"] = "ok" if ok else "down"
        except Exception as exc:
            checks["kafka"] = f"down: {type(exc).__name__}"
        if self.store is not None:
            with contextlib.suppress(Exception):
                checks["outbox_pending"] = await self.store.unpublished_count()
        return checks
