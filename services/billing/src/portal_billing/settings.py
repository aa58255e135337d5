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
    service_client_id: str = "billing"
    service_client_secret: str = ""
    """Client secret for identity's service tokens (moving money in the wallet)."""
    invoice_due_days: int = 7
    expiry_notice_days: int = 15
    claim_review_hours: int = 24
    expiry_sweep_seconds: float = 60.0
    seed_catalogue: bool = True
    company_name: str = "Portal Services JSC"
    pdf_font_dir: str = "/usr/share/fonts/truetype/dejavu"
    """Where DejaVuSans.ttf and DejaVuSans-Bold.ttf are (Debian: fonts-dejavu-core). Without
    them PDFs use the Latin-1 core fonts and Vietnamese is folded to ASCII."""
