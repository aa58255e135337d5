"""Where the CLI finds things: the same environment variables as the services.

Kafka and MongoDB come from the chassis' InfraSettings (KAFKA_BOOTSTRAP_SERVERS,
MONGODB_URI, KAFKA_SECURITY_PROTOCOL...); each service's database name comes from that
service's own settings class (`<SERVICE>_MONGODB_DATABASE`, default `portal_<service>`),
so a rename there is picked up here.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.settings import InfraSettings, ServiceSettings


def _billing() -> ServiceSettings:
    from portal_billing.settings import BillingSettings

    return BillingSettings()


def _crm() -> ServiceSettings:
    from portal_crm.settings import CrmSettings

    return CrmSettings()


def _gateway() -> ServiceSettings:
    from portal_gateway.settings import GatewaySettings

    return GatewaySettings()


def _identity() -> ServiceSettings:
    from portal_identity.settings import IdentitySettings

    return IdentitySettings()


def _repairs() -> ServiceSettings:
    from portal_repairs.settings import RepairsSettings

    return RepairsSettings()


def _tickets() -> ServiceSettings:
    from portal_tickets.settings import TicketsSettings

    return TicketsSettings()


def _notifications() -> ServiceSettings:
    from portal_notifications.settings import NotificationsSettings

    return NotificationsSettings()


def _wallet() -> ServiceSettings:
    from portal_wallet.settings import WalletSettings

    return WalletSettings()


SERVICES: dict[str, Callable[[], ServiceSettings]] = {
    "identity": _identity,
    "wallet": _wallet,
    "tickets": _tickets,
    "crm": _crm,
    "repairs": _repairs,
    "billing": _billing,
    "notifications": _notifications,
    "gateway": _gateway,
}
"""Every process that owns a database, with its settings class (read lazily)."""


class CliSettings(BaseSettings):
    """The CLI's own knobs."""

    model_config = SettingsConfigDict(env_prefix="PORTAL_OPS_", extra="ignore")

    mongodb_database: str = Field("portal_ops")
    """The operators' own small database: which dead letters were redriven."""


def infra() -> InfraSettings:
    return InfraSettings()


def database_name(service: str) -> str:
    if service not in SERVICES:
        raise KeyError(service)
    return SERVICES[service]().database_name()


def operator() -> str:
    """Who runs the command, for the records the CLI leaves (e.g. a redrive)."""
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        return os.environ.get("USER", "unknown")


class Mongo:
    """One client for a command; databases by service name."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]]) -> None:
        self.client = client

    def service(self, name: str) -> AsyncDatabase[dict[str, Any]]:
        return self.client[database_name(name)]

    def ops(self) -> AsyncDatabase[dict[str, Any]]:
        return self.client[CliSettings().mongodb_database]


@asynccontextmanager
async def mongo() -> AsyncIterator[Mongo]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infra().mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        yield Mongo(client)
    finally:
        await client.close()
