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
from portal_chassis.health import DatabaseHealth, LoopWatchdog
from portal_chassis.logging import get_logger
from portal_chassis.mongo import make_client
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
        self.mongo: AsyncMongoClient[dict[str, Any]] = make_client(self.infra)
        self.db: AsyncDatabase[dict[str, Any]] = self.mongo[settings.database_name()]
        self.database_health = DatabaseHealth(
            lambda: self.db.command("ping"),
            interval=settings.health_probe_seconds,
            # Past every driver deadline, a ping that has not returned is not answering...
            deadline=self.infra.mongodb_timeout_seconds + 5.0,
            # ... and, much later still, one that never returns means a wedged client.
            wedged_after=max(
                settings.health_wedged_seconds, self.infra.mongodb_timeout_seconds * 2
            ),
        )
        self.loop_watchdog = LoopWatchdog(max_lag=settings.health_loop_lag_seconds)
        self.store = EventStore(self.db) if with_event_store else None
        self.relay: OutboxRelay | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.broker_ready = asyncio.Event()
        self.started = False

    async def start(self, *, run_relay: bool = True, wait_for_kafka: float = 15.0) -> None:
        """Connect; Kafka may come later: commands still append, the relay catches up."""
        self.loop_watchdog.start()
        self.database_health.start()
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
        await self.database_health.stop()
        await self.loop_watchdog.stop()
        await self.mongo.close()
        self.started = False

    def liveness(self) -> dict[str, str]:
        """What only a restart cures: a wedged database client or a stalled event loop.
        A database that is merely down is not among them (see readiness)."""
        return {
            "event_loop": "ok" if self.loop_watchdog.live() else "lagging",
            "mongodb_client": "wedged" if self.database_health.wedged() else "ok",
        }

    async def readiness(self) -> dict[str, Any]:
        """`mongodb` (this service's own database) decides readiness; the rest is reported.

        Kafka is a dependency, not a condition: commands still append to the outbox while
        it is away, and the relay catches up when it returns.
        """

        async def kafka() -> str:
            try:
                return "ok" if await self.broker.ping(timeout=1.5) else "down"
            except Exception as exc:
                return f"down: {type(exc).__name__}"

        async def database() -> None:
            if not self.database_health.ready():
                # At start, or to see a recovery at once; the background probe carries on
                # with a slow ping, the answer here never waits for it.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.database_health.refresh(), 1.0)

        kafka_state, _ = await asyncio.gather(kafka(), database())
        checks: dict[str, Any] = {**self.database_health.report(), "kafka": kafka_state}
        if self.store is not None and self.database_health.ready():
            with contextlib.suppress(Exception):
                checks["outbox_pending"] = await self.store.unpublished_count()
        return checks
