"""The gateway's edge on small apps: headers, body limits and timeouts, slow request
heads, stream slots. No infrastructure needed."""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import json
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.testing import AsyncTestClient

from portal_chassis.auth import Principal
from portal_chassis.problems import EXCEPTION_HANDLERS, ProblemError
from portal_contracts.events.notifications import NotificationSent, NotificationsRead
from portal_gateway.dashboard import StreamSlots, bell_update, live_dashboard, unread
from portal_gateway.dashboard_models import StaffDashboard
from portal_gateway.edge import HeaderTimeoutProtocol, edge_headers, request_limits, session_of
from portal_gateway.settings import GatewaySettings

PAGE = (
    b"<!DOCTYPE html><html><head><script src='/a.js'></script></head>"
    b"<body><script>go(1)</script></body></html>"
)


def _token(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256', 'kid': 'k'})}.{part(claims)}.c2ln"


@get("/public", media_type=MediaType.JSON)
async def public() -> dict[str, str]:
    return {"ok": "yes"}


@post("/api/v1/auth/login", media_type=MediaType.JSON, status_code=200)
async def login() -> Response[dict[str, str]]:
    # An upstream that says the answer may be cached must not win.
    return Response({"access_token": "t"}, headers={"Cache-Control": "public, max-age=60"})


@get("/page", media_type=MediaType.HTML)
async def page() -> bytes:
    return PAGE


@post("/upload", request_max_body_size=100, status_code=201)
async def upload(request: Request[Any, Any, Any]) -> dict[str, int]:
    return {"size": len(await request.body())}


class FakeRevoked:
    def __init__(self, *ids: str) -> None:
        self.ids = set(ids)

    def contains(self, session_id: str | None) -> bool:
        return session_id in self.ids


def _app(settings: GatewaySettings | None = None, revoked: Any = None) -> Litestar:
    app = Litestar(
        route_handlers=[public, login, page, upload],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_limits(settings or GatewaySettings())],
    )
    app.asgi_handler = edge_headers(app.asgi_handler, revoked)
    return app


async def test_every_answer_is_nosniff_and_sign_in_answers_are_never_stored() -> None:
    async with AsyncTestClient(_app()) as client:
        anonymous = await client.get("/public")
        assert anonymous.headers["x-content-type-options"] == "nosniff"
        assert "cache-control" not in anonymous.headers
        missing = await client.get("/nowhere")
        assert missing.status_code == 404
        assert missing.headers["x-content-type-options"] == "nosniff"
        signed_in = await client.get("/public", headers={"Authorization": "Bearer x.y.z"})
        assert signed_in.headers["cache-control"] == "no-store"
        logged_in = await client.post("/api/v1/auth/login")
        assert logged_in.status_code == 200
        assert logged_in.headers.get_list("cache-control") == ["no-store"]
        assert logged_in.headers["x-content-type-options"] == "nosniff"


async def test_html_pages_get_a_csp_that_allows_only_their_own_inline_scripts() -> None:
    async with AsyncTestClient(_app()) as client:
        r = await client.get("/page")
    assert r.status_code == 200 and r.content == PAGE
    csp = r.headers["content-security-policy"]
    digest = base64.b64encode(hashlib.sha256(b"go(1)").digest()).decode()
    assert "frame-ancestors 'none'" in csp
    assert f"script-src 'self' 'sha256-{digest}';" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["x-frame-options"] == "DENY"
    assert int(r.headers["content-length"]) == len(PAGE)
    async with AsyncTestClient(_app()) as client:
        assert "content-security-policy" not in (await client.get("/public")).headers


async def test_a_token_of_a_revoked_session_is_refused_before_anything_else() -> None:
    app = _app(revoked=FakeRevoked("s-gone"))
    async with AsyncTestClient(app) as client:
        gone = _token({"sub": "u", "sid": "s-gone"})
        r = await client.get("/public", headers={"Authorization": f"Bearer {gone}"})
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "session_revoked"
        assert r.headers["cache-control"] == "no-store"
        live = _token({"sub": "u", "sid": "s-live"})
        r = await client.get("/public", headers={"Authorization": f"Bearer {live}"})
        assert r.status_code == 200


def test_session_of_reads_the_sid_claim_and_ignores_garbage() -> None:
    assert session_of(f"Bearer {_token({'sid': 'abc'})}".encode()) == "abc"
    assert session_of(b"Bearer not-a-token") is None
    assert session_of(b"Bearer a.!!!.c") is None
    assert session_of(b"Basic abc") is None
    assert session_of(None) is None


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "state": {},
    }


async def _call(app: Litestar, scope: dict[str, Any], receive: Any) -> tuple[int, bytes, dict]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, {k.decode(): v.decode() for k, v in start["headers"]}


