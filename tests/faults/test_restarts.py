"""kill -9 under load: the wallet, the projector, billing and the gateway die in turn
(no shutdown hook, leases and consumer-group memberships left behind) while a customer
keeps topping up and the provider sends every webhook twice; each is started again.

After each: money reconciles (`portal money reconcile`'s checks), the dashboard shows the
wallet's balance, the balance is exactly the sum of the payments the provider was told
were taken (none lost, none counted twice), and while the process was away the client saw
503 problem+json answers, never a 500. The catch-up times are printed and written to
.cache/faults-logs/catch-up.json. It runs after test_outages.py (file order), whose first
test absorbs the platform's slow start.

Bounded by default (`make test`); `make faults` sets PORTAL_FAULTS_FULL=1: longer
outages, more load.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from portal_cli import money
from portal_tests.e2e import PASSWORD, Customer, eventually, login, paid, webhook
from portal_tests.infra import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

FULL = os.environ.get("PORTAL_FAULTS_FULL") == "1"
AWAY_SECONDS = 20.0 if FULL else 5.0
WORKERS = 3 if FULL else 2
VICTIMS = ("wallet", "projector", "billing", "gateway")
READS = ("/api/v1/wallet", "/api/v1/dashboard", "/api/v1/invoices")
OUTAGE_CODES = {"upstream_unavailable", "database_unavailable", "auth_unavailable"}


@dataclass
class Answer:
    what: str
    at: float
    status: int
    content_type: str = ""
    code: str | None = None
    retry_after: str | None = None


@dataclass
class Ledger:
    """What the provider was told: a reference is paid once a webhook answered 200."""

    paid: dict[str, int] = field(default_factory=dict)
    undelivered: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def total(self) -> int:
        with self.lock:
            return sum(self.paid.values())


def _answer(what: str, r: httpx.Response | None) -> Answer:
    if r is None:
        return Answer(what, time.monotonic(), 0)  # no answer at all (connection refused)
    ctype = r.headers.get("content-type", "")
    code = None
    if "json" in ctype and r.content:
        body = r.json()
        code = body.get("code") if isinstance(body, dict) else None
    return Answer(what, time.monotonic(), r.status_code, ctype, code, r.headers.get("retry-after"))


class TopUpStream:
    """Customers' clients top up and pay all the time; each webhook is sent twice (a
    provider that did not see the first answer), and again until one answers 200."""

    def __init__(self, customer: Customer, ledger: Ledger) -> None:
        self.customer = customer
        self.ledger = ledger
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(WORKERS)]

    def _call(self, what: str, send: Any, *args: Any, **kwargs: Any) -> httpx.Response | None:
        try:
            r = send(*args, **kwargs)
        except httpx.HTTPError:
            r = None
        self.answers.append(_answer(what, r))
        return r

    def _deliver(self, reference: str, event: dict[str, Any]) -> bool:
        statuses = []
        for _ in range(2):
            r = self._call("webhook", webhook, self.customer.base_url, event)
            statuses.append(r.status_code if r is not None else 0)
        if 200 in statuses:
            with self.ledger.lock:
                self.ledger.paid[reference] = event["amount"]
                self.ledger.undelivered.pop(reference, None)
            return True
        with self.ledger.lock:
            self.ledger.undelivered[reference] = event
        return False

    def _retry_undelivered(self) -> None:
        with self.ledger.lock:
            waiting = list(self.ledger.undelivered.items())
        for reference, event in waiting:
            self._deliver(reference, event)

    def _run(self) -> None:
        http = self.customer.http
        i = 0
        while not self._stop.is_set():
            i += 1
            self._retry_undelivered()
            amount = random.choice((10_000, 25_000, 50_000))
            r = self._call(
                "top-up",
                http.post,
                "/api/v1/wallet/top-ups",
                json={"amount": amount},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            if r is not None and r.status_code == 201:
                reference = r.json()["payment"]["reference"]
                self._deliver(reference, paid(reference, amount))
            path = READS[i % len(READS)]
            self._call(path, http.get, path)
            time.sleep(0.05)

    def __enter__(self) -> TopUpStream:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=120)

    def drain(self, timeout: float = 120) -> None:
        """Deliver every webhook still owed (the provider retries until it is heard)."""
        deadline = time.monotonic() + timeout
        while self.ledger.undelivered and time.monotonic() < deadline:
            self._retry_undelivered()
            time.sleep(0.5)
        assert not self.ledger.undelivered, self.ledger.undelivered


def _differences(platform: dict[str, Any], account_id: str) -> list[money.Difference]:
    async def go() -> list[money.Difference]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform["mongodb_uri"])
        try:
            prefix = platform["db_prefix"]
            books = await money.reconcile(
                client[f"{prefix}_wallet"],
                client[f"{prefix}_billing"],
                client[f"{prefix}_gateway"],
                frozenset({account_id}),
            )
            return books.differences
        finally:
            await client.close()

    return asyncio.run(go())


def _settled(platform: dict[str, Any], customer: Customer, expected: int) -> bool:
    """The wallet holds exactly what was paid, and every read model agrees with it."""
    try:
        wallet = customer.http.get("/api/v1/wallet")
        board = customer.http.get("/api/v1/dashboard")
    except httpx.HTTPError:
        return False
    if wallet.status_code != 200 or board.status_code != 200:
        return False
    if wallet.json()["balance"] != expected or board.json()["wallet"]["balance"] != expected:
        return False
    return not _differences(platform, customer.account_id)


def _check_outage_answers(victim: str, answers: list[Answer]) -> None:
    for a in answers:
        assert a.status != 500 and (a.status < 500 or a.status == 503), (victim, a)
        if a.status == 503:
            assert a.content_type.startswith("application/problem+json"), (victim, a)
            assert a.code in OUTAGE_CODES, (victim, a)
            assert a.retry_after is not None, (victim, a)
        if a.status == 0:
            # Nobody answers on a dead gateway's port (a load balancer would, with its own
            # 503); every other process's absence is answered by the gateway.
            assert victim == "gateway", (victim, a)
        assert a.status in (0, 200, 201, 503), (victim, a)


@pytest.fixture(scope="module")
def books(platform: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One customer and what it paid, through every victim's test; the catch-up times
    are written when the last is done."""
    state: dict[str, Any] = {
        "customer": Customer(platform["url"]),
        "ledger": Ledger(),
        "catch_up": {},
    }
    yield state
    report = REPO_ROOT / ".cache" / "faults-logs" / "catch-up.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"full": FULL, "catch_up": state["catch_up"]}, indent=2))
    print(f"\ncatch-up after kill -9 ({'full' if FULL else 'bounded'}):")
    for victim, figures in state["catch_up"].items():
        print(f"  {victim}: {figures}")


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
    with TopUpStream(customer, ledger) as stream:
        time.sleep(2)
        killed = time.monotonic()
        running.kill(victim)
        time.sleep(AWAY_SECONDS)
        restarted = time.monotonic()
        running.restart(victim)
        ready = time.monotonic()
        time.sleep(2)
    during = [a for a in stream.answers if killed < a.at < ready]
    _check_outage_answers(victim, stream.answers)
    if victim in ("wallet", "billing"):
        assert any(a.status == 503 for a in during), f"no request saw the {victim} away"
    stream.drain()
    expected = ledger.total()
    assert expected > 0, "no top-up was paid"
    eventually(
        lambda: _settled(platform, customer, expected),
        timeout=180,
        what=f"money to reconcile after the {victim} restarted",
    )
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
