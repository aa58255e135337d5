from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

CLI_SERVICES = (
    "wallet",
    "identity",
    "repairs",
    "tickets",
    "gateway",
    "crm",
    "billing",
    "notifications",
)


@pytest.fixture
def cli_env(platform: dict[str, Any], infra_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `portal` CLI sees the platform's databases through the services' own variables."""
    prefix = platform["wallet_db"].name.removesuffix("_wallet")
    for service in CLI_SERVICES:
        monkeypatch.setenv(f"{service.upper()}_MONGODB_DATABASE", f"{prefix}_{service}")
    monkeypatch.setenv("PORTAL_OPS_MONGODB_DATABASE", f"{prefix}_ops")
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def clock(platform: dict[str, Any]) -> Iterator[Callable[[timedelta], None]]:
    """Moves the clocks of the services that read PORTAL_CLOCK_OFFSET_FILE (billing's
    scheduler, tickets' SLA sweep, notifications' reminders, the dashboard); always put
    back afterwards."""
    path = platform["clock_file"]

    def move(offset: timedelta) -> None:
        path.write_text(str(offset.total_seconds()))
        time.sleep(0.05)  # a new mtime even on coarse file systems

    yield move
    path.write_text("0")
