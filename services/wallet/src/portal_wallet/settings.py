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
    overpayment_tolerance_percent: int = Field(10, ge=0, le=1000)
    """A confirmed payment more than this many percent above the top-up's amount, or one
    that would take the balance past `max_balance`, or a second provider event on an
    already paid reference, is held for staff review instead of credited."""
    top_up_expiry_minutes: int = 30
    expiry_sweep_seconds: float = 30.0
    sandbox_secret: str = Field(
        "sandbox-secret", validation_alias=AliasChoices("PAYMENTS_SANDBOX_SECRET")
    )
    bank_bin: str = "970436"
    bank_account: str = "0011001234567"
