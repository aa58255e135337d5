from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from portal_chassis.settings import ServiceSettings

REPOSITORY = Path(__file__).resolve().parents[3]


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
    notifications_url: str = "http://127.0.0.1:8107"
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
    stream_max_per_user: int = 5
    """Live dashboard streams one user may hold open at once (per replica): a 429 above."""
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = 8191
    """Prometheus is served here, never on the public port; None: not served (0: any port)."""
    body_timeout_seconds: float = 120.0
    """A request body must arrive in full within this, or the answer is 408."""
    body_min_bytes_per_second: float = 32 * 1024
    """...plus the time its declared length takes at this rate (large uploads, slow links)."""
    body_idle_seconds: float = 20.0
    """...and no pause between two of its chunks may be longer than this."""
    revoked_sessions_poll_seconds: float = 1.0
    """How often the revoked-session list is re-read (a logged-out token dies within this)."""
    revoked_sessions_keep_seconds: float = 1800.0
    """Longer than an access token lives (15 min), so every revoked one stays refused."""
    upload_quota_bytes: int = 200 * 1024 * 1024
    """Bytes of upload bodies one account may send per quota window (all replicas)."""
    upload_quota_window_seconds: int = 3600
    upload_min_bytes: int = 64 * 1024 + 1
    """Bodies declared at least this large (attachments, photos, logos) count towards it."""
    web_dir: Path | None = REPOSITORY / "web" / "dist"
    """The web portal's build, served at `/`; a missing directory (or none) serves the API alone."""
