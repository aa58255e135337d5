from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from portal_chassis.settings import ServiceSettings


class WalletSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WALLET_", extra="ignore")

    service_name: str = "wallet"
    port: int = 8101
    currency: str = "VND"
    min_top_up: int = 10_000
    max_top_up: int = 100_000_000
    max_balance: int = 1_000_000_000
    top_up_expiry_minutes: int = 30
    expiry_sweep_seconds: float = 30.0
    sandbox_secret: str = Field(
        "sandbox-secret", validation_alias=AliasChoices("PAYMENTS_SANDBOX_SECRET")
    )
    bank_bin: str = "970436"
    bank_account: str = "0011001234567"
