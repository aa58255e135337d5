"""The web portal's session through the gateway: the refresh token lives in an httpOnly,
SameSite=Strict cookie (never in an answer), refresh demands the CSRF header and a same-site
origin, and the JSON token flow of the mobile apps is unchanged."""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest

from portal_tests.e2e import PASSWORD, Customer, problem

pytestmark = pytest.mark.e2e

SESSION = "/api/v1/auth/session"
CSRF = {"X-Portal-Session": "1"}


def _cookie(response: httpx.Response) -> Any:
    """The portal_refresh Set-Cookie of an answer, parsed (None when there is none)."""
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if "portal_refresh" in jar:
            attributes = [part.strip() for part in header.lower().split(";")[1:]]
            return jar["portal_refresh"], attributes
    return None


def _client(url: str) -> httpx.Client:
    # A jar that keeps nothing: each test sends the cookie it means to, so every step is explicit.
    http = httpx.Client(base_url=url, timeout=20, headers={"Origin": url})
    http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return http


def _login(http: httpx.Client, email: str) -> tuple[dict[str, Any], str]:
    r = http.post(f"{SESSION}/login", json={"email": email, "password": PASSWORD}, headers=CSRF)
    assert r.status_code == 200, r.text
    found = _cookie(r)
    assert found is not None, r.headers
    return r.json(), found[0].value


