from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from portal_chassis.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    port: int = 8107
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    """Upgrade the connection with STARTTLS before sending (port 587 servers)."""
    smtp_tls: bool = False
    """Implicit TLS from the first byte (port 465 servers)."""
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = 15.0
    mail_from: str = "Customer Portal <no-reply@portal.local>"
    portal_url: str = "http://127.0.0.1:8000"
    """Links in messages point here."""
    default_time_zone: str = "Asia/Ho_Chi_Minh"
    send_poll_seconds: float = Field(1.0, gt=0)
    """How often queued mails are looked for (an enqueue also wakes the sender)."""
    send_batch_size: int = 50
    send_lease_seconds: float = 120.0
    """A mail being sent is held this long; a sender that died mid-send loses it then."""
    retry_base_seconds: float = Field(5.0, gt=0)
    retry_max_seconds: float = Field(3600.0, gt=0)
    delivery_max_attempts: int = Field(8, ge=1)
    """Temporary SMTP failures are retried with back-off up to this many attempts."""
    identity_url: str = "http://127.0.0.1:8102"
    """Where queued link mails (password reset, email verification) are read."""
    service_client_id: str = "notifications"
    service_client_secret: str = ""
    """Client secret for identity's service tokens (reading link mails)."""
    identity_timeout_seconds: float = 10.0
    recipient_wait_seconds: float = 10.0
    """An event about an account whose people are not known yet (identity's events lag
    on another topic) waits this long for them before it counts as a failure."""
    platform_account_id: str = "platform"
    """Identity's account of the platform's own staff (told of tickets, leads, care)."""
    notice_max_age_hours: float = Field(48.0, gt=0)
    """Events older than this update what notifications knows but tell nobody."""
    care_reminder_hour: int = Field(7, ge=0, le=23)
    """From this hour of the business day on, caretakers get that day's care reminder."""
    care_reminder_poll_seconds: float = Field(300.0, gt=0)
    unsubscribe_secret: str = "unsubscribe-dev-secret"
    """Signs the unsubscribe links in mails; set a long random value in production (a
    change makes the links in mails already sent stop working)."""
    rate_limit_per_window: int = Field(10, ge=0)
    """At most this many mails of one category to one person per window (0: no limit);
    the excess is not sent and recorded as failed ("rate_limited"), the bell still has it.
    Mandatory categories (security, receipts and invoices) are never held back."""
    rate_limit_window_seconds: float = Field(3600.0, gt=0)
    digest_poll_seconds: float = Field(10.0, gt=0)
    """How often mails held back by the rate limit are looked for, to be sent as one
    digest per person and window once the window is over."""
    digest_grace_seconds: float = Field(30.0, ge=0)
    """A window's digest waits this long after its end for mails held at its last moment."""
