"""Unsubscribe tokens: only what this service signed is accepted, and it says whose mail of
which category; any change to it, or another secret, is refused."""

from __future__ import annotations

import pytest

from portal_notifications.unsubscribe import Unsubscribe, sign, verify

SECRET = "s3cret"


def test_a_signed_token_says_whose_and_which_category() -> None:
    token = sign(SECRET, Unsubscribe("u-1", "support"))
    assert verify(SECRET, token) == Unsubscribe("u-1", "support")
    assert token.isascii() and "=" not in token and "/" not in token and "+" not in token


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "abc",
        "abc.def",
        "e30.x",
        sign("another secret", Unsubscribe("u-1", "support")),
        sign(SECRET, Unsubscribe("u-1", "support")) + "x",
        "Ünïcode.ßig",
    ],
)
def test_anything_else_is_refused(token: str) -> None:
    assert verify(SECRET, token) is None


def test_a_token_for_one_person_or_category_cannot_become_another() -> None:
    token = sign(SECRET, Unsubscribe("u-1", "support"))
    other = sign(SECRET, Unsubscribe("u-2", "billing"))
    payload, _, mac = token.partition(".")
    other_payload, _, other_mac = other.partition(".")
    assert verify(SECRET, f"{other_payload}.{mac}") is None
    assert verify(SECRET, f"{payload}.{other_mac}") is None