async def test_a_body_declared_too_large_is_refused_without_reading_a_byte() -> None:
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    scope = _scope("POST", "/upload", [(b"content-length", str(50 * 1024 * 1024).encode())])
    status, body, headers = await _call(_app(), scope, receive)
    assert status == 413 and reads == 0
    assert headers["content-type"].startswith("application/problem+json")
    assert json.loads(body)["code"] == "payload_too_large"
    assert headers["connection"] == "close"


async def test_a_body_that_stalls_ends_in_408_and_one_within_limits_passes() -> None:
    settings = GatewaySettings(body_idle_seconds=0.3, body_timeout_seconds=5)
    first = True

    async def stalling() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"abc", "more_body": True}
        await asyncio.sleep(3600)  # the rest never comes
        raise AssertionError("unreachable")

    scope = _scope("POST", "/upload", [(b"content-length", b"50")])
    status, body, _ = await asyncio.wait_for(_call(_app(settings), scope, stalling), timeout=30)
    assert status == 408
    assert json.loads(body)["code"] == "request_timeout"
    async with AsyncTestClient(_app(settings)) as client:
        ok = await client.post("/upload", content=b"12345")
        assert ok.status_code == 201 and ok.json() == {"size": 5}


async def test_a_body_that_trickles_in_for_too_long_ends_in_408() -> None:
    settings = GatewaySettings(body_idle_seconds=5, body_timeout_seconds=0.6)

    async def trickle() -> dict[str, Any]:
        await asyncio.sleep(0.1)  # never idle for long, but never done either
        return {"type": "http.request", "body": b"a", "more_body": True}

    scope = _scope("POST", "/upload", [(b"content-length", b"100")])
    status, body, _ = await asyncio.wait_for(_call(_app(settings), scope, trickle), timeout=30)
    assert status == 408 and json.loads(body)["code"] == "request_timeout"


# ------------------------------------------------------------------ slow request heads


class QuickHeads(HeaderTimeoutProtocol):
    header_timeout = 0.5


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
    )
    await send({"type": "http.response.body", "body": b"hello"})


async def _serve(protocol: type) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(_hello, http=protocol, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):  # until it listens
        if server.started:
            break
        await asyncio.sleep(0.02)
    return server, task, sock.getsockname()[1]


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes | None:
    """What the server sent before closing, or None if it still holds the socket."""
    got = b""
    try:
        async with asyncio.timeout(seconds):
            while chunk := await reader.read(1024):
                got += chunk  # read as it comes: a reset below drops what is unread
    except TimeoutError:
        return None
    except ConnectionResetError:
        # The client was still dribbling when the server closed: the kernel answers that
        # with a reset (more often on a loaded machine); what arrived before it counts.
        pass
    return got


async def test_slow_request_heads_are_cut_off_and_normal_requests_still_work() -> None:
    server, task, port = await _serve(QuickHeads)
    try:
        slow = [await asyncio.open_connection("127.0.0.1", port) for _ in range(30)]
        for _, writer in slow:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        idle = await asyncio.open_connection("127.0.0.1", port)  # says nothing at all

        async def dribble() -> None:
            for _ in range(40):  # a header byte every 0.1 s keeps no timer from running out
                for _, writer in slow:
                    if not writer.is_closing():
                        writer.write(b"X")
                await asyncio.sleep(0.1)

        dribbling = asyncio.create_task(dribble())
        answers = await asyncio.gather(*(_closed_within(r, 10) for r, _ in slow))
        dribbling.cancel()
        assert all(a is not None and a.startswith(b"HTTP/1.1 408") for a in answers), answers
        assert await _closed_within(idle[0], 10) is not None

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(2):  # kept alive past the head deadline between two requests
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            assert head.startswith(b"HTTP/1.1 200")
            assert await asyncio.wait_for(reader.readexactly(5), timeout=5) == b"hello"
            await asyncio.sleep(0.8)  # idle, but within keep-alive
        writer.close()
    finally:
        server.should_exit = True
        await task


# ------------------------------------------------------------------ live stream slots


class FakeQueries:
    def __init__(self, per_user: int) -> None:
        self.streams = StreamSlots(per_user)
        self.unread: dict[str, int] = {}

    async def bell_version(self, user_id: str) -> int:
        return self.unread.get(user_id, 0)

    async def bell(self, user_id: str) -> dict[str, Any]:
        return {"unread": self.unread.get(user_id, 0)}

    async def version_of(self, account_id: str) -> int:
        return 1

    async def for_account(self, principal: Principal) -> dict[str, Any]:
        # What the real queries render at least: the stream sends it as a CustomerDashboard.
        return {"account_id": principal.account_id, "projection": {"as_of": datetime.now(UTC)}}


