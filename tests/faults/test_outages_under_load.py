"""The broker and the database go away under a stream of top-ups (webhooks sent twice)
and come back; nothing is restarted.

After each: money reconciles (`portal money reconcile`'s checks), the balance is exactly
what the provider was told was paid, the client saw 503 problem+json (never a 500) while
it was away, every process is the one that was running before and is ready again, every
outbox has drained and the dashboards show the wallet's balance within 60 s of the
infrastructure's return. The catch-up times are printed and written to
.cache/faults-logs/outage-catch-up.json.

Bounded by default (`make test`: Kafka away 10 s, FerretDB 10 s); `make faults` sets
PORTAL_FAULTS_FULL=1: Kafka away 30 s, more load.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from portal_tests import topups
from portal_tests.e2e import PASSWORD, Customer, eventually, login
from portal_tests.topups import Ledger, TopUpStream, check_outage_answers

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

FULL = os.environ.get("PORTAL_FAULTS_FULL") == "1"
AWAY_SECONDS = {"kafka": 30.0 if FULL else 10.0, "ferretdb": 10.0}
WORKERS = 3 if FULL else 2
CATCH_UP_TARGET = 60.0
"""Seconds after the infrastructure is back by which outboxes and dashboards caught up."""


def _ready(url: str) -> dict[str, Any] | None:
    try:
        r = httpx.get(f"{url}/health/ready", timeout=10)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


def _kafka_down_and_ready(platform: dict[str, Any]) -> bool:
    states = [_ready(url) for url in platform["services"].values()]
    return all(body is not None and body["checks"].get("kafka") != "ok" for body in states)


def _drained(url: str) -> bool:
    """The service is ready, sees Kafka and has nothing left to relay."""
    body = _ready(url)
    if body is None:
        return False
    checks = body.get("checks", {})
    return checks.get("kafka") == "ok" and checks.get("outbox_pending", 0) == 0


def _wait_drained(platform: dict[str, Any], since: float, timeout: float = 300) -> dict[str, float]:
    """Seconds from `since` until each service had drained its outbox.

    Every service is watched at once: one after the other, a loaded machine's readiness
    answers (a second or more each) added up to tens of seconds of polling that the
    figures then counted as catch-up."""

    def watch(url: str) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _drained(url):
                return round(time.monotonic() - since, 1)
            time.sleep(0.5)
        return None

    with ThreadPoolExecutor(len(platform["services"])) as pool:
        found = dict(
            zip(platform["services"], pool.map(watch, platform["services"].values()), strict=True)
        )
    missing = sorted(name for name, seconds in found.items() if seconds is None)
    assert not missing, f"outboxes not drained after {timeout:.0f} s: {missing}"
    return {name: seconds for name, seconds in found.items() if seconds is not None}


@pytest.fixture(scope="module")
def books(platform: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with topups.books(platform, "outage-catch-up.json", "an outage", FULL) as state:
        yield state


@pytest.mark.parametrize("component", ["kafka", "ferretdb"])
def test_outage_under_top_ups_then_everything_catches_up(platform, infra_control, books, component):
    customer: Customer = books["customer"]
    ledger: Ledger = books["ledger"]
    token = login(customer.base_url, customer.email, PASSWORD)["access_token"]
    customer.http.headers["Authorization"] = f"Bearer {token}"
    pids = {name: proc.pid for name, proc in platform["processes"].items()}
    with TopUpStream(customer, ledger, WORKERS) as stream:
        time.sleep(2)
        stopped = time.monotonic()
        infra_control.stop(component)
        try:
            if component == "kafka":
                # A dependency, not a condition: every service reports it and stays ready.
                eventually(
                    lambda: _kafka_down_and_ready(platform), timeout=30, what="kafka seen down"
                )
            time.sleep(max(0.0, AWAY_SECONDS[component] - (time.monotonic() - stopped)))
        finally:
            infra_control.start(component)
        back = time.monotonic()
        time.sleep(2)
    stream_stopped = time.monotonic()

    check_outage_answers(component, stream.answers)
    # Answers are stamped on arrival: a request the outage held up may be answered (503,
    # after the driver's deadlines) up to ~15 s after the database is back.
    during = [a for a in stream.answers if stopped + 1 < a.at < back + 15]
    if component == "ferretdb":
        assert any(a.status == 503 for a in during), "no request saw the database away"
    else:
        # The broker's absence is invisible to writes: they wait in the outboxes.
        assert any(a.what == "top-up" and a.status == 201 for a in during), during[-5:]

    per_service = _wait_drained(platform, back)
    drained = time.monotonic()
    expected = topups.settle(platform, stream, f"{component} came back", timeout=300)
    caught_up = time.monotonic()
    # Recovered by themselves: the same processes, each still running.
    for name, proc in platform["processes"].items():
        assert proc.poll() is None and proc.pid == pids[name], f"{name} was restarted"
    figures = {
        "away_s": round(back - stopped, 1),
        "load_stopped_after_s": round(stream_stopped - back, 1),
        "outboxes_drained_after_s": round(drained - back, 1),
        "dashboards_caught_up_after_s": round(caught_up - back, 1),
        "requests": len(stream.answers),
        "answers_503": sum(1 for a in stream.answers if a.status == 503),
        "paid_total": expected,
        "drained_after_s_by_service": per_service,
    }
    books["catch_up"][component] = figures
    print(f"\n{component} outage: {figures}")
    assert caught_up - back <= CATCH_UP_TARGET, figures
