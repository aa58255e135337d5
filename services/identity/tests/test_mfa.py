"""One-time codes: the step a code belongs to, drift, format, recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from portal_identity.mfa import STEP_SECONDS, matching_step, new_recovery_codes, recovery_hash

SECRET = pyotp.random_base32()
NOW = datetime(2026, 11, 22, 10, 0, 10, tzinfo=UTC)


def code_at(moment: datetime) -> str:
    return pyotp.TOTP(SECRET, interval=STEP_SECONDS).at(moment)


def test_a_code_matches_its_own_step_and_one_step_of_drift_either_way() -> None:
    step = int(NOW.timestamp()) // STEP_SECONDS
    assert matching_step(SECRET, code_at(NOW), NOW) == step
    assert matching_step(SECRET, code_at(NOW - timedelta(seconds=30)), NOW) == step - 1
    assert matching_step(SECRET, code_at(NOW + timedelta(seconds=30)), NOW) == step + 1
    assert matching_step(SECRET, code_at(NOW - timedelta(seconds=90)), NOW) is None


def test_anything_but_six_digits_is_not_a_code() -> None:
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in "123456")  # \d would take these
    for wrong in ("", "12345", "1234567", "12345a", " 123456", fullwidth):
        assert matching_step(SECRET, wrong, NOW) is None


def test_recovery_codes_are_distinct_readable_and_hashed_loosely() -> None:
    codes = new_recovery_codes()
    assert len(set(codes)) == 10
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    assert not set("".join(codes)) & set("01ilo")  # nothing to misread on paper
    code = codes[0]
    assert recovery_hash(code) == recovery_hash(code.upper().replace("-", " "))
    assert recovery_hash(code) != recovery_hash(codes[1])