class FakeStaffQueries(FakeQueries):
    """A staff board whose read model changes when the test says so."""

    def __init__(self) -> None:
        super().__init__(5)
        self.version = 1

    async def version_of(self, account_id: str) -> int:
        raise AssertionError("the staff stream reads the staff board, not an account's")

    async def staff_version(self) -> int:
        return self.version

    async def for_staff(self) -> dict[str, Any]:
        # A whole board: the stream sends it as a StaffDashboard, like the GET.
        return {
            "wallet": {"top_ups_completed": 0, "top_ups_failed": 0, "topped_up": {}},
            "billing": {
                "active_subscriptions": 0,
                "active_by_category_and_tier": {},
                "expiring_soon": 0,
                "orders_per_month": [],
                "payment_claims_open": 0,
                "payment_claims_overdue": 0,
            },
            "crm": {
                "care_activities_due_today": 0,
                "care_activities_overdue": 0,
                "leads_unassigned": 0,
                "customers_by_level": {},
            },
            "tickets": {
                "by_status": {},
                "by_department": {},
                "sla_breaches": {"resolution": self.version},
            },
            "repairs": {
                "open": 0,
                "by_step": {},
                "by_branch": {},
                "waiting_for_quote_approval": 0,
                "overdue": 0,
            },
            "projection": {"as_of": datetime.now(UTC)},
        }


def _principal(user: str) -> Principal:
    return Principal(user, f"acc-{user}", frozenset({"owner"}), "s", "t")


async def test_a_user_holds_at_most_n_live_streams_and_gets_them_back() -> None:
    queries: Any = FakeQueries(2)
    alice = _principal("alice")

    def open_stream(principal: Principal) -> Any:
        return live_dashboard(queries, principal, poll=0.01, heartbeat=10, lifetime=60)

    first, second = open_stream(alice), open_stream(alice)
    with pytest.raises(ProblemError) as refused:
        open_stream(alice)
    assert refused.value.status_code == 429 and refused.value.code == "too_many_streams"
    assert refused.value.problem_extra["retry_after"] > 0
    other = open_stream(_principal("bob"))  # the cap is per user

    assert (await anext(first)).event == "dashboard"
    await first.aclose()  # a stream that ran and ended gives its slot back
    third = open_stream(alice)
    del second  # one dropped before it ever started gives it back too
    gc.collect()
    fourth = open_stream(alice)
    with pytest.raises(ProblemError):
        open_stream(alice)
    await third.aclose()  # closed unstarted: released when dropped
    del third, fourth, other
    gc.collect()
    assert not queries.streams.open


async def test_the_staff_stream_sends_the_staff_board_and_again_when_it_changes() -> None:
    queries: Any = FakeStaffQueries()
    stream = live_dashboard(
        queries, _principal("agent"), poll=0.01, heartbeat=10, lifetime=60, staff=True
    )
    first = await anext(stream)
    assert first.event == "dashboard"
    board = json.loads(str(first.data))
    assert board["tickets"]["sla_breaches"] == {"resolution": 1}
    assert (await anext(stream)).event == "notifications"  # the staff member's own bell
    StaffDashboard.model_validate(board)  # the typed staff board, as the GET answers it
    queries.version = 2  # an event moved the staff read model
    second = await asyncio.wait_for(anext(stream), timeout=5)
    assert json.loads(str(second.data))["tickets"]["sla_breaches"]["resolution"] == 2
    await stream.aclose()
    assert not queries.streams.open


async def test_the_stream_sends_the_users_unread_count_and_again_when_it_changes() -> None:
    queries: Any = FakeQueries(5)
    stream = live_dashboard(queries, _principal("alice"), poll=0.01, heartbeat=10, lifetime=60)
    assert (await anext(stream)).event == "dashboard"
    bell = await anext(stream)
    assert bell.event == "notifications" and json.loads(str(bell.data)) == {"unread": 0}
    queries.unread["bob"] = 4  # someone else's bell: not this stream's
    queries.unread["alice"] = 2  # a new entry reached alice's bell
    again = await asyncio.wait_for(anext(stream), timeout=5)
    assert again.event == "notifications" and json.loads(str(again.data)) == {"unread": 2}
    await stream.aclose()


def test_the_bell_counts_entries_received_and_marked_read_in_any_order() -> None:
    def sent(channel: str) -> NotificationSent:
        return NotificationSent(
            user_id="u",
            account_id="a",
            delivery_id="d",
            source_event_id="e",
            channel=channel,  # type: ignore[arg-type]
            category="billing",
            template="invoice_paid",
            occurred_at=datetime.now(UTC),
        )

    read = NotificationsRead(user_id="u", account_id="a", count=2, occurred_at=datetime.now(UTC))
    doc: dict[str, int] = {}
    for event in (read, sent("in_app"), sent("email"), sent("in_app"), sent("in_app")):
        for field, by in ((bell_update(event) or {}).get("$inc") or {}).items():
            doc[field] = doc.get(field, 0) + by
    assert unread(doc) == 1  # three in the bell (mails do not count), two read
    assert unread({"received": 1, "read": 3}) == 0  # never below zero
