from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from portal_chassis.settings import ServiceSettings


class TicketsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETS_", extra="ignore")

    service_name: str = "tickets"
    port: int = 8103
    auto_close_seconds: int = 7 * 24 * 3600
    """Quiet period after which a resolved ticket closes by itself."""
    sweep_seconds: float = 60.0
    number_prefix: str = "TK"
