"""Infrastructure outages under light load: quick 503s while it lasts, no restart after."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from portal_tests.e2e import Customer, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

READS = ("/api/v1/wallet", "/api/v1/dashboard", "/api/v1/tickets", "/api/v1/repairs", "/api/v1/me")
OUTAGE_CODES = {"database_unavailable", "upstream_unavailable", "auth_unavailable"}
"""`auth_unavailable`: a service that has no signing key cached yet asks identity for its
JWKS, and identity cannot read its keys while the database is away."""


@dataclass
class Answer:
    path: str
    started: float
    seconds: float
    status: int
    content_type: str
    code: str | None
    retry_after: str | None


class Load:
    """A few clients going round the customer's pages and topping up, all the time."""

    def __init__(self, customer: Customer, workers: int = 3) -> None:
        self.customer = customer
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

    def _run(self) -> None:
        with httpx.Client(
            base_url=self.customer.base_url,
            timeout=60,
            headers={"Authorization": f"Bearer {self.customer.token}"},
        ) as http:
            i = 0
            while not self._stop.is_set():
                i += 1
                path = READS[i % len(READS)]
                started = time.monotonic()
                try:
                    if i % 3 == 0:
                        path = "/api/v1/wallet/top-ups"
                        r = http.post(
                            path,
                            json={"amount": 10_000},
                            headers={"Idempotency-Key": uuid.uuid4().hex},
                        )
                    else:
                        r = http.get(path)
                except httpx.HTTPError:
                    status, ctype, code, retry = 0, "", None, None
                else:
                    status, ctype = r.status_code, r.headers.get("content-type", "")
                    code = r.json().get("code") if "json" in ctype and r.content else None
                    retry = r.headers.get("retry-after")
                self.answers.append(
                    Answer(path, started, time.monotonic() - started, status, ctype, code, retry)
                )
                time.sleep(0.1)

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=90)


def health(url: str, which: str) -> tuple[int, dict[str, Any]]:
    try:
        r = httpx.get(f"{url}/health/{which}", timeout=10)
    except httpx.HTTPError as exc:
        return 0, {"error": type(exc).__name__}
    return r.status_code, r.json()


def all_healthy(platform: dict[str, Any]) -> bool:
    return all(
        health(url, "ready")[0] == 200 and health(url, "live")[0] == 200
        for url in platform["services"].values()
    )


def customer_served(customer: Customer) -> bool:
    ok = all(customer.http.get(path).status_code == 200 for path in READS)
    top_up = customer.http.post(
        "/api/v1/wallet/top-ups",
        json={"amount": 10_000},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    return ok and top_up.status_code == 201


def test_database_outage_answers_503_quickly_and_every_service_recovers_without_restart(
    platform, infra_control
):
    customer = Customer(platform["url"])
    with Load(customer) as load:
        time.sleep(2)
        stopped = time.monotonic()
        infra_control.stop("ferretdb")
        try:
            # While it is away: services are alive but not ready, and say why.
            def every_service_not_ready() -> bool:
                states = {name: health(url, "ready") for name, url in platform["services"].items()}
                return all(
                    status == 503 and body["checks"].get("mongodb") != "ok"
                    for status, body in states.values()
                )

            eventually(every_service_not_ready, timeout=20, what="readiness to see the outage")
            for name, url in platform["services"].items():
                assert health(url, "live")[0] == 200, name  # down is not wedged
            time.sleep(max(0.0, 30 - (time.monotonic() - stopped)))
        finally:
            infra_control.start("ferretdb")
        restarted = time.monotonic()
        eventually(lambda: all_healthy(platform), timeout=60, what="every service back")
        eventually(lambda: customer_served(customer), timeout=30, what="requests served again")
        time.sleep(1)

    during = [a for a in load.answers if stopped + 1 < a.started < restarted - 1]
    assert during, "the load made no request during the outage"
    failures = [a for a in during if a.status != 200 and a.status != 201]
    assert failures, "the outage was not seen by any request"
    for a in failures:
        assert a.status == 503, a
        assert a.content_type.startswith("application/problem+json"), a
        assert a.code in OUTAGE_CODES, a
        assert a.retry_after is not None, a
    # Quickly: most within a few of the driver's deadlines, every one bounded (never "for
    # ever"); the bounds leave room for a slow, shared CI machine.
    seconds = sorted(a.seconds for a in failures)
    assert seconds[len(seconds) // 2] < 10, seconds
    assert seconds[-1] < 60, max(failures, key=lambda a: a.seconds)
    after = [a for a in load.answers if a.started > time.monotonic() - 3]
    assert all(a.status in (200, 201) for a in after), after


def test_a_hung_service_is_reported_but_does_not_make_the_gateway_unready(platform):
    # No wait for the wallet to open from AccountRegistered: after the previous test's
    # database outage its consumers may still be backing off.
    customer = Customer(platform["url"], wait_for_wallet=False)
    wallet = platform["processes"]["wallet"]
    wallet.send_signal(signal.SIGSTOP)  # it accepts connections and never answers
    try:

        def wallet_reported_down() -> bool:
            status, body = health(platform["url"], "ready")
            assert status == 200, body  # the gateway still serves everything else
            return bool(body["checks"].get("wallet_service") == "down")

        eventually(wallet_reported_down, timeout=30, what="the gateway to report the wallet")
        for name in ("identity", "tickets", "billing"):
            assert health(platform["services"][name], "ready")[0] == 200, name
        assert customer.http.get("/api/v1/tickets").status_code == 200
        r = customer.http.get("/api/v1/wallet", timeout=60)  # after the gateway's own timeout
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "upstream_unavailable"
        assert "retry-after" in r.headers
    finally:
        wallet.send_signal(signal.SIGCONT)
    eventually(
        lambda: health(platform["url"], "ready")[1]["checks"].get("wallet_service") == "ok",
        timeout=30,
        what="the wallet reported back",
    )
