"""End to end over HTTP through the gateway, on real Kafka and the real wire server."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from portal_tests.e2e import Customer, admin_client, dashboard_events, eventually, paid, webhook

pytestmark = pytest.mark.e2e


def assert_problem(r: httpx.Response, status: int | tuple[int, ...], code: str | None = None):
    statuses = status if isinstance(status, tuple) else (status,)
    assert r.status_code in statuses, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == r.status_code and body["code"]
    if code:
        assert body["code"] == code, body
    return body


def stored(platform, customer) -> dict[str, int]:
    """What the wallet stored: this customer's commits (other accounts' wallets open in the
    background) and every payment reference and provider event."""
    db = platform["wallet_db"]
    counts = {
        name: db[name].count_documents({}) for name in ("payment_references", "provider_events")
    }
    counts["commits"] = db["commits"].count_documents(
        {"_id": {"$regex": f"^wallet-{customer.account_id}@"}}
    )
    return counts


def test_top_up_then_signed_webhook_then_dashboard_shows_the_balance(platform, customer):
    before = datetime.now(UTC)
    r = customer.top_up(250_000, method="sandbox")
    assert r.status_code == 201, r.text
    top_up = r.json()
    assert top_up["status"] == "pending" and top_up["amount"] == 250_000
    assert top_up["currency"] == "VND" and top_up["id"]
    payment = top_up["payment"]
    assert payment["provider"] == "sandbox" and payment["reference"] and payment["expires_at"]

    assert webhook(platform["url"], paid(payment["reference"], 250_000)).status_code == 200

    board = customer.wait_for_balance(250_000)
    assert board["wallet"]["total_topped_up"] == 250_000
    assert board["recent_transactions"][0]["amount"] == 250_000
    assert board["recent_transactions"][0]["kind"] == "credit"

    wallet = customer.http.get("/api/v1/wallet").json()
    assert wallet["balance"] == 250_000 and wallet["total_topped_up"] == 250_000
    status = customer.http.get(f"/api/v1/wallet/top-ups/{top_up['id']}").json()
    assert status["status"] == "completed" and status["amount_received"] == 250_000

    deadline = time.monotonic() + 20
    while True:
        txs = customer.http.get("/api/v1/wallet/transactions").json()
        if txs["total"] == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert txs["items"][0]["balance_after"] == 250_000 and txs["items"][0]["reason"] == "top_up"

    then = customer.http.get("/api/v1/wallet/balance", params={"at": before.isoformat()})
    assert then.status_code == 200 and then.json()["balance"] == 0
    now = customer.http.get(
        "/api/v1/wallet/balance", params={"at": datetime.now(UTC).isoformat()}
    ).json()
    assert now["balance"] == 250_000


def test_bank_transfer_gets_a_vietqr_payload_with_a_unique_memo(customer):
    a = customer.top_up(50_000, method="bank_transfer").json()
    b = customer.top_up(50_000, method="bank_transfer").json()
    for t in (a, b):
        qr = t["payment"]["qr_payload"]
        assert qr.startswith("000201010212") and "5802VN" in qr and "A000000727" in qr
        assert t["payment"]["reference"] in qr
    assert a["payment"]["reference"] != b["payment"]["reference"]


@pytest.mark.parametrize("arrived", [60_000, 110_000], ids=["under", "over-within-tolerance"])
def test_under_and_over_payment_within_tolerance_credit_what_arrived(platform, customer, arrived):
    ref = customer.top_up(100_000).json()["payment"]["reference"]
    assert webhook(platform["url"], paid(ref, arrived)).status_code == 200
    customer.wait_for_balance(arrived)


def test_a_duplicate_provider_event_changes_nothing(platform, customer):
    ref = customer.top_up(100_000).json()["payment"]["reference"]
    event = paid(ref, 100_000, event_id=f"evt_dup_{uuid.uuid4().hex}")
    responses = [webhook(platform["url"], event) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[1].json()["status"] == "duplicate"
    customer.wait_for_balance(100_000)
    time.sleep(1.0)  # any second credit would have reached the dashboard by now
    assert customer.dashboard()["wallet"]["balance"] == 100_000
    assert customer.http.get("/api/v1/wallet").json()["balance"] == 100_000


def test_failed_payment_fails_the_top_up(platform, customer):
    top_up = customer.top_up(100_000).json()
    ref = top_up["payment"]["reference"]
    assert webhook(platform["url"], paid(ref, 100_000, kind="payment.failed")).status_code == 200
    status = customer.http.get(f"/api/v1/wallet/top-ups/{top_up['id']}").json()
    assert status["status"] == "failed" and status["failure_reason"] == "payment_failed"
    assert customer.http.get("/api/v1/wallet").json()["balance"] == 0


@pytest.mark.parametrize(
    "case",
    [
        "bad_signature",
        "old_timestamp",
        "future_timestamp",
        "no_signature",
        "garbled_header",
        "unknown_reference",
        "malformed_body",
        "float_amount",
        "negative_amount",
        "unknown_type",
        "unknown_provider",
    ],
)
def test_bad_webhooks_are_refused_and_store_nothing(platform, customer, case):
    ref = customer.top_up(100_000).json()["payment"]["reference"]
    before = stored(platform, customer)
    url = platform["url"]
    event = paid(ref, 100_000)
    if case == "bad_signature":
        r = webhook(url, event, secret="not-the-secret")
    elif case == "old_timestamp":
        r = webhook(url, event, timestamp=int(time.time()) - 301)
    elif case == "future_timestamp":
        # well past the 300 s tolerance: int() truncation and transit eat up to a second
        r = webhook(url, event, timestamp=int(time.time()) + 360)
    elif case == "no_signature":
        r = webhook(url, event, signature="")
    elif case == "garbled_header":
        r = webhook(url, event, signature="t=abc,v1=zz")
    elif case == "unknown_reference":
        r = webhook(url, paid("PTNOSUCHREF000", 100_000))
    elif case == "malformed_body":
        r = webhook(url, b'{"id": "x", "type": "payment.succeeded", "amount": ')
    elif case == "float_amount":
        r = webhook(url, {**event, "amount": 100000.5})
    elif case == "negative_amount":
        r = webhook(url, {**event, "amount": -5})
    elif case == "unknown_type":
        r = webhook(url, {**event, "type": "payment.refunded"})
    else:
        r = webhook(url, event, provider="nosuchprovider")
    assert_problem(r, (400, 401, 404))
    assert stored(platform, customer) == before
    assert customer.http.get("/api/v1/wallet").json()["balance"] == 0


@pytest.mark.parametrize("amount", [10**18, 2**63, 2**64], ids=["1e18", "2^63", "2^64"])
def test_absurd_webhook_amounts_are_refused_and_change_nothing(platform, customer, amount):
    ref = customer.top_up(10_000).json()["payment"]["reference"]
    before = stored(platform, customer)
    r = webhook(platform["url"], paid(ref, amount))
    assert_problem(r, 400, "invalid_webhook_body")
    assert stored(platform, customer) == before
    wallet = customer.http.get("/api/v1/wallet").json()
    assert wallet["balance"] == 0 and wallet["held"] == 0


def test_an_over_payment_is_held_visible_and_released_once_by_staff(platform, customer):
    url = platform["url"]
    top_up = customer.top_up(100_000).json()
    ref = top_up["payment"]["reference"]
    r = webhook(url, paid(ref, 1_000_000))  # ten times what was asked: beyond the tolerance
    assert r.status_code == 200 and r.json()["status"] == "held", r.text
    hold_id = r.json()["hold_id"]

    # the customer sees the money as held, not in the balance
    wallet = customer.http.get("/api/v1/wallet").json()
    assert wallet["balance"] == 0 and wallet["held"] == 1_000_000, wallet
    assert wallet["held_payments"] == 1
    status = customer.http.get(f"/api/v1/wallet/top-ups/{top_up['id']}").json()
    assert status["status"] == "held"
    rows = customer.http.get("/api/v1/wallet/transactions").json()["items"]
    assert [(t["kind"], t["status"], t["amount"]) for t in rows] == [("held", "held", 1_000_000)]
    assert_problem(customer.http.get("/api/v1/staff/wallet/holds"), 403)
    assert_problem(customer.http.post(f"/api/v1/staff/wallet/holds/{hold_id}/release"), 403)

    # staff find it and release it; two releases at once credit it once
    admin = admin_client(url)
    held = admin.get("/api/v1/staff/wallet/holds", params={"account_id": customer.account_id})
    assert held.status_code == 200, held.text
    [item] = held.json()["items"]
    assert item["id"] == hold_id and item["hold_reason"] == "over_tolerance"
    assert item["amount"] == 1_000_000 and item["amount_requested"] == 100_000
    assert item["payment_reference"] == ref and item["status"] == "held"
    with ThreadPoolExecutor(2) as pool:
        releases = list(
            pool.map(
                lambda _: admin.post(f"/api/v1/staff/wallet/holds/{hold_id}/release"), range(2)
            )
        )
    assert [r.status_code for r in releases] == [200, 200], [r.text for r in releases]
    assert {r.json()["status"] for r in releases} == {"released"}
    again = admin.post(f"/api/v1/staff/wallet/holds/{hold_id}/release")
    assert again.status_code == 200 and again.json()["status"] == "released"
    assert_problem(
        admin.post(f"/api/v1/staff/wallet/holds/{hold_id}/refund"), 409, "hold_already_settled"
    )

    wallet = customer.http.get("/api/v1/wallet").json()
    assert wallet["balance"] == 1_000_000 and wallet["held"] == 0, wallet
    customer.wait_for_balance(1_000_000)
    rows = eventually(
        lambda: [
            t
            for t in customer.http.get("/api/v1/wallet/transactions").json()["items"]
            if t["kind"] == "credit"
        ],
        what="the released credit in the history",
    )
    time.sleep(1.0)  # a second credit would have reached the history by now
    rows = customer.http.get("/api/v1/wallet/transactions").json()["items"]
    assert sorted((t["kind"], t.get("status"), t["amount"]) for t in rows) == [
        ("credit", None, 1_000_000),
        ("held", "released", 1_000_000),
    ]
    assert customer.http.get(f"/api/v1/wallet/top-ups/{top_up['id']}").json()["status"] == (
        "completed"
    )
    listed = admin.get(
        "/api/v1/staff/wallet/holds", params={"account_id": customer.account_id}
    ).json()
    assert listed["total"] == 0  # the default filter shows only what still awaits review


def test_a_held_payment_marked_for_refund_stays_out_of_the_balance(platform, customer):
    ref = customer.top_up(100_000).json()["payment"]["reference"]
    first = webhook(platform["url"], paid(ref, 100_000))
    second = webhook(platform["url"], paid(ref, 100_000))  # another event id, same reference
    assert first.json()["status"] == "processed" and second.json()["status"] == "held"
    admin = admin_client(platform["url"])
    hold_id = second.json()["hold_id"]
    r = admin.post(f"/api/v1/staff/wallet/holds/{hold_id}/refund")
    assert r.status_code == 200 and r.json()["status"] == "refund", r.text
    assert r.json()["hold_reason"] == "repeat_payment"
    assert admin.post(f"/api/v1/staff/wallet/holds/{hold_id}/refund").status_code == 200
    assert_problem(
        admin.post(f"/api/v1/staff/wallet/holds/{hold_id}/release"), 409, "hold_already_settled"
    )
    wallet = customer.http.get("/api/v1/wallet").json()
    assert wallet["balance"] == 100_000 and wallet["held"] == 0
    assert_problem(admin.post("/api/v1/staff/wallet/holds/no-such-hold/release"), 404)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"amount": 9_999}, "amount_below_minimum"),
        ({"amount": 100_000_001}, "amount_above_maximum"),
        ({"amount": 0}, "validation_error"),
        ({"amount": -100_000}, "validation_error"),
        ({"amount": 100_000.5}, "validation_error"),
        ({"amount": "100000"}, "validation_error"),
        ({"amount": 100_000, "currency": "USD"}, "currency_not_supported"),
        ({"amount": 100_000, "currency": "dong"}, "validation_error"),
        ({"amount": 100_000, "method": "cash"}, "validation_error"),
        ({}, "validation_error"),
        ({"amount": 100_000, "account_id": "someone-else"}, "validation_error"),
    ],
    ids=[
        "below-min",
        "above-max",
        "zero",
        "negative",
        "non-integer",
        "string",
        "wrong-currency",
        "bad-currency",
        "bad-method",
        "missing",
        "foreign-account-in-body",
    ],
)
def test_bad_top_up_requests_are_refused_and_store_nothing(platform, customer, body, code):
    before = stored(platform, customer)
    r = customer.http.post("/api/v1/wallet/top-ups", json=body)
    assert_problem(r, (400, 422), code)
    assert stored(platform, customer) == before


def test_non_json_top_up_is_a_problem_not_a_crash(customer):
    r = customer.http.post(
        "/api/v1/wallet/top-ups",
        content=b"\xff\xfe not json",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(r, 400)


def test_idempotency_key_replays_the_first_response_and_refuses_another_body(platform, customer):
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    first = customer.http.post("/api/v1/wallet/top-ups", json={"amount": 70_000}, headers=key)
    again = customer.http.post("/api/v1/wallet/top-ups", json={"amount": 70_000}, headers=key)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    other = customer.http.post("/api/v1/wallet/top-ups", json={"amount": 80_000}, headers=key)
    assert_problem(other, 422, "idempotency_key_reused")
    listed = customer.http.get("/api/v1/wallet/top-ups").json()
    assert listed["total"] == 1


@pytest.mark.parametrize("token", ["", "Bearer", "Bearer not.a.jwt", "Basic abc"])
def test_requests_without_a_valid_token_are_401(platform, token):
    headers = {"Authorization": token} if token else {}
    r = httpx.get(f"{platform['url']}/api/v1/dashboard", headers=headers)
    assert_problem(r, 401)


def test_each_account_sees_only_its_own_wallet(platform, customer):
    ref = customer.top_up(100_000).json()["payment"]["reference"]
    webhook(platform["url"], paid(ref, 100_000))
    customer.wait_for_balance(100_000)
    other = Customer(platform["url"])
    assert other.dashboard()["wallet"]["balance"] == 0
    top_up_id = customer.http.get("/api/v1/wallet/top-ups").json()["items"][0]["id"]
    assert_problem(other.http.get(f"/api/v1/wallet/top-ups/{top_up_id}"), 404)


def test_debits_from_other_contexts_are_safe_to_retry_and_refuse_overdrafts(platform, customer):
    ref = customer.top_up(100_000).json()["payment"]["reference"]
    webhook(platform["url"], paid(ref, 100_000))
    customer.wait_for_balance(100_000)
    admin = admin_client(platform["url"])
    billing = httpx.Client(
        base_url=platform["wallet_url"], headers={"Authorization": admin.headers["Authorization"]}
    )
    url = f"/v1/wallets/{customer.account_id}/debits"
    body = {"amount": 60_000, "currency": "VND", "reason": "invoice_payment", "reference": "INV-1"}
    results = [
        billing.post(url, json=body, headers={"Idempotency-Key": "pay-INV-1"}) for _ in range(3)
    ]
    assert [r.status_code for r in results] == [201, 201, 201]
    assert {r.json()["transaction_id"] for r in results} == {results[0].json()["transaction_id"]}
    over = billing.post(
        url, json={**body, "reference": "INV-2"}, headers={"Idempotency-Key": "pay-INV-2"}
    )
    problem = assert_problem(over, 422, "insufficient_balance")
    assert problem["balance"] == 40_000
    customer.wait_for_balance(40_000)
    as_customer = httpx.post(
        f"{platform['wallet_url']}{url}",
        json=body,
        headers={"Authorization": f"Bearer {customer.token}", "Idempotency-Key": "x"},
    )
    assert_problem(as_customer, 403)


def test_openapi_health_and_metrics(platform):
    url = platform["url"]
    schema = httpx.get(f"{url}/schema/openapi.json").json()
    for path in (
        "/api/v1/wallet/top-ups",
        "/api/v1/dashboard",
        "/api/v1/payments/webhooks/{provider}",
        "/api/v1/wallet/transactions",
    ):
        assert path in schema["paths"]
    assert httpx.get(f"{url}/health/live").status_code == 200
    ready = httpx.get(f"{url}/health/ready").json()
    assert ready["checks"]["mongodb"] == "ok" and ready["checks"]["kafka"] == "ok"
    # Prometheus reads its own port; the public one does not show it.
    metrics = httpx.get(platform["metrics_url"]).text
    assert "portal_http_requests_total" in metrics
    assert_problem(httpx.get(f"{url}/metrics"), 404)
    assert_problem(httpx.get(f"{url}/api/v1/nope"), 404)


def test_staff_dashboard_counts_top_ups_and_is_staff_only(platform, customer):
    ref = customer.top_up(100_000).json()["payment"]["reference"]
    webhook(platform["url"], paid(ref, 100_000))
    customer.wait_for_balance(100_000)
    admin = admin_client(platform["url"])
    board = admin.get("/api/v1/staff/dashboard")
    assert board.status_code == 200, board.text
    assert board.json()["wallet"]["top_ups_completed"] >= 1
    assert board.json()["wallet"]["topped_up"]["VND"] >= 100_000
    assert_problem(customer.http.get("/api/v1/staff/dashboard"), 403)


def test_the_live_dashboard_pushes_the_new_balance(platform, customer):
    """Server-sent events: the dashboard at once, then again when a top-up lands."""
    url = platform["url"]
    events: list[dict[str, Any]] = []
    with customer.http.stream("GET", "/api/v1/dashboard/stream", timeout=30) as stream:
        for board in dashboard_events(stream):  # each checked against CustomerDashboard
            events.append(board)
            if len(events) == 1:
                assert events[0]["wallet"]["balance"] == 0
                ref = customer.top_up(70_000).json()["payment"]["reference"]
                assert webhook(url, paid(ref, 70_000)).status_code == 200
            elif events[-1]["wallet"]["balance"] == 70_000:
                break
    assert events[-1]["wallet"]["balance"] == 70_000
    assert events[-1]["recent_transactions"][0]["amount"] == 70_000


def test_a_transaction_has_one_id_on_the_dashboard_and_in_the_history(platform, customer):
    ref = customer.top_up(120_000).json()["payment"]["reference"]
    assert webhook(platform["url"], paid(ref, 120_000)).status_code == 200
    board = customer.wait_for_balance(120_000)
    history = eventually(
        lambda: customer.http.get("/api/v1/wallet/transactions").json()["items"],
        what="the credit in the history",
    )
    # A front end links a dashboard row to the history by id: the transaction's own id.
    assert [t["id"] for t in board["recent_transactions"]] == [t["id"] for t in history]


def test_a_top_up_history_row_shows_the_transfer_memo(platform, customer):
    url = platform["url"]
    credited = customer.top_up(100_000).json()
    held = customer.top_up(100_000).json()
    assert webhook(url, paid(credited["payment"]["reference"], 100_000)).status_code == 200
    assert webhook(url, paid(held["payment"]["reference"], 1_000_000)).json()["status"] == "held"
    rows = eventually(
        lambda: (
            (items := customer.http.get("/api/v1/wallet/transactions").json()["items"])
            and len(items) == 2
            and items
        ),
        what="the credit and the held payment in the history",
    )
    # What the customer typed on the transfer, not an internal top-up id.
    memos = {t["kind"]: t["reference"] for t in rows}
    assert memos == {
        "credit": credited["payment"]["reference"],
        "held": held["payment"]["reference"],
    }
    board = customer.wait_for_balance(100_000)
    assert board["recent_transactions"][0]["reference"] == credited["payment"]["reference"]
