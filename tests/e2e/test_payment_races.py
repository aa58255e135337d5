"""One invoice paid many times at once, and billing killed between the wallet debit and
the payment record: the money is conserved, nothing answers 5xx, and the lists agree with
the invoices. Real Kafka, FerretDB and every service."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from portal_cli.main import app as portal_cli
from portal_tests.e2e import Customer, eventually, paid, webhook

pytestmark = pytest.mark.e2e

SUPPORT_1 = 100_000  # Hosting Support, one month


def fund(customer: Customer, base_url: str, amount: int) -> None:
    reference = customer.top_up(amount).json()["payment"]["reference"]
    assert webhook(base_url, paid(reference, amount)).status_code == 200
    eventually(lambda: balance(customer) == amount, what="the top-up")


def balance(customer: Customer) -> int:
    return int(customer.http.get("/api/v1/wallet").json()["balance"])


def an_invoice(platform: dict[str, Any]) -> tuple[Customer, str]:
    customer = Customer(platform["url"])
    fund(customer, platform["url"], 2_000_000)
    r = customer.http.post("/api/v1/orders", json={"plan_id": "host-sup", "months": 1})
    assert r.status_code == 201, r.text
    assert r.json()["total"] == SUPPORT_1
    return customer, r.json()["id"]


def invoice_debits(customer: Customer) -> list[dict[str, Any]]:
    items = customer.http.get("/api/v1/wallet/transactions", params={"limit": 100}).json()["items"]
    return [t for t in items if t.get("reason") == "invoice_payment"]


def assert_paid_once(customer: Customer, invoice_id: str) -> None:
    invoice = customer.http.get(f"/api/v1/invoices/{invoice_id}").json()
    assert invoice["status"] == "paid" and invoice["paid"] == SUPPORT_1, invoice
    assert invoice["payments_in_progress"] == []
    assert [p["applied"] for p in invoice["payments"]] == [SUPPORT_1]
    assert balance(customer) == 2_000_000 - SUPPORT_1

    def listed_paid() -> bool:
        rows = customer.http.get("/api/v1/invoices").json()["items"]
        return [r["status"] for r in rows if r["id"] == invoice_id] == ["paid"]

    eventually(listed_paid, what="the invoice list to show the payment")
    eventually(lambda: len(invoice_debits(customer)) == 1, what="the wallet history")
    assert [t["amount"] for t in invoice_debits(customer)] == [SUPPORT_1]
    # The operator's check agrees: every debit matches a payment, ledgers and dashboards.
    reconciled = CliRunner().invoke(
        portal_cli, ["money", "reconcile", "--account", customer.account_id, "--wait", "60"]
    )
    assert reconciled.exit_code == 0, reconciled.output


@pytest.mark.parametrize("with_key", [False, True], ids=["without-key", "with-keys"])
def test_twenty_concurrent_payments_of_one_invoice_take_it_once(platform, cli_env, with_key):
    customer, invoice_id = an_invoice(platform)

    def pay(n: int) -> httpx.Response:
        headers = {"Idempotency-Key": f"pay-{n}-{uuid.uuid4().hex}"} if with_key else {}
        return customer.http.post(
            f"/api/v1/invoices/{invoice_id}/pay", json={"method": "wallet"}, headers=headers
        )

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(pay, range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) >= 1 and max(statuses) < 500, [a.text for a in answers]
    for refused in (a for a in answers if a.status_code != 200):
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] in {"payment_in_progress", "invoice_not_payable"}
    assert_paid_once(customer, invoice_id)
    time.sleep(2)  # and it stays so (nothing credits back or debits late)
    assert balance(customer) == 2_000_000 - SUPPORT_1


def test_billing_killed_between_debit_and_record_then_paid_again_with_a_new_key(platform, cli_env):
    processes = platform["processes"]
    customer, invoice_id = an_invoice(platform)
    processes.restart("billing", {"PORTAL_FAILPOINTS": "billing.payment.after_debit"})
    try:
        first = customer.http.post(
            f"/api/v1/invoices/{invoice_id}/pay",
            json={"method": "wallet"},
            headers={"Idempotency-Key": f"first-{uuid.uuid4().hex}"},
        )
        assert processes.wait_exit("billing") == 137  # died right after the wallet debit
        assert first.status_code in (502, 503), first.text  # the gateway lost its upstream
    finally:
        processes.restart("billing")
    assert balance(customer) == 2_000_000 - SUPPORT_1  # debited, not yet recorded
    # The customer clicks "pay" again: a new request with a new key. It must not take
    # the money a second time: the payment left behind is finished (at once, or by the
    # sweep) and this one is refused or finds the invoice paid.
    again = customer.http.post(
        f"/api/v1/invoices/{invoice_id}/pay",
        json={"method": "wallet"},
        headers={"Idempotency-Key": f"again-{uuid.uuid4().hex}"},
    )
    assert again.status_code in (200, 409), again.text
    if again.status_code == 409:
        assert again.json()["code"] in {"payment_in_progress", "invoice_not_payable"}

    def settled() -> bool:
        body = customer.http.get(f"/api/v1/invoices/{invoice_id}").json()
        return body["status"] == "paid" and not body["payments_in_progress"]

    eventually(settled, timeout=60, what="the payment left behind to be finished")
    assert_paid_once(customer, invoice_id)
