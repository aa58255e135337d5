from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from portal_chassis.settings import ServiceSettings


class CrmSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    service_name: str = "crm"
    port: int = 8105
    currency: str = "VND"
    recompute_seconds: float = 30.0
    """How often a replica looks for an unfinished level recompute (one left by a crash)."""
