"""Failpoints: named places where a test makes the process die, to prove crash safety.

`PORTAL_FAILPOINTS="billing.payment.after_debit"` (names separated by commas) makes
`failpoint(name)` end the process on the spot with `os._exit`, as `kill -9` would: no
cleanup, no flush, no answer. Unset (production), a failpoint is one set lookup.
"""

from __future__ import annotations

import os
from functools import cache

from portal_chassis.logging import get_logger

log = get_logger(__name__)
KILLED = 137  # the exit status of a process killed by SIGKILL


@cache
def _armed() -> frozenset[str]:
    raw = os.environ.get("PORTAL_FAILPOINTS", "")
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def failpoint(name: str) -> None:
    if name in _armed():
        log.warning("failpoint reached: the process dies here", failpoint=name)
        os._exit(KILLED)
