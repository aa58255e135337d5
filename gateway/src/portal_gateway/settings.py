from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from portal_chassis.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    port: int = 8000
    wallet_url: str = "http://127.0.0.1:8101"
    identity_url: str = "http://127.0.0.1:8102"
    repairs_url: str = "http://127.0.0.1:8104"
    tickets_url: str = "http://127.0.0.1:8103"
    billing_url: str = "http://127.0.0.1:8106"
    crm_url: str = "http://127.0.0.1:8105"
    upstream_timeout_seconds: float = 15.0
    idempotency_lease_seconds: float = 5.0
    """A running request renews its key's lease; a dead holder's lapses after this."""
    idempotency_retention_hours: float = 24.0
    idempotency_purge_seconds: float = 600.0
    projector_port: int = 8190
    stream_poll_seconds: float = 0.5
    stream_heartbeat_seconds: float = 15.0
    stream_lifetime_seconds: float = 600.0
    """A live dashboard stream ends after this; the browser's EventSource reconnects."""
