from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from portal_chassis.settings import ServiceSettings


class RepairsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPAIRS_", extra="ignore")

    service_name: str = "repairs"
    port: int = 8104
    warranty_days: int = 90
    overdue_days: int = 7
    currency: str = "VND"
    number_prefix: str = "RP"