def test_login_sets_an_httponly_strict_cookie_and_answers_only_the_access_token(
    platform: dict[str, Any],
) -> None:
    url = platform["url"]
    owner = Customer(url, wait_for_wallet=False)
    with _client(url) as http:
        r = http.post(
            f"{SESSION}/login", json={"email": owner.email, "password": PASSWORD}, headers=CSRF
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["access_token"] and "refresh_token" not in body
        assert "refresh_token" not in r.text
        morsel, raw = _cookie(r)
        assert len(morsel.value) >= 10
        assert "httponly" in raw and "samesite=strict" in raw and "secure" not in raw
        assert morsel["path"] == SESSION
        assert int(morsel["max-age"]) > 3600
        assert r.headers["cache-control"] == "no-store"
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json()["user_id"] == owner.user_id


def test_the_cookie_is_secure_anywhere_but_plain_http_on_this_machine(
    platform: dict[str, Any],
) -> None:
    url = platform["url"]
    owner = Customer(url, wait_for_wallet=False)
    with httpx.Client(base_url=url, timeout=20) as http:
        r = http.post(
            f"{SESSION}/login",
            json={"email": owner.email, "password": PASSWORD},
            headers={**CSRF, "Host": "portal.example.com", "Origin": "https://portal.example.com"},
        )
        assert r.status_code == 200, r.text
        _, raw = _cookie(r)
        assert "secure" in raw


def test_refresh_rotates_the_cookie_and_needs_the_header_a_same_site_origin_and_the_cookie(
    platform: dict[str, Any],
) -> None:
    url = platform["url"]
    owner = Customer(url, wait_for_wallet=False)
    with _client(url) as http:
        _, cookie = _login(http, owner.email)
        jar = {"Cookie": f"portal_refresh={cookie}"}

        problem(http.post(f"{SESSION}/refresh", headers=jar), 403, "csrf_header_required")
        problem(
            http.post(f"{SESSION}/refresh", headers={**jar, **CSRF, "Origin": "https://evil.test"}),
            403,
            "cross_origin_refused",
        )
        problem(
            http.post(
                f"{SESSION}/refresh", headers={**jar, **CSRF, "Sec-Fetch-Site": "cross-site"}
            ),
            403,
            "cross_origin_refused",
        )
        problem(http.post(f"{SESSION}/refresh", headers=CSRF), 401, "no_session")

        # None of the refused calls used the token: it still refreshes, once, and rotates.
        r = http.post(f"{SESSION}/refresh", headers={**jar, **CSRF})
        assert r.status_code == 200, r.text
        assert r.json()["access_token"] and "refresh_token" not in r.json()
        rotated = _cookie(r)
        assert rotated is not None and rotated[0].value != cookie
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        assert me.json()["user_id"] == owner.user_id

        # A cookie identity does not know is refused and cleared.
        bad = http.post(
            f"{SESSION}/refresh", headers={"Cookie": "portal_refresh=" + "x" * 40, **CSRF}
        )
        assert bad.status_code == 401
        cleared = _cookie(bad)
        assert cleared is not None and int(cleared[0]["max-age"]) == 0


def test_logout_ends_the_session_and_clears_the_cookie(platform: dict[str, Any]) -> None:
    url = platform["url"]
    owner = Customer(url, wait_for_wallet=False)
    with _client(url) as http:
        body, cookie = _login(http, owner.email)
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        problem(http.post(f"{SESSION}/logout", headers=bearer), 403, "csrf_header_required")
        out = http.post(f"{SESSION}/logout", headers={**bearer, **CSRF})
        assert out.status_code == 204, out.text
        cleared = _cookie(out)
        assert cleared is not None and int(cleared[0]["max-age"]) == 0
        # The session is revoked at identity: its refresh token no longer works.
        again = http.post(
            f"{SESSION}/refresh", headers={"Cookie": f"portal_refresh={cookie}", **CSRF}
        )
        assert again.status_code == 401, again.text


def test_the_json_token_flow_of_the_apps_is_unchanged(platform: dict[str, Any]) -> None:
    url = platform["url"]
    owner = Customer(url, wait_for_wallet=False)
    r = httpx.post(
        f"{url}/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD}, timeout=20
    )
    assert r.status_code == 200 and r.json()["refresh_token"]
    assert _cookie(r) is None
    refreshed = httpx.post(
        f"{url}/api/v1/auth/refresh", json={"refresh_token": r.json()["refresh_token"]}, timeout=20
    )
    assert refreshed.status_code == 200 and refreshed.json()["refresh_token"]
    assert _cookie(refreshed) is None


def test_wrong_password_and_bad_bodies_are_4xx_without_a_cookie(platform: dict[str, Any]) -> None:
    url = platform["url"]
    owner = Customer(url, wait_for_wallet=False)
    with _client(url) as http:
        wrong = http.post(
            f"{SESSION}/login",
            json={"email": owner.email, "password": "not it at all"},
            headers=CSRF,
        )
        assert wrong.status_code == 401 and _cookie(wrong) is None
        for body in (b"{", b"[]", b'{"email": 5}', b""):
            r = http.post(
                f"{SESSION}/login",
                content=body,
                headers={**CSRF, "Content-Type": "application/json"},
            )
            assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
            assert _cookie(r) is None


def test_a_qr_login_lands_the_browser_in_a_cookie_session(platform: dict[str, Any]) -> None:
    url = platform["url"]
    app = Customer(url, wait_for_wallet=False)
    with _client(url) as http:
        challenge = http.post("/api/v1/auth/qr").json()
        poll = {**CSRF, "Qr-Poll-Token": challenge["poll_token"]}
        status = f"{SESSION}/qr/{challenge['id']}"
        pending = http.get(status, headers=poll)
        assert pending.status_code == 200 and pending.json()["status"] == "pending"
        assert _cookie(pending) is None
        problem(
            http.get(status, headers={"Qr-Poll-Token": challenge["poll_token"]}),
            403,
            "csrf_header_required",
        )
        approved = app.http.post(
            f"/api/v1/auth/qr/{challenge['id']}/approve", json={"device": "Pixel 9 (app)"}
        )
        assert approved.status_code == 200, approved.text
        done = http.get(status, headers=poll)
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text
        assert done.json()["access_token"] and "refresh_token" not in done.json()
        morsel, raw = _cookie(done)
        assert "httponly" in raw
        r = http.post(
            f"{SESSION}/refresh", headers={"Cookie": f"portal_refresh={morsel.value}", **CSRF}
        )
        assert r.status_code == 200, r.text
