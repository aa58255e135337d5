"""Payment providers behind one port, and the built-in `sandbox` provider.

Webhooks are signed Stripe-style: `Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
(secret, "<t>.<raw body>")>`, refused when wrong or more than 300 s away from now.
Bank transfers get a VietQR (EMVCo merchant-presented) payload whose memo is the
payment reference, so the bank's notification can be matched to the top-up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from portal_chassis.decider import BadInput, Unauthenticated
from portal_contracts.base import CurrencyCode
from portal_contracts.events.wallet import PaymentMethod

SIGNATURE_HEADER = "Portal-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
_MEMO_ALPHABET = string.ascii_uppercase + string.digits
MAX_PAYMENT_AMOUNT = 10**12
"""The largest amount (minor units) a provider may report for one payment: far above any
real payment into a wallet (a larger one would be held anyway), far below what the event
store can hold (int64), so a forged or garbled amount is refused before anything is stored."""


class WebhookPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    type: Literal["payment.succeeded", "payment.failed"]
    reference: str = Field(min_length=1, max_length=100)
    amount: StrictInt = Field(gt=0, le=MAX_PAYMENT_AMOUNT)
    currency: CurrencyCode


@dataclass(frozen=True)
class PaymentInstructions:
    provider: str
    reference: str
    expires_at: datetime
    qr_payload: str | None = None


class PaymentProvider(Protocol):
    name: str

    def instructions(
        self, amount: int, currency: str, method: PaymentMethod, now: datetime
    ) -> PaymentInstructions: ...

    def verify(self, raw_body: bytes, signature_header: str | None, now: datetime) -> None:
        """Raise a domain error (bad input, 401) unless the body was signed by the provider."""
        ...


def sign(secret: str, raw_body: bytes, timestamp: int) -> str:
    """The header value a provider sends; tests and the sandbox simulator use it."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, raw_body: bytes, header: str | None, now: datetime) -> None:
    if not header:
        raise BadInput("signature_missing", f"the {SIGNATURE_HEADER} header is missing")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
        candidates = parts["v1"]
    except (KeyError, ValueError, IndexError):
        raise BadInput(
            "signature_malformed",
            f"{SIGNATURE_HEADER} must look like t=<unix seconds>,v1=<hex>",
        ) from None
    if abs(now.timestamp() - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise Unauthenticated(
            "signature_expired", "the signature timestamp is more than 300 s away from now"
        )
    expected = sign(secret, raw_body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise Unauthenticated("signature_invalid", "the signature does not match the body")


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def _crc16_ccitt(data: bytes) -> str:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


ISO_4217_NUMERIC = {"VND": "704", "USD": "840", "EUR": "978"}


def vietqr_payload(
    bank_bin: str, account_number: str, amount: int, currency: str, memo: str
) -> str:
    """EMVCo QR (NAPAS VietQR profile): dynamic, amount and memo filled in, CRC appended."""
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account_number)
    merchant = _tlv("00", "A000000727") + _tlv("01", beneficiary) + _tlv("02", "QRIBFTTA")
    body = (
        _tlv("00", "01")
        + _tlv("01", "12")
        + _tlv("38", merchant)
        + _tlv("53", ISO_4217_NUMERIC.get(currency, "704"))
        + _tlv("54", str(amount))
        + _tlv("58", "VN")
        + _tlv("62", _tlv("08", memo))
        + "6304"
    )
    return body + _crc16_ccitt(body.encode())


class SandboxProvider:
    """Built-in provider: accepts every method, confirmed by signed webhooks."""

    name = "sandbox"

    def __init__(self, secret: str, *, expiry: timedelta, bank_bin: str, bank_account: str) -> None:
        self.secret = secret
        self.expiry = expiry
        self.bank_bin = bank_bin
        self.bank_account = bank_account

    def instructions(
        self, amount: int, currency: str, method: PaymentMethod, now: datetime
    ) -> PaymentInstructions:
        # 12 characters of A-Z0-9 (~62 bits): unique in practice, and a unique index on
        # references catches the rest. Banks keep such memos intact.
        reference = "PT" + "".join(secrets.choice(_MEMO_ALPHABET) for _ in range(12))
        qr = None
        if method == "bank_transfer":
            qr = vietqr_payload(self.bank_bin, self.bank_account, amount, currency, reference)
        return PaymentInstructions(self.name, reference, now + self.expiry, qr)

    def verify(self, raw_body: bytes, signature_header: str | None, now: datetime) -> None:
        verify_signature(self.secret, raw_body, signature_header, now)
