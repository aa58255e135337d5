from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from portal_chassis.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    service_name: str = "identity"
    port: int = 8102
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    refresh_reuse_grace_seconds: int = 10
    """A refresh token used again this soon after its first use gets tokens of its own (two
    tabs refreshing together); later, a reuse revokes the session. 0: no grace."""
    qr_challenge_seconds: int = 120
    invitation_days: int = 7
    key_reload_seconds: float = 30.0
    login_backoff_after: int = 5
    """Failures from one address for one email before exponential back-off starts."""
    login_backoff_cap_seconds: int = 900
    account_failures_per_hour: int = 100
    address_failures_per_hour: int = 300
    registrations_per_address_per_hour: int = 100
    """Registration attempts from one client address (an office behind NAT is one)."""
    registrations_per_email_per_hour: int = 5
    email_verification_days: int = 7
    password_reset_minutes: int = 30
    """How long a mailed password reset link works (once)."""
    password_resets_per_hour: int = 5
    """Reset mails per address and hour; more requests are answered alike and send nothing."""
    mail_clients: list[str] = ["notifications"]
    """Service clients allowed to read queued mails with their link tokens."""
    second_factor_failures: int = 10
    """Wrong one-time codes per user and window (any challenge) before the lock."""
    second_factor_window_minutes: int = 15
    second_factor_lock_minutes: int = 15
    """At least the window, so counting starts afresh when a lock ends."""
    throttle_purge_seconds: float = 600.0
    """How often old login counters and expired refresh tokens and sessions are purged."""
    admin_email: str = Field(
        "admin@portal.local", validation_alias=AliasChoices("PORTAL_ADMIN_EMAIL")
    )
    admin_password: str = Field(
        "admin-password-1", validation_alias=AliasChoices("PORTAL_ADMIN_PASSWORD")
    )
    seed_admin: bool = True
    service_clients: dict[str, str] = {}
    """Client id -> secret of the services allowed a service token (JSON in the env)."""
    service_token_minutes: int = 10
