"""Unsubscribe tokens: who may switch which category's mail off, signed by this service.

A token names a user and a category and carries an HMAC-SHA256 of both under
`NOTIFICATIONS_UNSUBSCRIBE_SECRET`; nobody can make one for another person or for a
category that cannot be switched off (none is ever issued for those). It does not expire:
a link in a mail read months later still works, and all it can do is switch one kind of
mail off, which the user can switch on again in their preferences.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Unsubscribe:
    user_id: str
    category: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def sign(secret: str, what: Unsubscribe) -> str:
    payload = _b64(json.dumps([what.user_id, what.category], separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: str, token: str) -> Unsubscribe | None:
    """The token's user and category, or None for anything not signed by us."""
    payload, dot, mac = token.partition(".")
    if not dot or not hmac.compare_digest(_mac(secret, payload).encode(), mac.encode()):
        return None
    try:
        user_id, category = json.loads(_unb64(payload))
    except (ValueError, TypeError, binascii.Error):
        return None
    if not isinstance(user_id, str) or not isinstance(category, str):
        return None
    return Unsubscribe(user_id, category)
