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
    billing_url: str = "http://127.0.0.1:8106"
    """Where related order/contract codes are checked."""
    first_response_hours: dict[str, float] = {"urgent": 1, "high": 4, "normal": 8, "low": 24}
    resolution_hours: dict[str, float] = {"urgent": 8, "high": 24, "normal": 72, "low": 120}
    """SLA policy; a change applies to every ticket, recomputed from its history."""
