"""Documents render from a contract's or an invoice's data, Vietnamese text included."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from pypdf import PdfReader

from portal_billing.documents import (
    PdfFonts,
    ascii_text,
    render_html,
    render_invoice_pdf,
    render_pdf,
)
from portal_billing.settings import BillingSettings

DEJAVU = PdfFonts.from_dir(BillingSettings().pdf_font_dir)
CORE = PdfFonts()

CONTRACT = {
    "contract_number": "HD-2026-000007",
    "account_id": "acc-1",
    "plan_name": "Gói Cao cấp <Premium>",
    "tier": "premium",
    "category": "hosting",
    "starts_on": "2026-11-22",
    "ends_on": "2027-11-22",
    "amount": 4_320_000,
    "currency": "VND",
    "status": "active",
    "history": [
        {
            "event": "started",
            "at": datetime(2026, 11, 22, tzinfo=UTC),
            "ends_on": date(2027, 11, 22),
        }
    ],
}


def text_of(pdf: bytes) -> str:
    """The text a PDF reader extracts, as a customer would copy it."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_default_font_is_present_on_this_machine() -> None:
    """CI installs fonts-dejavu-core; without it every Unicode test below would be skipped."""
    assert DEJAVU.unicode, "fonts-dejavu-core missing: PDFs would fold Vietnamese to ASCII"


def test_the_confirmation_pdf_keeps_vietnamese_diacritics() -> None:
    pdf = render_pdf("confirmation", CONTRACT, "Công ty ABC", DEJAVU)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    assert "HD-2026-000007" in text and "4.320.000 VND" in text
    assert "Gói Cao cấp <Premium>" in text and "Công ty ABC: Service confirmation" in text


def test_vietnamese_is_folded_to_ascii_for_the_pdf_fonts() -> None:
    assert ascii_text("Gói Cao cấp, Đà Nẵng") == "Goi Cao cap, Da Nang"


def test_without_the_font_the_pdf_folds_to_ascii_instead_of_failing() -> None:
    text = text_of(render_pdf("confirmation", CONTRACT, "Công ty ABC", CORE))
    assert "HD-2026-000007" in text and "Goi Cao cap" in text and "4.320.000 VND" in text
    assert "Cong ty ABC" in text


def test_the_html_view_escapes_and_keeps_diacritics() -> None:
    page = render_html("terms", CONTRACT, "Công ty ABC")
    assert "Gói Cao cấp &lt;Premium&gt;" in page and "<Premium>" not in page


def test_an_unpaid_invoice_renders_as_a_proforma() -> None:
    invoice = {
        "status": "partially_paid",
        "invoice_number": None,
        "proforma_number": "PF-2026-000003",
        "account_id": "acc-1",
        "order_id": "OD-2026-000003",
        "issued_at": datetime(2026, 11, 22, tzinfo=UTC),
        "due_at": datetime(2026, 11, 29, tzinfo=UTC),
        "currency": "VND",
        "lines": [
            {"description": "Hosting Professional, 12 month(s)", "amount": 2_400_000},
            {"description": "10% discount for 12 months", "amount": -240_000},
        ],
        "total": 2_160_000,
        "paid": 1_000_000,
        "amount_due": 1_160_000,
        "payments": [
            {
                "at": datetime(2026, 11, 22, tzinfo=UTC),
                "channel": "wallet",
                "reference": "PF-2026-000003",
                "applied": 1_000_000,
            }
        ],
    }
    text = text_of(render_invoice_pdf(invoice, "Portal", DEJAVU))
    assert "Proforma invoice PF-2026-000003" in text
    assert "-240.000 VND" in text and "1.160.000 VND" in text


def test_the_same_document_renders_to_the_same_bytes() -> None:
    """Documents are dated by their data, so downloads are reproducible."""
    older = {**CONTRACT, "history": [{"event": "started", "at": datetime(2025, 3, 4, tzinfo=UTC)}]}
    first = render_pdf("terms", older, "Công ty", DEJAVU)
    assert render_pdf("terms", older, "Công ty", DEJAVU) == first
    assert b"D:20250304" in first  # dated by the contract's last event, not by the clock
