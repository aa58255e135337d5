from __future__ import annotations

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
