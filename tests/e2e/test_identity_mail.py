"""Identity flows that need mail, end to end through the gateway, the mail read from the
SMTP catcher: a forgotten password, the address's verification (and what an unverified
account may not do), and security notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest

from portal_tests.e2e import PASSWORD, Customer, eventually, login, mailed_link, problem

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a brand new passphrase"


def post(platform: dict[str, Any], path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{platform['url']}{path}", json=body, timeout=20)


def mails_to(platform: dict[str, Any], email: str, subject: str) -> list[Any]:
    return [m for m in platform["mail"].messages(to=email) if m.subject == subject]


def refresh(platform: dict[str, Any], tokens: dict[str, Any]) -> httpx.Response:
    return post(platform, "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})


# ---------------------------------------------------------------- forgotten password


def test_a_forgotten_password_is_reset_once_with_the_mailed_link_and_every_session_ends(
    platform,
):
    c = Customer(platform["url"], wait_for_wallet=False)
    other_device = login(platform["url"], c.email, PASSWORD)
    nobody = f"nobody-{c.user_id}@example.com"

    # The same answer whether or not the address has an account.
    known = post(platform, "/api/v1/auth/password/forgot", {"email": c.email.upper()})
    unknown = post(platform, "/api/v1/auth/password/forgot", {"email": nobody})
    assert known.status_code == unknown.status_code == 202, (known.text, unknown.text)
    assert known.json() == unknown.json() == {"status": "accepted"}

    token = mailed_link(platform["mail"], c.email, "reset-password")
    [mail] = mails_to(platform, c.email, "Đặt lại mật khẩu")  # Vietnamese by default
    assert "Xin chào Owner" in mail.body and "một lần" in mail.body
    assert platform["mail"].messages(to=nobody) == []
    # Only the token's hash is kept where it is checked.
    resets = platform["identity_db"]["password_resets"]
    assert resets.find_one({"_id": token}) is None and resets.find_one({"user_id": c.user_id})

    # Bad input changes nothing: the link still works afterwards.
    problem(post(platform, "/api/v1/auth/password/reset", {"token": token}), 400)
    problem(
        post(platform, "/api/v1/auth/password/reset", {"token": token, "new_password": "short"}),
        422,
        "password_too_short",
    )
    problem(
        post(
            platform,
            "/api/v1/auth/password/reset",
            {"token": "not-a-token-at-all-0123456789", "new_password": NEW_PASSWORD},
        ),
        422,
        "reset_token_invalid",
    )
    assert login(platform["url"], c.email, PASSWORD)["access_token"]

    done = post(
        platform, "/api/v1/auth/password/reset", {"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "reset" and done.json()["sessions_revoked"] >= 3

    # Every session ended: the old refresh tokens are refused.
    for tokens in (c.tokens, other_device):
        problem(refresh(platform, tokens), 401, "invalid_refresh_token")
    problem(post(platform, "/api/v1/auth/login", {"email": c.email, "password": PASSWORD}), 401)
    assert login(platform["url"], c.email, NEW_PASSWORD)["access_token"]

    # Used up: a second use is refused and changes nothing.
    problem(
        post(platform, "/api/v1/auth/password/reset", {"token": token, "new_password": PASSWORD}),
        422,
        "reset_token_invalid",
    )
    assert login(platform["url"], c.email, NEW_PASSWORD)["access_token"]


def test_an_expired_reset_link_is_refused(platform):
    c = Customer(platform["url"], wait_for_wallet=False)
    assert post(platform, "/api/v1/auth/password/forgot", {"email": c.email}).status_code == 202
    token = mailed_link(platform["mail"], c.email, "reset-password")
    # 30 minutes later (the test moves the link's expiry rather than identity's clock)
    platform["identity_db"]["password_resets"].update_many(
        {"user_id": c.user_id},
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
    )
    problem(
        post(
            platform, "/api/v1/auth/password/reset", {"token": token, "new_password": NEW_PASSWORD}
        ),
        422,
        "reset_token_expired",
    )
    assert login(platform["url"], c.email, PASSWORD)["access_token"]
    assert refresh(platform, c.tokens).status_code == 200  # nothing ended


def test_forgot_password_refuses_malformed_bodies(platform):
    for bad in ({}, {"email": ""}, {"email": 5}, {"email": "a@b.c", "extra": 1}, [1]):
        problem(post(platform, "/api/v1/auth/password/forgot", bad), 400)


# ---------------------------------------------------------------- email verification


def test_an_unverified_account_signs_in_but_cannot_pay_or_invite_until_the_mailed_link(
    platform,
):
    c = Customer(platform["url"], verify_email=False)
    assert c.http.get("/api/v1/me").json()["email_verified"] is False

    # Signed in, but money and invitations wait for the address.
    problem(c.top_up(100_000), 403, "email_unverified")
    problem(c.http.post("/api/v1/invoices/no-such-invoice/pay"), 403, "email_unverified")
    problem(
        c.http.post("/api/v1/invoices/no-such-invoice/payment-confirmation", json={}),
        403,
        "email_unverified",
    )
    invitee = f"staff-{c.user_id}@example.com"
    problem(
        c.http.post("/api/v1/account/users", json={"email": invitee, "role": "staff"}),
        403,
        "email_unverified",
    )
    assert c.http.get("/api/v1/wallet").json()["balance"] == 0  # nothing was created

    token = mailed_link(platform["mail"], c.email, "verify-email")
    [mail] = mails_to(platform, c.email, "Xác nhận địa chỉ email")
    assert c.email in mail.body and "Xin chào Owner" in mail.body

    # A resend mails a new link; both work until one is used.
    assert c.http.post("/api/v1/me/email/verification").status_code == 202
    eventually(
        lambda: len(mails_to(platform, c.email, "Xác nhận địa chỉ email")) == 2,
        timeout=120,
        what="the second verification mail",
    )
    problem(post(platform, "/api/v1/auth/email/verify", {"token": "made-up-token-0123456789"}), 422)
    problem(post(platform, "/api/v1/auth/email/verify", {}), 400)

    verified = post(platform, "/api/v1/auth/email/verify", {"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"email": c.email, "email_verified": True}
    problem(
        post(platform, "/api/v1/auth/email/verify", {"token": token}), 422, "verification_invalid"
    )
    assert c.http.get("/api/v1/me").json()["email_verified"] is True

    # Tokens issued from now on may pay and invite.
    fresh = refresh(platform, c.tokens)
    assert fresh.status_code == 200, fresh.text
    c.http.headers["Authorization"] = f"Bearer {fresh.json()['access_token']}"
    assert c.top_up(100_000).status_code == 201
    invited = c.http.post("/api/v1/account/users", json={"email": invitee, "role": "staff"})
    assert invited.status_code == 201, invited.text


def test_an_expired_verification_link_is_refused(platform):
    c = Customer(platform["url"], wait_for_wallet=False, verify_email=False)
    token = mailed_link(platform["mail"], c.email, "verify-email")
    platform["identity_db"]["email_verifications"].update_many(
        {"user_id": c.user_id},
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
    )
    problem(
        post(platform, "/api/v1/auth/email/verify", {"token": token}), 422, "verification_invalid"
    )
    assert c.http.get("/api/v1/me").json()["email_verified"] is False


# ---------------------------------------------------------------- security notices


def test_password_and_two_factor_changes_are_mailed_to_the_user(platform):
    c = Customer(platform["url"], wait_for_wallet=False)
    changed = c.http.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    eventually(
        lambda: mails_to(platform, c.email, "Mật khẩu của quý khách đã được thay đổi"),
        timeout=120,
        what="the password change notice",
    )

    # A sign-in from another browser is a new device; the one registered with is not.
    other = httpx.post(
        f"{platform['url']}/api/v1/auth/login",
        json={"email": c.email, "password": NEW_PASSWORD},
        headers={"User-Agent": "Mozilla/5.0 (an unknown laptop)"},
        timeout=20,
    )
    assert other.status_code == 200 and other.json()["access_token"], other.text
    [notice] = eventually(
        lambda: mails_to(platform, c.email, "Đăng nhập mới vào tài khoản"),
        timeout=120,
        what="the new device notice",
    )
    assert "an unknown laptop" in notice.body

    app = pyotp.TOTP(c.http.post("/api/v1/me/2fa").json()["secret"])
    assert c.http.post("/api/v1/me/2fa/confirm", json={"code": app.now()}).status_code == 200
    eventually(
        lambda: mails_to(platform, c.email, "Xác thực hai bước đã được bật"),
        timeout=120,
        what="the two-factor on notice",
    )

    def bell() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = c.http.get("/api/v1/notifications").json()["items"]
        templates = {i["template"] for i in items}
        wanted = {"password_changed", "new_device_sign_in", "two_factor_changed"}
        return items if wanted <= templates else []

    items = eventually(bell, timeout=60, what="the notices in the bell")
    assert all(i["category"] == "security" for i in items)
    assert all("token=" not in i["body"] for i in items)  # links never go to the bell
