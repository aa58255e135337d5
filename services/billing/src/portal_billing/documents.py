"""Documents of a subscription: terms of use and the service confirmation (PDF and HTML).

PDFs are made with fpdf2 from the contract's data, in a TrueType font (DejaVu Sans, from
the system's fonts-dejavu-core package) so Vietnamese keeps its diacritics. Where that font
is missing, fpdf2's built-in fonts are used; they are Latin-1 only, so the text is then
folded to ASCII rather than printed as question marks.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal

from fpdf import FPDF

DocumentKind = Literal["terms", "confirmation"]

TERMS = [
    "1. The service is provided for the period stated in the contract and ends on its end "
    "date unless it is renewed. A renewal extends the contract from its current end date.",
    "2. An upgrade to a higher tier takes effect at once. The unused value of the current "
    "plan is credited pro rata by day and the end date does not change. Downgrades are not "
    "offered during a term.",
    "3. Invoices are payable from the account balance or by bank transfer. A partial payment "
    "keeps the order open until the rest is paid; a stopped order is cancelled and what was "
    "paid is credited to the account balance. Over-payments are credited to the balance.",
    "4. A payment made but not confirmed can be reported with its reference; it is reviewed "
    "within 24 hours.",
    "5. Notices about the end of the contract are shown on the dashboard 15 days before it.",
]


def ascii_text(value: Any) -> str:
    text = str(value).replace("đ", "d").replace("Đ", "D")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded


@dataclass(frozen=True)
class PdfFonts:
    """The TrueType fonts PDFs are written in; none means the Latin-1 core fonts."""

    regular: Path | None = None
    bold: Path | None = None

    @classmethod
    def from_dir(cls, directory: str) -> PdfFonts:
        base = Path(directory)
        regular, bold = base / "DejaVuSans.ttf", base / "DejaVuSans-Bold.ttf"
        if directory and regular.is_file() and bold.is_file():
            return cls(regular, bold)
        return cls()

    @property
    def unicode(self) -> bool:
        return self.regular is not None


class _Pdf(FPDF):
    """An FPDF in the chosen fonts; `printable` makes a string printable in them."""

    def __init__(self, fonts: PdfFonts, created: datetime, title: str, creator: str) -> None:
        super().__init__()
        self.printable: Callable[[Any], str] = str if fonts.unicode else ascii_text
        self.body_family = "Helvetica"
        if fonts.regular is not None and fonts.bold is not None:
            self.add_font("Body", "", fonts.regular)
            self.add_font("Body", "B", fonts.bold)
            self.body_family = "Body"
        self.set_creation_date(created)  # dated by the data: same data, same bytes
        self.set_title(self.printable(title))
        self.set_creator(self.printable(creator))
        self.add_page()

    def style(self, style: Literal["", "B"], size: int) -> None:
        self.set_font(self.body_family, style, size)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def money(amount: int, currency: str) -> str:
    return f"{amount:,} {currency}".replace(",", ".")


def _facts(contract: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Contract number", contract["contract_number"]),
        ("Customer account", contract["account_id"]),
        ("Plan", f"{contract['plan_name']} ({contract['tier']})"),
        ("Category", contract["category"]),
        ("Start date", contract["starts_on"]),
        ("End date", contract["ends_on"]),
        ("Amount paid", money(contract["amount"], contract["currency"])),
        ("Status", contract["status"]),
    ]


def render_pdf(
    kind: DocumentKind, contract: dict[str, Any], company: str, fonts: PdfFonts
) -> bytes:
    history = contract.get("history") or []
    created = (
        history[-1]["at"]
        if history
        else datetime.combine(_day(contract["starts_on"]), time(0), UTC)
    )
    pdf = _Pdf(fonts, created, f"{kind} {contract['contract_number']}", company)
    t = pdf.printable
    pdf.style("B", 16)
    title = "Terms of use" if kind == "terms" else "Service confirmation"
    pdf.cell(0, 10, t(f"{company}: {title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.style("", 11)
    for label, value in _facts(contract):
        pdf.cell(50, 8, t(label))
        pdf.cell(0, 8, t(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    if kind == "terms":
        for paragraph in TERMS:
            pdf.multi_cell(0, 6, t(paragraph), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    else:
        pdf.multi_cell(
            0,
            6,
            t(
                f"{company} confirms that the service above is registered for the customer "
                f"account and active from {contract['starts_on']} to {contract['ends_on']}."
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)
        for entry in contract.get("history", []):
            line = f"{entry['at']:%Y-%m-%d}: {entry['event']}"
            if "ends_on" in entry:
                line += f", ends on {entry['ends_on']}"
            pdf.cell(0, 6, t(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def render_html(kind: DocumentKind, contract: dict[str, Any], company: str) -> str:
    e = html.escape
    title = "Terms of use" if kind == "terms" else "Service confirmation"
    rows = "".join(
        f"<tr><th>{e(label)}</th><td>{e(str(value))}</td></tr>" for label, value in _facts(contract)
    )
    body = (
        "".join(f"<p>{e(p)}</p>" for p in TERMS)
        if kind == "terms"
        else f"<p>{e(company)} confirms that the service above is active from "
        f"{e(str(contract['starts_on']))} to {e(str(contract['ends_on']))}.</p>"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(title)} {e(contract['contract_number'])}</title>"
        "<style>body{font-family:sans-serif;max-width:800px;margin:2em auto}"
        "th{text-align:left;padding-right:2em}@media print{button{display:none}}</style>"
        f"</head><body><h1>{e(company)}: {e(title)}</h1><table>{rows}</table>{body}"
        "<button onclick='window.print()'>Print</button></body></html>"
    )


def render_invoice_pdf(invoice: dict[str, Any], company: str, fonts: PdfFonts) -> bytes:
    """The invoice (or, while unpaid, the proforma) with its lines and payments."""
    paid = invoice["status"] == "paid"
    number = invoice["invoice_number"] if paid else invoice["proforma_number"]
    currency = invoice["currency"]
    created = invoice.get("paid_at") or invoice["issued_at"]
    pdf = _Pdf(fonts, created, f"Invoice {number}", company)
    t = pdf.printable
    pdf.style("B", 16)
    title = "Invoice" if paid else "Proforma invoice"
    pdf.cell(0, 10, t(f"{company}: {title} {number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.style("", 11)
    facts = [
        ("Customer account", invoice["account_id"]),
        ("Order", invoice["order_id"]),
        ("Issued", f"{invoice['issued_at']:%Y-%m-%d}"),
        ("Due", f"{invoice['due_at']:%Y-%m-%d}"),
        ("Status", invoice["status"].replace("_", " ")),
    ]
    for label, value in facts:
        pdf.cell(50, 7, t(label))
        pdf.cell(0, 7, t(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.style("B", 11)
    pdf.cell(140, 8, "Description")
    pdf.cell(0, 8, "Amount", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.style("", 11)
    for line in invoice["lines"]:
        pdf.cell(140, 7, t(line["description"])[:80])
        pdf.cell(0, 7, money(line["amount"], currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.style("B", 11)
    for label, amount in (
        ("Total", invoice["total"]),
        ("Paid", invoice["paid"]),
        ("Amount due", invoice["amount_due"]),
    ):
        pdf.cell(140, 8, label)
        pdf.cell(0, 8, money(amount, currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.style("", 10)
    for payment in invoice["payments"]:
        line = f"{payment['at']:%Y-%m-%d} {payment['channel']} {payment['reference']}"
        pdf.cell(140, 6, t(line)[:80])
        pdf.cell(
            0, 6, money(payment["applied"], currency), align="R", new_x="LMARGIN", new_y="NEXT"
        )
    return bytes(pdf.output())
