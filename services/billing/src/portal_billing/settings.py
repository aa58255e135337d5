from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from portal_chassis.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    service_name: str = "billing"
    port: int = 8106
    currency: str = "VND"
    wallet_url: str = "http://127.0.0.1:8101"
    identity_url: str = "http://127.0.0.1:8102"
    wallet_timeout_seconds: float = 10.0
    service_client_id: str = "billing"
    service_client_secret: str = ""
    """Client secret for identity's service tokens (moving money in the wallet)."""
    invoice_due_days: int = 7
    expiry_notice_days: int = 15
    expiry_reminder_days: tuple[int, ...] = (7, 1)
    """Further expiry notices, this many days before the end (each once per term)."""
    claim_review_hours: int = 24
    expiry_sweep_seconds: float = 60.0
    payment_sweep_seconds: float = 5.0
    """How often payments left in progress (wallet timeout, crash) are looked for."""
    payment_resume_after_seconds: float = 15.0
    """A started payment older than this is finished by the sweep or by the next request;
    longer than the wallet call's timeout, so a request still waiting is left alone."""
    seed_catalogue: bool = True
    company_name: str = "Portal Services JSC"
    pdf_font_dir: str = "/usr/share/fonts/truetype/dejavu"
    """Where DejaVuSans.ttf and DejaVuSans-Bold.ttf are (Debian: fonts-dejavu-core). Without
    them PDFs use the Latin-1 core fonts and Vietnamese is folded to ASCII."""
