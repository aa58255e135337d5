"""A customer's stream of top-ups under faults: what the provider was told it paid, what the
client was answered, and whether the books settled (shared by the fault suite's tests)."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from portal_cli import money
from portal_tests.e2e import Customer, eventually, paid, webhook
from portal_tests.infra import REPO_ROOT

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

    def __init__(self, customer: Customer, ledger: Ledger, workers: int = 2) -> None:
        self.customer = customer
        self.ledger = ledger
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

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


def differences(platform: dict[str, Any], account_id: str) -> list[money.Difference]:
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


def settled(platform: dict[str, Any], customer: Customer, expected: int) -> bool:
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
    return not differences(platform, customer.account_id)


def check_outage_answers(what: str, answers: list[Answer], *, gateway_away: bool = False) -> None:
    """While something was away the client saw answers or 503 problem+json, never a 500.

    No answer at all (status 0) only when the gateway itself was away: nobody answers on
    a dead gateway's port (a load balancer would, with its own 503); every other absence
    is answered by the gateway."""
    for a in answers:
        assert a.status != 500 and (a.status < 500 or a.status == 503), (what, a)
        if a.status == 503:
            assert a.content_type.startswith("application/problem+json"), (what, a)
            assert a.code in OUTAGE_CODES, (what, a)
            assert a.retry_after is not None, (what, a)
        if a.status == 0:
            assert gateway_away, (what, a)
        assert a.status in (0, 200, 201, 503), (what, a)


def settle(platform: dict[str, Any], stream: TopUpStream, what: str, timeout: float = 180) -> int:
    """Deliver every webhook still owed, then wait until the books settle on what the
    provider was told was paid; returns that total."""
    stream.drain()
    expected = stream.ledger.total()
    assert expected > 0, "no top-up was paid"
    eventually(
        lambda: settled(platform, stream.customer, expected),
        timeout=timeout,
        what=f"money to reconcile after {what}",
    )
    return expected


@contextmanager
def books(
    platform: dict[str, Any], report: str, title: str, full: bool
) -> Iterator[dict[str, Any]]:
    """One customer and what it paid, through a module's tests; the catch-up times they
    record are printed and written to .cache/faults-logs/`report` at the end."""
    state: dict[str, Any] = {
        "customer": Customer(platform["url"]),
        "ledger": Ledger(),
        "catch_up": {},
    }
    yield state
    path = REPO_ROOT / ".cache" / "faults-logs" / report
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"full": full, "catch_up": state["catch_up"]}, indent=2))
    print(f"\ncatch-up after {title} ({'full' if full else 'bounded'}):")
    for what, figures in state["catch_up"].items():
        print(f"  {what}: {figures}")
