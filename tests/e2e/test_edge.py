"""The gateway's edge on the running platform: revoked sessions, live-stream cap, slow
request heads, early refusal of oversize bodies, headers, the metrics port."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from portal_tests.e2e import Customer

pytestmark = pytest.mark.e2e


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_logged_out_access_token_is_refused_within_seconds(platform: Any) -> None:
    url = platform["url"]
    c = Customer(url, wait_for_wallet=False)
    other = httpx.post(
        f"{url}/api/v1/auth/login", json={"email": c.email, "password": "correct horse battery"}
    ).json()["access_token"]  # a second session of the same user
    assert httpx.get(f"{url}/api/v1/me", headers=bearer(c.token)).status_code == 200
    assert httpx.post(f"{url}/api/v1/auth/logout", headers=bearer(c.token)).status_code == 204
    deadline = time.monotonic() + 20  # the event travels identity -> Kafka -> projector
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/api/v1/me", headers=bearer(c.token))
        if r.status_code == 401:
            break
        time.sleep(0.3)
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "session_revoked"
    assert r.headers["content-type"].startswith("application/problem+json")
    # Every route refuses it, forwarded or answered by the gateway itself.
    for path in ("/api/v1/wallet", "/api/v1/dashboard", "/api/v1/tickets"):
        assert httpx.get(f"{url}{path}", headers=bearer(c.token)).status_code == 401, path
    # The user's other session is untouched.
    assert httpx.get(f"{url}/api/v1/me", headers=bearer(other)).status_code == 200


def test_a_user_holds_at_most_five_live_dashboards(platform: Any) -> None:
    c = Customer(platform["url"], wait_for_wallet=False)
    with contextlib.ExitStack() as open_streams:
        for _ in range(5):
            stream = open_streams.enter_context(
                c.http.stream("GET", "/api/v1/dashboard/stream", timeout=30)
            )
            assert stream.status_code == 200
        # (streamed: an accepted stream would never end by itself)
        with c.http.stream("GET", "/api/v1/dashboard/stream", timeout=30) as refused:
            assert refused.status_code == 429
            refused.read()
        assert refused.json()["code"] == "too_many_streams"
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) > 0
        # Another user of the platform is not affected.
        other = Customer(platform["url"], wait_for_wallet=False)
        with other.http.stream("GET", "/api/v1/dashboard/stream", timeout=30) as s:
            assert s.status_code == 200
    # Closed streams give their slots back (once the gateway sees the disconnect).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with c.http.stream("GET", "/api/v1/dashboard/stream", timeout=30) as again:
            if again.status_code == 200:
                break
        time.sleep(0.5)
    assert again.status_code == 200


def _connect(url: str) -> socket.socket:
    parsed = urlparse(url)
    sock = socket.create_connection((parsed.hostname, parsed.port), timeout=30)
    return sock


def test_request_heads_that_trickle_in_are_cut_off(platform: Any) -> None:
    url = platform["url"]
    slow = [_connect(url) for _ in range(50)]
    for sock in slow:
        sock.sendall(b"GET /api/v1/plans HTTP/1.1\r\nHost: portal\r\n")
    started = time.monotonic()
    closed: set[int] = set()
    answers: list[bytes] = []
    while len(closed) < len(slow) and time.monotonic() - started < 30:
        # Meanwhile a normal client is served.
        assert httpx.get(f"{url}/health/live", timeout=10).status_code == 200
        for i, sock in enumerate(slow):
            if i in closed:
                continue
            try:
                sock.sendall(b"X")  # one more header byte: no idle timer would ever fire
                sock.settimeout(0.01)
                data = sock.recv(200)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            closed.add(i)
            answers.append(data)
        time.sleep(0.3)
    for sock in slow:
        sock.close()
    assert len(closed) == len(slow), f"{len(slow) - len(closed)} slow heads still held"
    assert any(a.startswith(b"HTTP/1.1 408") for a in answers)


def test_a_body_declared_too_large_is_refused_before_it_is_sent(platform: Any) -> None:
    c = Customer(platform["url"], wait_for_wallet=False)
    sock = _connect(platform["url"])
    sock.sendall(
        b"POST /api/v1/tickets HTTP/1.1\r\nHost: portal\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {c.token}\r\n".encode()
        + f"Content-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
        + b'{"subject": "'
    )
    sock.settimeout(20)
    answer = b""
    while chunk := sock.recv(4096):  # answered (and closed) without waiting for the 200 MB
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer and b"payload_too_large" in answer


def test_sign_in_and_profile_answers_are_never_stored(platform: Any) -> None:
    url = platform["url"]
    c = Customer(url, wait_for_wallet=False)
    login = httpx.post(
        f"{url}/api/v1/auth/login", json={"email": c.email, "password": "correct horse battery"}
    )
    refresh = httpx.post(
        f"{url}/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    me = httpx.get(f"{url}/api/v1/me", headers=bearer(login.json()["access_token"]))
    wallet = c.http.get("/api/v1/wallet")
    for r in (login, refresh, me, wallet):
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store", r.request.url
        assert r.headers["x-content-type-options"] == "nosniff", r.request.url
    plans = httpx.get(f"{url}/api/v1/plans")
    assert plans.headers["x-content-type-options"] == "nosniff"


def test_the_docs_page_works_offline(platform: Any) -> None:
    url = platform["url"]
    page = httpx.get(f"{url}/schema/swagger")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "//cdn" not in page.text and "https://" not in page.text.split("<body>")[0]
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert httpx.get(f"{url}/schema/assets/{asset}").status_code == 200
