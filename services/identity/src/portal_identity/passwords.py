"""Password policy and argon2id hashing (OWASP: m=19 MiB, t=2, p=1)."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from importlib import resources
from itertools import pairwise

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal_chassis.decider import DomainError

MIN_LENGTH = 8
MAX_LENGTH = 256
MIN_DISTINCT = 5
"""`aaaaaaaa`, `11111111a`, `abababab`: long enough, guessed at once."""
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-for-timing")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("portal_identity").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def check_policy(password: str, email: str) -> None:
    if len(password) < MIN_LENGTH:
        raise DomainError("password_too_short", f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise DomainError("password_too_long", f"use at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered == email.lower() or lowered == email.split("@")[0].lower():
        raise DomainError("password_is_email", "the password may not be your email")
    # `password123`, `!qwerty2024`: a common password with digits or symbols around it
    core = lowered.strip("0123456789!@#$%^&*()_+-=.,?~ ")
    if lowered in common_passwords() or core in common_passwords():
        raise DomainError("password_too_common", "this password is too common")
    if len(set(lowered)) < MIN_DISTINCT or _is_sequence(lowered):
        raise DomainError(
            "password_too_weak", "use more different characters, or a few unrelated words"
        )


def _is_sequence(text: str) -> bool:
    """Every step between neighbours the same (`abcdefgh`, `98765432`, `13579bdf`)."""
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    return len(steps) == 1


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(stored_hash or _DUMMY_HASH, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)
