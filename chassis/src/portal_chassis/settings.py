"""Settings read once from the environment (pydantic-settings).

Each service subclasses ServiceSettings with its own env prefix for its own knobs;
the shared infrastructure variables keep their usual unprefixed names.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class InfraSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    mongodb_uri: str = Field(
        "mongodb://127.0.0.1:27017/", validation_alias=AliasChoices("MONGODB_URI")
    )
    kafka_security_protocol: str = Field(
        "PLAINTEXT", validation_alias=AliasChoices("KAFKA_SECURITY_PROTOCOL")
    )
    kafka_sasl_mechanism: str = Field(
        "SCRAM-SHA-512", validation_alias=AliasChoices("KAFKA_SASL_MECHANISM")
    )
    kafka_sasl_username: str = Field("", validation_alias=AliasChoices("KAFKA_SASL_USERNAME"))
    kafka_sasl_password: str = Field("", validation_alias=AliasChoices("KAFKA_SASL_PASSWORD"))
    kafka_ssl_cafile: str = Field("", validation_alias=AliasChoices("KAFKA_SSL_CAFILE"))
    kafka_create_topics: bool = Field(True, validation_alias=AliasChoices("KAFKA_CREATE_TOPICS"))
    kafka_topic_partitions: int = Field(3, validation_alias=AliasChoices("KAFKA_TOPIC_PARTITIONS"))
    kafka_replication_factor: int = Field(
        1, validation_alias=AliasChoices("KAFKA_REPLICATION_FACTOR")
    )
    mongodb_server_selection_seconds: float = Field(
        2.0, validation_alias=AliasChoices("MONGODB_SERVER_SELECTION_SECONDS")
    )
    """How long a call waits for a reachable database before it fails (then: 503)."""
    mongodb_timeout_seconds: float = Field(
        10.0, validation_alias=AliasChoices("MONGODB_TIMEOUT_SECONDS")
    )
    """The longest wait for one answer from the database or for a free pooled connection."""


class AuthSettings(BaseSettings):
    """How access tokens are verified: against identity's JWKS."""

    model_config = SettingsConfigDict(env_prefix="PORTAL_JWT_", extra="ignore")

    jwks_url: str = "http://127.0.0.1:8102/v1/auth/jwks"
    audience: str = "portal"
    issuer: str = "portal-identity"
    jwks_cache_seconds: float = 300.0
    jwks_min_refresh_seconds: float = 2.0
    """An unknown kid refreshes the key set, but not more often than this."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    mongodb_database: str = ""
    """Defaults to `portal_<service_name>`; each service owns exactly one database."""
    host: str = "127.0.0.1"
    port: int = 8100
    log_level: str = "INFO"
    log_json: bool = True
    relay_poll_seconds: float = 0.5
    relay_batch_size: int = 500
    relay_lease_seconds: float = 10.0
    snapshot_every: int = 50
    consumer_max_attempts: int = 3
    """Attempts for an event that fails for its own reason before it goes to the DLQ."""
    health_probe_seconds: float = 1.0
    """How often the database is pinged for readiness and liveness."""
    health_wedged_seconds: float = 30.0
    """A database call that has not returned after this long means a wedged client:
    liveness fails so the orchestrator restarts the process."""
    health_loop_lag_seconds: float = 10.0
    """Liveness fails when the event loop falls this far behind."""

    def database_name(self) -> str:
        return self.mongodb_database or f"portal_{self.service_name}"
