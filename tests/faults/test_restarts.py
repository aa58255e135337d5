"""kill -9 under load: the wallet, the projector, billing and the gateway die in turn
(no shutdown hook, leases and consumer-group memberships left behind) while a customer
keeps topping up and the provider sends every webhook twice; each is started again.

After each: money reconciles (`portal money reconcile`'s checks), the dashboard shows the
wallet's balance, the balance is exactly the sum of the payments the provider was told
were taken (none lost, none counted twice), and while the process was away the client saw
503 problem+json answers, never a 500. The catch-up times are printed and written to
.cache/faults-logs/catch-up.json. It runs after test_outages.py (file order).

Bounded by default (`make test`: the wallet and billing, 5 s away each); `make faults` sets
PORTAL_FAULTS_FULL=1: all four victims, longer outages, more load.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from portal_tests import topups
from portal_tests.e2e import PASSWORD, Customer, login
from portal_tests.topups import Ledger, TopUpStream, check_outage_answers

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

FULL = os.environ.get("PORTAL_FAULTS_FULL") == "1"
AWAY_SECONDS = 20.0 if FULL else 5.0
WORKERS = 3 if FULL else 2
VICTIMS = ("wallet", "projector", "billing", "gateway") if FULL else ("wallet", "billing")
"""`make test` kills the two that hold money; `make faults` all four."""


@pytest.fixture(scope="module")
def books(platform: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One customer and what it paid, through every victim's test; the catch-up times
    are written when the last is done."""
    with topups.books(platform, "catch-up.json", "kill -9", FULL) as state:
        yield state


# One test per victim (each its own time budget on a slow machine), in this order, on the
# same customer: each starts from the books the previous one left reconciled.
@pytest.mark.parametrize("victim", VICTIMS)
def test_kill_9_under_top_ups_then_money_reconciles(platform, books, victim):
    running = platform["running"]
    customer: Customer = books["customer"]
    ledger: Ledger = books["ledger"]
    # A fresh access token each time: the victims' tests together may outlive one.
    token = login(customer.base_url, customer.email, PASSWORD)["access_token"]
    customer.http.headers["Authorization"] = f"Bearer {token}"
    with TopUpStream(customer, ledger, WORKERS) as stream:
        time.sleep(2)
        killed = time.monotonic()
        running.kill(victim)
        time.sleep(AWAY_SECONDS)
        restarted = time.monotonic()
        running.restart(victim)
        ready = time.monotonic()
        time.sleep(2)
    during = [a for a in stream.answers if killed < a.at < ready]
    check_outage_answers(victim, stream.answers, gateway_away=victim == "gateway")
    if victim in ("wallet", "billing"):
        assert any(a.status == 503 for a in during), f"no request saw the {victim} away"
    expected = topups.settle(platform, stream, f"the {victim} restarted")
    converged = time.monotonic()
    books["catch_up"][victim] = {
        "away_s": round(restarted - killed, 1),
        "ready_after_restart_s": round(ready - restarted, 1),
        "reconciled_after_restart_s": round(converged - restarted, 1),
        "requests": len(stream.answers),
        "answers_503": sum(1 for a in stream.answers if a.status == 503),
        "no_answer": sum(1 for a in stream.answers if a.status == 0),
        "paid_total": expected,
    }
