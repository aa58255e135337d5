"""Identity use cases in-process on the real wire server, with a clock the test controls.

Logins, sessions and rotating refresh tokens, signing-key rotation seen through the JWKS
(and by the chassis' JwksVerifier), login throttling, the security log and QR login.
"""

import asyncio
import base64
import json
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.serialization import encode_json
from pydantic import BaseModel

from portal_chassis.auth import JwksVerifier, Principal
from portal_chassis.clock import ManualClock
from portal_chassis.decider import Conflict, DomainError, Forbidden, NotFound
from portal_chassis.eventstore import EventStore
from portal_chassis.problems import ProblemError
from portal_chassis.settings import AuthSettings
from portal_contracts.events.identity import (
    EmailVerificationRequested,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    PasswordResetRequested,
    SecondFactorFailed,
    SecondFactorLocked,
    SessionRevoked,
    TwoFactorDisabled,
    TwoFactorEnabled,
)
from portal_identity.domain import ChallengeGone
from portal_identity.handlers import IdentityService
from portal_identity.schemas import (
    AccountUsersOut,
    DepartmentOut,
    DepartmentsOut,
    EmailStatusOut,
    InvitationOut,
    JwksOut,
    KeyRotationOut,
    MeOut,
    ProfileOut,
    ProfilePatchIn,
    QrApprovedOut,
    QrChallengeOut,
    QrRequestOut,
    QrSignedInOut,
    QrStatusOut,
    RegisteredOut,
    SecondFactorRequiredOut,
    ServiceTokenOut,
    SessionsOut,
    TokensOut,
    TwoFactorDisabledOut,
    TwoFactorEnabledOut,
    TwoFactorSetupOut,
    UserIdsOut,
)
from portal_identity.settings import IdentitySettings
from portal_identity.throttle import email_hash
from portal_identity.tokens import KeyRing, TokenService

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple battery horse 42"
JWKS_URL = "http://identity.test/v1/auth/jwks"
AGENT = "Mozilla/5.0 (test)"
HOME = "198.51.100.10"

REFUSALS = (DomainError, ProblemError)
"""A use case's refusal, or the chassis' (a token checked by the shared verifier)."""


def auth_settings(**overrides) -> AuthSettings:
    values = {
        "jwks_url": JWKS_URL,
        "audience": "portal",
        "issuer": "portal-identity",
        "jwks_cache_seconds": 300.0,
        "jwks_min_refresh_seconds": 0.0,
    }
    return AuthSettings(**{**values, **overrides})


async def build(db, settings: IdentitySettings) -> IdentityService:
    """What portal_identity.main.bootstrap wires, on the test database and a manual clock."""
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    store = EventStore(db)
    await store.setup()
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    keyring = KeyRing(db, verify_window=access_ttl + timedelta(minutes=5))
    tokens = TokenService(
        db,
        keyring,
        auth_settings(),
        access_ttl,
        timedelta(days=settings.refresh_token_days),
        reuse_grace=timedelta(seconds=settings.refresh_reuse_grace_seconds),
    )
    service = IdentityService(store, db, settings, tokens, keyring, clock)
    await service.setup()
    return service


@pytest.fixture
async def identity(mongo_db) -> IdentityService:
    return await build(mongo_db, IdentitySettings(seed_admin=False))


@pytest.fixture
async def strict_identity(mongo_db) -> IdentityService:
    settings = IdentitySettings(
        seed_admin=False,
        login_backoff_after=3,
        account_failures_per_hour=10,
        address_failures_per_hour=1000,
    )
    return await build(mongo_db, settings)


async def register(service: IdentityService, unique: str, who: str = "owner") -> dict[str, str]:
    return await service.register(
        email=f"{who}-{unique}@Example.com",
        password=PASSWORD,
        name="Lan",
        account_name="Lan's shop",
        kind="person",
    )


async def login(service, email, password=PASSWORD, address=HOME, agent=AGENT):
    return await service.login(email, password, address, agent)


def principal_of(service: IdentityService, tokens: dict) -> Principal:
    return service.tokens.verify(tokens["access_token"])


async def refused(awaitable, status: int) -> DomainError | ProblemError:
    with pytest.raises(REFUSALS) as err:
        await awaitable
    assert err.value.status_code == status, (err.value.code, err.value.detail)
    return err.value


def clock_of(service: IdentityService) -> ManualClock:
    assert isinstance(service.clock, ManualClock)
    return service.clock


async def security_log(service: IdentityService, stream: str) -> list:
    return [stored.event for stored in await service.store.read_stream(stream)]


# ---------------------------------------------------------------- login and tokens


async def test_register_and_login_issue_a_verifiable_access_token(identity, unique):
    user = await register(identity, unique)
    assert user["email"] == f"owner-{unique}@example.com"  # normalised
    tokens = await login(identity, f"  OWNER-{unique}@example.com ")
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 15 * 60
    principal = principal_of(identity, tokens)
    assert principal.user_id == user["user_id"]
    assert principal.account_id == user["account_id"]
    assert principal.roles == frozenset({"owner"})
    assert principal.session_id == tokens["session_id"]
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "ES256"
    assert header["kid"] == identity.keyring.signing_key().kid
    assert await identity.tokens.is_active(tokens["session_id"])


async def test_a_wrong_password_or_unknown_email_is_refused_alike(identity, unique):
    await register(identity, unique)
    wrong = await refused(login(identity, f"owner-{unique}@example.com", "wrong password!"), 401)
    unknown = await refused(login(identity, f"nobody-{unique}@example.com"), 401)
    assert wrong.code == unknown.code == "invalid_credentials"
    assert wrong.detail == unknown.detail


async def test_registering_an_email_twice_is_a_conflict(identity, unique):
    await register(identity, unique)
    with pytest.raises(Conflict) as err:
        await identity.register(
            email=f"OWNER-{unique}@example.com",
            password="another good password",
            name="Mallory",
            account_name="Other",
            kind="person",
        )
    assert err.value.code == "email_taken"


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(identity, unique):
    await register(identity, unique)
    first = await login(identity, f"owner-{unique}@example.com")
    second = await identity.refresh(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["session_id"] == first["session_id"]
    assert principal_of(identity, second).session_id == first["session_id"]
    third = await identity.refresh(second["refresh_token"])  # the new one works

    identity.clock.advance(seconds=identity.settings.refresh_reuse_grace_seconds + 1)
    reused = await refused(identity.refresh(first["refresh_token"]), 401)
    assert reused.code == "refresh_token_reused"
    # the newest token of the family is dead too: a thief cannot keep the session
    await refused(identity.refresh(third["refresh_token"]), 401)
    assert not await identity.tokens.is_active(first["session_id"])
    log = await security_log(identity, f"security-{principal_of(identity, first).user_id}")
    revoked = [e for e in log if isinstance(e, SessionRevoked)]
    assert [(e.session_id, e.reason) for e in revoked] == [
        (first["session_id"], "refresh_token_reuse")
    ]


async def test_an_unknown_refresh_token_is_refused(identity, unique):
    err = await refused(identity.refresh("not-a-token-we-ever-issued"), 401)
    assert err.code == "invalid_refresh_token"


async def test_without_grace_concurrent_refreshes_of_one_token_let_exactly_one_through(
    mongo_db, unique
):
    identity = await build(
        mongo_db, IdentitySettings(seed_admin=False, refresh_reuse_grace_seconds=0)
    )
    await register(identity, unique)
    tokens = await login(identity, f"owner-{unique}@example.com")
    results = await asyncio.gather(
        *(identity.refresh(tokens["refresh_token"]) for _ in range(5)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if not isinstance(r, dict)]
    assert len(winners) == 1, results
    assert "access_token" in winners[0]
    assert all(isinstance(r, REFUSALS) and r.status_code == 401 for r in losers), losers


async def test_two_tabs_refreshing_together_both_stay_signed_in(identity, unique):
    """Within the grace, a reuse is another tab of the same browser: no revocation, and
    every tab gets the one successor of the token."""
    await register(identity, unique)
    tokens = await login(identity, f"owner-{unique}@example.com")
    tabs = await asyncio.gather(*(identity.refresh(tokens["refresh_token"]) for _ in range(3)))
    assert {t["session_id"] for t in tabs} == {tokens["session_id"]}
    assert len({(t["refresh_token"], t["access_token"]) for t in tabs}) == 1
    identity.clock.advance(seconds=identity.settings.refresh_reuse_grace_seconds - 1)
    late_tab = await identity.refresh(tokens["refresh_token"])  # still within the grace
    assert late_tab == tabs[0]
    onward = await asyncio.gather(*(identity.refresh(t["refresh_token"]) for t in tabs))
    assert {t["session_id"] for t in onward} == {tokens["session_id"]}
    assert await identity.tokens.is_active(tokens["session_id"])
    log = await security_log(identity, f"security-{principal_of(identity, tokens).user_id}")
    assert not [e for e in log if isinstance(e, SessionRevoked)]


async def test_concurrent_refreshes_within_the_grace_get_one_successor(identity, unique):
    await register(identity, unique)
    tokens = await login(identity, f"owner-{unique}@example.com")
    results = await asyncio.gather(
        *(identity.refresh(tokens["refresh_token"]) for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(r, dict) for r in results), results
    assert len({r["refresh_token"] for r in results}) == 1
    assert len({r["access_token"] for r in results}) == 1
    issued = await identity.tokens.refresh_tokens.count_documents(
        {"session_id": tokens["session_id"]}
    )
    assert issued == 2  # the login's token and its one successor
    # nothing usable at rest: the stored successor is sealed
    stored = await identity.tokens.successors.find_one(
        {"_id": identity.tokens._hash(tokens["refresh_token"])}
    )
    assert results[0]["refresh_token"].encode() not in bytes(stored["sealed"])
    # after the grace, a reuse still revokes the family, successor included
    identity.clock.advance(seconds=identity.settings.refresh_reuse_grace_seconds + 1)
    reused = await refused(identity.refresh(tokens["refresh_token"]), 401)
    assert reused.code == "refresh_token_reused"
    await refused(identity.refresh(results[0]["refresh_token"]), 401)


async def test_the_grace_ends_and_never_revives_a_revoked_session(identity, unique):
    await register(identity, unique)
    email = f"owner-{unique}@example.com"
    # used a moment ago, but the session was logged out since: no tokens
    other = await login(identity, email)
    await identity.refresh(other["refresh_token"])
    await identity.logout(principal_of(identity, other))
    await refused(identity.refresh(other["refresh_token"]), 401)

    tokens = await login(identity, email)
    await identity.refresh(tokens["refresh_token"])
    identity.clock.advance(seconds=identity.settings.refresh_reuse_grace_seconds + 1)
    reused = await refused(identity.refresh(tokens["refresh_token"]), 401)
    assert reused.code == "refresh_token_reused"
    assert not await identity.tokens.is_active(tokens["session_id"])


async def test_expired_tokens_and_long_revoked_sessions_are_purged(identity, unique):
    await register(identity, unique)
    email = f"owner-{unique}@example.com"
    kept = await login(identity, email)
    gone = await login(identity, email)
    await identity.logout(principal_of(identity, gone))
    rotated = await identity.refresh(kept["refresh_token"])
    assert await identity.tokens.purge(identity.clock.now()) == {
        "refresh_token_successors": 0,
        "refresh_tokens": 0,
        "refresh_token_uses": 0,
        "sessions": 0,
    }
    identity.clock.advance(days=identity.settings.refresh_token_days, seconds=1)
    purged = await identity.tokens.purge(identity.clock.now())
    assert purged == {
        "refresh_token_successors": 1,
        "refresh_tokens": 3,
        "refresh_token_uses": 1,
        "sessions": 1,
    }
    err = await refused(identity.refresh(rotated["refresh_token"]), 401)
    assert err.code == "invalid_refresh_token"


async def test_logout_revokes_the_session(identity, unique):
    await register(identity, unique)
    email = f"owner-{unique}@example.com"
    phone = await login(identity, email)
    laptop = await login(identity, email)
    await identity.logout(principal_of(identity, phone))
    assert not await identity.tokens.is_active(phone["session_id"])
    err = await refused(identity.refresh(phone["refresh_token"]), 401)
    assert err.code in ("invalid_refresh_token", "refresh_token_reused")
    # the other device stays logged in
    assert (await identity.refresh(laptop["refresh_token"]))["session_id"] == laptop["session_id"]
    log = await security_log(identity, f"security-{principal_of(identity, phone).user_id}")
    assert [(e.session_id, e.reason) for e in log if isinstance(e, SessionRevoked)] == [
        (phone["session_id"], "logout")
    ]


async def test_changing_the_password_revokes_the_other_sessions_only(identity, unique):
    await register(identity, unique)
    email = f"owner-{unique}@example.com"
    here = await login(identity, email)
    elsewhere = await login(identity, email, address="203.0.113.5")
    principal = principal_of(identity, here)

    with pytest.raises(Forbidden) as wrong:
        await identity.change_password(principal, "not my password", NEW_PASSWORD)
    assert wrong.value.code == "current_password_wrong"
    assert await identity.tokens.is_active(elsewhere["session_id"])

    assert await identity.change_password(principal, PASSWORD, NEW_PASSWORD) == 1
    assert await identity.tokens.is_active(here["session_id"])
    assert not await identity.tokens.is_active(elsewhere["session_id"])
    assert "access_token" in await identity.refresh(here["refresh_token"])
    await refused(identity.refresh(elsewhere["refresh_token"]), 401)

    await refused(login(identity, email, PASSWORD), 401)
    assert (await login(identity, email, NEW_PASSWORD))["session_id"]
    user_log = await identity.store.read_stream(f"user-{principal.user_id}")
    assert user_log[-1].event.event_type == "PasswordChanged"


async def test_my_sessions_are_listed_and_ended_one_or_all_others(identity, unique):
    await register(identity, unique)
    email = f"owner-{unique}@example.com"
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0"
    here = await login(identity, email, agent=chrome)
    clock_of(identity).advance(minutes=5)
    phone = await login(identity, email, address="203.0.113.5", agent="okhttp/4.12 (Android 14)")
    tablet = await login(identity, email, address="unknown", agent="")
    me = principal_of(identity, here)

    listed = SessionsOut.model_validate(
        {"items": (rows := await identity.list_sessions(me)), "total": len(rows)}
    )
    by_id = {s.id: s for s in listed.items}
    assert set(by_id) == {here["session_id"], phone["session_id"], tablet["session_id"]}
    assert by_id[here["session_id"]].current and not by_id[phone["session_id"]].current
    assert (by_id[here["session_id"]].device, by_id[here["session_id"]].ip_address) == (
        "Chrome on Windows",
        HOME,
    )
    assert by_id[phone["session_id"]].device == "Android app on Android"
    assert (by_id[tablet["session_id"]].device, by_id[tablet["session_id"]].ip_address) == (
        None,
        None,
    )
    # A refresh moves "last used": the session in use comes first.
    clock_of(identity).advance(minutes=5)
    here = await identity.refresh(here["refresh_token"])
    first = (await identity.list_sessions(me))[0]
    assert (first["id"], first["last_used_at"]) == (here["session_id"], clock_of(identity).now())

    # Someone else's session, and an unknown one, are missing alike; nothing ends.
    await identity.register(
        email=f"other-{unique}@example.com",
        password=PASSWORD,
        name="Other",
        account_name="Other",
        kind="person",
    )
    other = await login(identity, f"other-{unique}@example.com")
    for session_id in (other["session_id"], "no-such-session"):
        err = await refused(identity.end_session(me, session_id), 404)
        assert err.code == "session_not_found"
    assert await identity.tokens.is_active(other["session_id"])

    await identity.end_session(me, phone["session_id"])
    await refused(identity.refresh(phone["refresh_token"]), 401)
    await refused(identity.end_session(me, phone["session_id"]), 404)  # ended already
    assert phone["session_id"] not in {s["id"] for s in await identity.list_sessions(me)}

    assert await identity.end_other_sessions(me) == 1  # the tablet
    assert [s["id"] for s in await identity.list_sessions(me)] == [here["session_id"]]
    assert "access_token" in await identity.refresh(here["refresh_token"])
    await refused(identity.refresh(tablet["refresh_token"]), 401)
    log = await security_log(identity, f"security-{me.user_id}")
    assert {(e.session_id, e.reason) for e in log if isinstance(e, SessionRevoked)} == {
        (phone["session_id"], "logout"),
        (tablet["session_id"], "logout"),
    }


async def test_a_session_unused_for_the_refresh_lifetime_is_not_listed(identity, unique):
    await register(identity, unique)
    email = f"owner-{unique}@example.com"
    old = await login(identity, email)
    clock_of(identity).advance(days=identity.settings.refresh_token_days, seconds=1)
    now = await login(identity, email)
    # (the token was signed at the test clock's time: read it as it stands)
    me = replace(principal_of(identity, old), session_id=now["session_id"])
    assert [r["id"] for r in await identity.list_sessions(me)] == [now["session_id"]]


async def test_a_role_change_reaches_the_token_at_refresh(identity, unique):
    owner = await register(identity, unique)
    owner_principal = principal_of(identity, await login(identity, f"owner-{unique}@example.com"))
    await identity.invite(owner_principal, f"staff-{unique}@example.com", "staff")
    token = (await mailed(identity, f"staff-{unique}@example.com", "invitation"))["token"]
    await identity.accept_invitation(token, "Minh", NEW_PASSWORD)
    staff_tokens = await login(identity, f"staff-{unique}@example.com", NEW_PASSWORD)
    staff = principal_of(identity, staff_tokens)
    assert (staff.account_id, staff.roles) == (owner["account_id"], frozenset({"staff"}))

    await identity.change_role(owner_principal, staff.user_id, "admin")
    refreshed = principal_of(identity, await identity.refresh(staff_tokens["refresh_token"]))
    assert refreshed.roles == frozenset({"admin"})


async def test_a_removed_user_is_signed_out_and_cannot_sign_in_again(identity, unique):
    owner = await owner_principal(identity, unique)
    email = f"admin-{unique}@example.com"
    await identity.invite(owner, email, "admin")
    token = (await mailed(identity, email, "invitation"))["token"]
    admin_id = (await identity.accept_invitation(token, "Minh", NEW_PASSWORD))["user_id"]
    phone = await login(identity, email, NEW_PASSWORD)
    laptop = await login(identity, email, NEW_PASSWORD)
    admin = principal_of(identity, phone)

    # An admin removes nobody's owner, and nobody removes themselves.
    assert (await refused(identity.remove_user(admin, owner.user_id), 422)).code == (
        "owner_cannot_be_removed"
    )
    assert (await refused(identity.remove_user(admin, admin_id), 422)).code == (
        "cannot_remove_yourself"
    )
    outsider = await owner_principal(identity, f"x{unique}")
    await refused(identity.remove_user(outsider, admin_id), 404)

    await identity.remove_user(owner, admin_id)
    await identity.remove_user(owner, admin_id)  # a retry changes nothing
    for tokens in (phone, laptop):
        assert not await identity.tokens.is_active(tokens["session_id"])
        await refused(identity.refresh(tokens["refresh_token"]), 401)
    await refused(login(identity, email, NEW_PASSWORD), 401)
    await refused(identity.me(admin), 404)
    assert email not in {u["email"] for u in await identity.list_users(owner)}
    log = await security_log(identity, f"security-{admin_id}")
    ended = {e.session_id for e in log if isinstance(e, SessionRevoked)}
    assert ended == {phone["session_id"], laptop["session_id"]}

    # The address is free again: invited anew, it is a new user.
    again = await identity.invite(owner, email, "staff")
    assert again["user_id"] != admin_id


async def test_a_withdrawn_invitation_cannot_be_accepted(identity, unique):
    owner = await owner_principal(identity, unique)
    email = f"staff-{unique}@example.com"
    invited = await identity.invite(owner, email, "staff")
    token = (await mailed(identity, email, "invitation"))["token"]
    await identity.remove_user(owner, invited["user_id"])
    await refused(identity.accept_invitation(token, "Minh", NEW_PASSWORD), 404)
    assert email not in {u["email"] for u in await identity.list_users(owner)}


# ---------------------------------------------------------------- signing keys


async def test_key_rotation_keeps_old_tokens_valid_until_the_verify_window_ends(identity, unique):
    await register(identity, unique)
    email = f"owner-{unique}@example.com"
    clock = clock_of(identity)
    before = await login(identity, email)
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]

    new_kid = await identity.keyring.rotate(clock.now())
    assert new_kid != old_kid
    assert {k["kid"] for k in identity.keyring.jwks()["keys"]} == {old_kid, new_kid}
    assert all(k["alg"] == "ES256" and "d" not in k for k in identity.keyring.jwks()["keys"])
    assert principal_of(identity, before).session_id == before["session_id"]
    after = await login(identity, email)
    assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid

    # still published while a token it signed may be alive (access TTL + 5 min)
    clock.advance(minutes=15 + 4)
    await identity.keyring.load(clock.now())
    assert {k["kid"] for k in identity.keyring.jwks()["keys"]} == {old_kid, new_kid}

    clock.advance(minutes=1, seconds=1)
    await identity.keyring.load(clock.now())
    assert [k["kid"] for k in identity.keyring.jwks()["keys"]] == [new_kid]
    assert (await refused(_verify(identity, before["access_token"]), 401)).code == "invalid_token"
    assert principal_of(identity, after).session_id == after["session_id"]


async def _verify(service: IdentityService, token: str) -> Principal:
    return service.tokens.verify(token)


class JwksSource:
    """A tiny in-process JWKS endpoint serving the key ring, counting its hits."""

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring
        self.hits = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.hits += 1
        return httpx.Response(200, json=self.keyring.jwks())

    def verifier(self, **settings) -> JwksVerifier:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return JwksVerifier(auth_settings(**settings), client)


def claims_for(principal: Principal, **overrides) -> dict:
    now = datetime.now(UTC)
    return {
        "sub": principal.user_id,
        "account_id": principal.account_id,
        "roles": sorted(principal.roles),
        "sid": principal.session_id,
        "aud": "portal",
        "iss": "portal-identity",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=15)).timestamp()),
        **overrides,
    }


async def test_jwks_verifier_follows_a_key_rotation(identity, unique):
    user = await register(identity, unique)
    email = f"owner-{unique}@example.com"
    source = JwksSource(identity.keyring)
    verifier = source.verifier()
    before = await login(identity, email)

    principal = await verifier.verify(before["access_token"])
    assert (principal.user_id, principal.account_id) == (user["user_id"], user["account_id"])
    assert principal.roles == frozenset({"owner"})
    assert principal.session_id == before["session_id"]
    await verifier.verify(before["access_token"])
    assert source.hits == 1  # cached

    await identity.keyring.rotate(clock_of(identity).now())
    after = await login(identity, email)
    assert (await verifier.verify(after["access_token"])).session_id == after["session_id"]
    assert source.hits == 2  # the unknown kid made it fetch the key set again
    assert (await verifier.verify(before["access_token"])).user_id == user["user_id"]
    assert source.hits == 2


async def test_jwks_verifier_coalesces_refetches_for_unknown_kids(identity, unique):
    await register(identity, unique)
    tokens = await login(identity, f"owner-{unique}@example.com")
    source = JwksSource(identity.keyring)
    verifier = source.verifier(jwks_min_refresh_seconds=0.5)
    await verifier.verify(tokens["access_token"])
    claims = claims_for(principal_of(identity, tokens))
    foreign = ec.generate_private_key(ec.SECP256R1())
    forged = [
        jwt.encode(claims, foreign, algorithm="ES256", headers={"kid": f"k-made-up-{i}"})
        for i in range(8)
    ]
    started = time.monotonic()
    results = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)
    elapsed = time.monotonic() - started
    assert all(isinstance(r, REFUSALS) and r.status_code == 401 for r in results), results
    # unknown kids refetch the key set at most once per jwks_min_refresh_seconds
    assert source.hits - 1 <= 1 + elapsed / 0.5, (source.hits, elapsed)
    assert source.hits - 1 < len(forged)
    assert (await verifier.verify(tokens["access_token"])).session_id == tokens["session_id"]


async def test_a_token_with_an_unknown_kid_does_not_stall_valid_ones(identity, unique):
    await register(identity, unique)
    tokens = await login(identity, f"owner-{unique}@example.com")
    verifier = JwksSource(identity.keyring).verifier(jwks_min_refresh_seconds=1.0)
    await verifier.verify(tokens["access_token"])
    foreign = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(
        claims_for(principal_of(identity, tokens)),
        foreign,
        algorithm="ES256",
        headers={"kid": "k-made-up"},
    )
    attack = asyncio.create_task(verifier.verify(forged))
    for _ in range(5):
        await asyncio.sleep(0)  # let the forged token reach its key-set refresh
    started = time.monotonic()
    principal = await verifier.verify(tokens["access_token"])
    waited = time.monotonic() - started
    with pytest.raises(REFUSALS):
        await attack
    assert principal.session_id == tokens["session_id"]
    assert waited < 0.5, f"a valid token waited {waited:.2f} s behind a forged one"


async def test_jwks_verifier_rejects_bad_tokens(identity, unique, mongo_db):
    await register(identity, unique)
    tokens = await login(identity, f"owner-{unique}@example.com")
    principal = principal_of(identity, tokens)
    verifier = JwksSource(identity.keyring).verifier()
    assert (await verifier.verify(tokens["access_token"])).user_id == principal.user_id
    key = identity.keyring.signing_key()

    # expired (issued by identity itself an hour ago)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    expired = identity.tokens.access_token(
        principal.user_id, principal.account_id, ["owner"], "sid", an_hour_ago
    )
    assert (await refused(verifier.verify(expired), 401)).code == "token_expired"

    # signed by the right key, for another audience
    elsewhere = TokenService(
        mongo_db,
        identity.keyring,
        auth_settings(audience="another-system"),
        timedelta(minutes=15),
        timedelta(days=1),
    )
    other_audience = elsewhere.access_token(
        principal.user_id, principal.account_id, ["owner"], "sid", datetime.now(UTC)
    )
    assert (await refused(verifier.verify(other_audience), 401)).code == "invalid_token"

    # the payload edited after signing (a customer making themselves platform admin)
    header, payload, signature = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["platform_admin"]
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{edited}.{signature}"
    assert (await refused(verifier.verify(tampered), 401)).code == "invalid_token"

    # a foreign key claiming a kid the JWKS knows
    foreign = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims_for(principal), foreign, algorithm="ES256", headers={"kid": key.kid})
    assert (await refused(verifier.verify(forged), 401)).code == "invalid_token"

    # no signature at all
    unsigned = jwt.encode(claims_for(principal), "", algorithm="none", headers={"kid": key.kid})
    assert (await refused(verifier.verify(unsigned), 401)).code == "invalid_token"

    # identity's own check refuses them the same way
    for bad in (expired, other_audience, tampered, forged, unsigned, "not.a.jwt"):
        await refused(_verify(identity, bad), 401)


# ---------------------------------------------------------------- throttling


async def test_back_off_after_repeated_failures_from_one_address(strict_identity, unique):
    service = strict_identity
    await register(service, unique)
    email = f"owner-{unique}@example.com"
    attacker = "192.0.2.66"
    for _ in range(3):
        assert (await refused(login(service, email, "wrong guess!", attacker), 401)).code == (
            "invalid_credentials"
        )
    throttled = await refused(login(service, email, PASSWORD, attacker), 429)
    assert throttled.code == "too_many_attempts"
    wait = throttled.extra["retry_after"]
    assert isinstance(wait, int) and wait > 0

    # the real user on another address is not slowed down
    assert (await login(service, email, PASSWORD, HOME))["access_token"]

    clock_of(service).advance(seconds=wait)
    assert (await login(service, email, PASSWORD, attacker))["access_token"]


async def test_the_account_cap_does_not_lock_out_a_known_address(strict_identity, unique):
    service = strict_identity
    await register(service, unique)
    email = f"owner-{unique}@example.com"
    await login(service, email, PASSWORD, HOME)  # the owner's usual address

    for i in range(10):  # a distributed attack: one guess per address
        await refused(login(service, email, f"guess number {i}", f"10.0.0.{i}"), 401)
    blocked = await refused(login(service, email, PASSWORD, "203.0.113.99"), 429)
    assert blocked.extra["retry_after"] > 0
    await refused(login(service, email, "guess number 11", "10.0.1.1"), 429)

    tokens = await login(service, email, PASSWORD, HOME)
    assert principal_of(service, tokens).session_id == tokens["session_id"]


async def test_concurrent_guesses_are_throttled_like_sequential_ones(strict_identity, unique):
    service = strict_identity
    await register(service, unique)
    email = f"owner-{unique}@example.com"
    results = await asyncio.gather(
        *(login(service, email, f"guess {i:04}", "192.0.2.77") for i in range(12)),
        return_exceptions=True,
    )
    statuses = sorted(r.status_code for r in results if isinstance(r, REFUSALS))
    assert len(statuses) == 12
    # back-off starts after 3 failures: at most 3 passwords may actually be checked
    assert statuses.count(401) <= 3, statuses


# ---------------------------------------------------------------- security log


async def test_logins_are_recorded_with_address_and_user_agent(identity, unique):
    user = await register(identity, unique)
    email = f"owner-{unique}@example.com"
    await refused(login(identity, email, "wrong password!", "192.0.2.1", "curl/8"), 401)
    tokens = await login(identity, email, PASSWORD, "192.0.2.2", "Firefox/140")

    log = await security_log(identity, f"security-{user['user_id']}")
    failed = [e for e in log if isinstance(e, LoginFailed)]
    succeeded = [e for e in log if isinstance(e, LoginSucceeded)]
    assert len(failed) == 1 and len(succeeded) == 1
    assert failed[0].user_id == user["user_id"]
    assert failed[0].account_id == user["account_id"]
    assert failed[0].reason == "invalid_credentials"
    assert failed[0].email_hash == email_hash(email)
    assert (failed[0].client_address, failed[0].user_agent) == ("192.0.2.1", "curl/8")
    assert succeeded[0].method == "password"
    assert succeeded[0].session_id == tokens["session_id"]
    assert (succeeded[0].client_address, succeeded[0].user_agent) == ("192.0.2.2", "Firefox/140")
    assert "wrong password!" not in json.dumps([e.model_dump(mode="json") for e in log])


async def test_a_failed_login_for_an_unknown_email_has_no_user(identity, unique):
    email = f"ghost-{unique}@example.com"
    await refused(login(identity, email, "whatever it is", "192.0.2.3", "curl/8"), 401)
    log = await security_log(identity, f"security-anon-{email_hash(email)}")
    assert len(log) == 1
    event = log[0]
    assert isinstance(event, LoginFailed)
    assert event.user_id is None and event.account_id is None
    assert event.reason == "invalid_credentials"
    assert (event.client_address, event.user_agent) == ("192.0.2.3", "curl/8")
    assert email not in json.dumps(event.model_dump(mode="json"))


async def test_a_throttled_attempt_is_in_the_users_security_log(strict_identity, unique):
    service = strict_identity
    user = await register(service, unique)
    email = f"owner-{unique}@example.com"
    for _ in range(3):
        await refused(login(service, email, "wrong guess!", "192.0.2.9"), 401)
    await refused(login(service, email, PASSWORD, "192.0.2.9"), 429)
    log = await security_log(service, f"security-{user['user_id']}")
    reasons = [e.reason for e in log if isinstance(e, LoginFailed)]
    assert reasons == ["invalid_credentials"] * 3 + ["throttled"]


# ---------------------------------------------------------------- invitations


async def mailed(service: IdentityService, to: str, kind: str) -> dict:
    """The newest mail of `kind` queued for `to` (what the mailer would send)."""
    docs = await service.outbox.mails.find({"to": to, "kind": kind}).to_list()
    assert docs, (to, kind)
    return max(docs, key=lambda d: d["created_at"])


async def owner_principal(service: IdentityService, unique: str) -> Principal:
    await register(service, unique)
    return principal_of(service, await login(service, f"owner-{unique}@example.com"))


async def sign_up(service: IdentityService, email: str, password: str = NEW_PASSWORD, **kw):
    return await service.sign_up(
        email=email,
        password=password,
        name="X",
        account_name="X",
        kind="person",
        client_address=kw.get("address", HOME),
        user_agent=AGENT,
    )


async def test_the_invitation_token_goes_to_the_mailbox_never_to_the_inviter(identity, unique):
    principal = await owner_principal(identity, unique)
    invited_email = f"invitee-{unique}@example.com"
    invitation = await identity.invite(principal, invited_email, "admin")
    assert "invitation_token" not in invitation and "token" not in str(invitation)
    mail = await mailed(identity, invited_email, "invitation")
    assert mail["user_id"] == invitation["user_id"] and mail["token"]
    # only the hash is kept where tokens are checked
    assert await identity.invitations.find_one({"_id": mail["token"]}) is None
    accepted = await identity.accept_invitation(mail["token"], "Minh", NEW_PASSWORD)
    assert accepted["user_id"] == invitation["user_id"]
    tokens = await login(identity, invited_email, NEW_PASSWORD)
    me = await identity.me(principal_of(identity, tokens))
    assert me.email_verified  # the mailed token proved the address


async def test_an_unaccepted_invitation_never_blocks_registering_the_address(identity, unique):
    owner = await register(identity, unique)
    principal = principal_of(identity, await login(identity, f"owner-{unique}@example.com"))
    invited_email = f"invitee-{unique}@example.com"
    invitation = await identity.invite(principal, invited_email, "admin")
    token = (await mailed(identity, invited_email, "invitation"))["token"]
    # the mailbox's owner registers right away, with their own password
    mine = await sign_up(identity, invited_email)
    assert mine["account_id"] != owner["account_id"]
    assert mine["user_id"] != invitation["user_id"]
    tokens = await login(identity, invited_email, NEW_PASSWORD)
    assert principal_of(identity, tokens).account_id == mine["account_id"]
    # the invitation is void: nobody joins the inviting account with it
    with pytest.raises(NotFound):
        await identity.accept_invitation(token, "Squatter", "squatter password 1")
    await refused(login(identity, invited_email, "squatter password 1"), 401)
    listed = {u["email"] for u in await identity.list_users(principal)}
    assert invited_email not in listed


async def test_registering_an_address_in_use_answers_like_a_new_one(identity, unique):
    owner = await register(identity, unique)
    email = f"owner-{unique}@example.com"
    twin = await sign_up(identity, email.upper(), "another good password")
    fresh = await sign_up(identity, f"fresh-{unique}@example.com", "another good password")
    assert set(twin) == set(fresh) == {"account_id", "user_id", "email", *TOKEN_KEYS}
    assert twin["email"] == email
    assert owner["user_id"] != twin["user_id"] and owner["account_id"] != twin["account_id"]
    # nothing changed for the owner; the twin's password and tokens open nothing
    assert principal_of(identity, await login(identity, email)).user_id == owner["user_id"]
    await refused(login(identity, email, "another good password"), 401)
    assert await mailed(identity, email, "registration_attempt")
    assert jwt.get_unverified_header(twin["access_token"]) == jwt.get_unverified_header(
        fresh["access_token"]
    )
    assert (await refused(_verify(identity, twin["access_token"]), 401)).code == "invalid_token"
    await refused(identity.refresh(twin["refresh_token"]), 401)
    assert not await identity.tokens.is_active(twin["session_id"])


TOKEN_KEYS = {
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "refresh_expires_in",
    "session_id",
}


async def test_registration_signs_the_new_user_in(identity, unique):
    email = f"new-{unique}@example.com"
    registered = await sign_up(identity, email)
    login_answer = await login(identity, email, NEW_PASSWORD)
    assert set(registered) - {"account_id", "user_id", "email"} == set(login_answer) == TOKEN_KEYS
    principal = principal_of(identity, registered)
    assert (principal.user_id, principal.account_id) == (
        registered["user_id"],
        registered["account_id"],
    )
    assert principal.session_id == registered["session_id"] != login_answer["session_id"]
    assert await identity.tokens.is_active(registered["session_id"])
    assert (await identity.me(principal)).email == email
    refreshed = await identity.refresh(registered["refresh_token"])
    assert refreshed["session_id"] == registered["session_id"]
    log = await security_log(identity, f"security-{registered['user_id']}")
    opened = [e for e in log if isinstance(e, LoginSucceeded)]
    assert [(e.session_id, e.user_agent, e.client_address) for e in opened[:1]] == [
        (registered["session_id"], AGENT, HOME)
    ]
    # the address is still to be verified: the link is mailed as before
    assert await mailed(identity, email, "email_verification")


async def test_inviting_an_address_with_an_account_elsewhere_answers_like_a_free_one(
    identity, unique
):
    other = await register(identity, unique, who="other")
    principal = await owner_principal(identity, unique)
    taken = await identity.invite(principal, f"other-{unique}@example.com", "staff")
    free = await identity.invite(principal, f"free-{unique}@example.com", "staff")
    assert set(taken) == set(free)
    assert (taken["status"], free["status"]) == ("invited", "invited")
    assert taken["user_id"] != other["user_id"]
    assert await identity.emails.find_one({"_id": f"other-{unique}@example.com"}) is not None
    assert await mailed(identity, f"other-{unique}@example.com", "invitation_for_existing_address")
    # the other account's owner is untouched
    tokens = await login(identity, f"other-{unique}@example.com")
    assert principal_of(identity, tokens).account_id == other["account_id"]


async def test_a_repeated_invitation_can_be_accepted_and_used_to_log_in(identity, unique):
    principal = await owner_principal(identity, unique)
    invited_email = f"invitee-{unique}@example.com"
    await identity.invite(principal, invited_email, "staff")
    first = (await mailed(identity, invited_email, "invitation"))["token"]
    with pytest.raises(Conflict):  # the first one is still valid
        await identity.invite(principal, invited_email, "staff")
    clock_of(identity).advance(days=7, seconds=1)  # it expired unused: invite again
    again = await identity.invite(principal, invited_email, "staff")
    token = (await mailed(identity, invited_email, "invitation"))["token"]
    assert token != first
    with pytest.raises(REFUSALS):
        await identity.accept_invitation(first, "Minh", NEW_PASSWORD)
    accepted = await identity.accept_invitation(token, "Minh", NEW_PASSWORD)
    assert accepted["user_id"] == again["user_id"]
    tokens = await login(identity, invited_email, NEW_PASSWORD)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["sub"] == again["user_id"]  # (the clock moved: the token is "from the future")


async def test_an_invitation_is_accepted_once_and_expires(identity, unique):
    principal = await owner_principal(identity, unique)
    await identity.invite(principal, f"a-{unique}@example.com", "staff")
    await identity.invite(principal, f"b-{unique}@example.com", "staff")
    used = (await mailed(identity, f"a-{unique}@example.com", "invitation"))["token"]
    late = (await mailed(identity, f"b-{unique}@example.com", "invitation"))["token"]
    await identity.accept_invitation(used, "A", NEW_PASSWORD)
    with pytest.raises(Conflict):
        await identity.accept_invitation(used, "A", NEW_PASSWORD)
    clock_of(identity).advance(days=7, seconds=1)
    with pytest.raises(REFUSALS) as err:
        await identity.accept_invitation(late, "B", NEW_PASSWORD)
    assert err.value.code == "invitation_expired"
    await refused(login(identity, f"b-{unique}@example.com", NEW_PASSWORD), 401)


# ---------------------------------------------------------------- email verification


async def test_email_verification_with_the_mailed_token(identity, unique):
    email = f"owner-{unique}@example.com"
    user = await sign_up(identity, email)
    me = principal_of(identity, await login(identity, email, NEW_PASSWORD))
    assert not (await identity.me(me)).email_verified
    token = (await mailed(identity, email, "email_verification"))["token"]
    assert await identity.verifications.find_one({"_id": token}) is None  # kept hashed
    # another user cannot use it, nor can a made-up token
    other = await sign_up(identity, f"other-{unique}@example.com")
    them = principal_of(
        identity, await login(identity, f"other-{unique}@example.com", NEW_PASSWORD)
    )
    assert them.user_id == other["user_id"]
    for who, what in ((them, token), (me, "made-up-token-0123456789")):
        with pytest.raises(REFUSALS) as err:
            await identity.verify_email(who, what)
        assert err.value.code == "verification_invalid"
    assert await identity.verify_email(me, token) == {"email": email, "email_verified": True}
    assert identity.profile(await identity.me(me))["email_verified"] is True
    assert me.user_id == user["user_id"]
    with pytest.raises(REFUSALS):  # used up
        await identity.verify_email(me, token)
    # a resend after verification sends nothing
    assert (await identity.resend_verification(me))["email_verified"] is True


async def test_a_verification_link_expires_and_can_be_sent_again(identity, unique):
    email = f"owner-{unique}@example.com"
    await sign_up(identity, email)
    me = principal_of(identity, await login(identity, email, NEW_PASSWORD))
    old = (await mailed(identity, email, "email_verification"))["token"]
    clock_of(identity).advance(days=7, seconds=1)
    with pytest.raises(REFUSALS):
        await identity.verify_email(me, old)
    assert await identity.purge_links(clock_of(identity).now()) >= 2  # the link and its mail
    await identity.resend_verification(me)
    new = (await mailed(identity, email, "email_verification"))["token"]
    assert (await identity.verify_email(me, new))["email_verified"] is True


# ---------------------------------------------------------------- QR login


async def test_qr_login_delivers_tokens_exactly_once(identity, unique):
    user = await register(identity, unique)
    phone = await login(identity, f"owner-{unique}@example.com")
    challenge = await identity.create_qr("198.51.100.20", "Chrome on desktop")
    assert challenge["qr_payload"] == f"portal-login:{challenge['id']}"
    assert challenge["qr_svg"].lstrip().startswith("<svg")

    pending = await identity.poll_qr(challenge["id"], challenge["poll_token"], "1.2.3.4", "x")
    assert pending["status"] == "pending" and "access_token" not in pending

    approved = await identity.approve_qr(principal_of(identity, phone), challenge["id"], "Pixel 8")
    assert approved["status"] == "approved"
    results = await asyncio.gather(
        *(
            identity.poll_qr(
                challenge["id"], challenge["poll_token"], "198.51.100.20", "Chrome on desktop"
            )
            for _ in range(5)
        ),
        return_exceptions=True,
    )
    delivered = [r for r in results if isinstance(r, dict) and "access_token" in r]
    assert len(delivered) == 1, results
    others = [r for r in results if not (isinstance(r, dict) and "access_token" in r)]
    assert all(isinstance(r, REFUSALS) and r.code == "challenge_used" for r in others), others

    web = principal_of(identity, delivered[0])
    assert (web.user_id, web.account_id) == (user["user_id"], user["account_id"])
    assert web.session_id == delivered[0]["session_id"] != phone["session_id"]
    assert "access_token" in await identity.refresh(delivered[0]["refresh_token"])
    log = await security_log(identity, f"security-{user['user_id']}")
    qr_logins = [e for e in log if isinstance(e, LoginSucceeded) and e.method == "qr"]
    assert [(e.session_id, e.client_address) for e in qr_logins] == [
        (web.session_id, "198.51.100.20")
    ]
    with pytest.raises(REFUSALS):  # a later poll gets nothing more
        await identity.poll_qr(challenge["id"], challenge["poll_token"], "1.2.3.4", "x")


async def test_the_app_sees_who_asked_before_it_approves(identity, unique):
    await register(identity, unique)
    phone = principal_of(identity, await login(identity, f"owner-{unique}@example.com"))
    asked_at = clock_of(identity).now()
    challenge = await identity.create_qr("198.51.100.20", "Firefox 133 on Linux")
    seen = await identity.qr_request(phone, challenge["id"])
    assert seen == {
        "id": challenge["id"],
        "status": "pending",
        "requested_at": asked_at,
        "expires_at": challenge["expires_at"],
        "client_address": "198.51.100.20",
        "user_agent": "Firefox 133 on Linux",
    }
    with pytest.raises(NotFound):
        await identity.qr_request(phone, uuid.uuid4().hex)
    await identity.approve_qr(phone, challenge["id"], "Pixel 8")
    assert (await identity.qr_request(phone, challenge["id"]))["status"] == "approved"
    # once approved, it is nobody else's business
    await register(identity, unique, who="other")
    other = principal_of(identity, await login(identity, f"other-{unique}@example.com"))
    with pytest.raises(NotFound):
        await identity.qr_request(other, challenge["id"])
    late = await identity.create_qr("198.51.100.21", "Chrome")
    clock_of(identity).advance(seconds=121)
    assert (await identity.qr_request(other, late["id"]))["status"] == "expired"
    await identity.logout(other)
    err = await refused(identity.qr_request(other, late["id"]), 401)
    assert err.code == "session_ended"


async def test_a_long_poll_answers_as_soon_as_the_app_approves(identity, unique):
    await register(identity, unique)
    phone = await login(identity, f"owner-{unique}@example.com")
    challenge = await identity.create_qr("198.51.100.20", "Chrome")
    started = time.monotonic()
    quiet = await identity.poll_qr(challenge["id"], challenge["poll_token"], "1.2.3.4", "x", wait=1)
    assert quiet["status"] == "pending" and 0.9 <= time.monotonic() - started < 6

    async def approve_later() -> None:
        await asyncio.sleep(0.6)
        await identity.approve_qr(principal_of(identity, phone), challenge["id"], "Pixel 8")

    started = time.monotonic()
    answer, _ = await asyncio.gather(
        identity.poll_qr(challenge["id"], challenge["poll_token"], "1.2.3.4", "x", wait=10),
        approve_later(),
    )
    assert answer["status"] == "completed" and "access_token" in answer
    assert time.monotonic() - started < 8  # well before the full 10 s


async def test_qr_poll_needs_the_right_poll_token(identity, unique):
    await register(identity, unique)
    phone = await login(identity, f"owner-{unique}@example.com")
    challenge = await identity.create_qr("198.51.100.20", "Chrome")
    await identity.approve_qr(principal_of(identity, phone), challenge["id"], "Pixel 8")
    with pytest.raises(NotFound):
        await identity.poll_qr(challenge["id"], "guessed-" + uuid.uuid4().hex, "6.6.6.6", "x")
    with pytest.raises(NotFound):
        await identity.poll_qr(uuid.uuid4().hex, challenge["poll_token"], "6.6.6.6", "x")
    # the wrong guesses did not consume the login
    done = await identity.poll_qr(challenge["id"], challenge["poll_token"], "198.51.100.20", "c")
    assert "access_token" in done


async def test_an_expired_qr_code_is_gone(identity, unique):
    await register(identity, unique)
    phone = await login(identity, f"owner-{unique}@example.com")
    challenge = await identity.create_qr("198.51.100.20", "Chrome")
    approved_one = await identity.create_qr("198.51.100.21", "Chrome")
    await identity.approve_qr(principal_of(identity, phone), approved_one["id"], "Pixel 8")
    clock_of(identity).advance(seconds=121)
    with pytest.raises(ChallengeGone) as err:
        await identity.approve_qr(principal_of(identity, phone), challenge["id"], "Pixel 8")
    assert err.value.status_code == 410
    for item in (challenge, approved_one):
        with pytest.raises(ChallengeGone) as err:
            await identity.poll_qr(item["id"], item["poll_token"], "198.51.100.20", "Chrome")
        assert err.value.status_code == 410


async def test_a_logged_out_session_cannot_approve_a_qr_code(identity, unique):
    await register(identity, unique)
    phone = await login(identity, f"owner-{unique}@example.com")
    principal = principal_of(identity, phone)
    await identity.logout(principal)
    challenge = await identity.create_qr("198.51.100.20", "Chrome")
    err = await refused(identity.approve_qr(principal, challenge["id"], "Pixel 8"), 401)
    assert err.code == "session_ended"
    status = await identity.poll_qr(challenge["id"], challenge["poll_token"], "1.2.3.4", "x")
    assert status["status"] == "pending"


async def test_finished_throttle_windows_are_purged_but_current_ones_kept(strict_identity, unique):
    service = strict_identity
    await register(service, unique)
    email = f"owner-{unique}@example.com"
    for _ in range(2):
        await refused(login(service, email, "wrong guess!", "192.0.2.77"), 401)
    slots, hints = service.throttle.slots, service.throttle.hints
    before = await slots.count_documents({}), await hints.count_documents({})
    assert before[0] > 0 and before[1] > 0
    now = clock_of(service).now()
    assert await service.throttle.purge(now) == 0  # the current window stays
    assert (await slots.count_documents({}), await hints.count_documents({})) == before
    assert await service.throttle.purge(now + timedelta(hours=3)) == sum(before)
    assert await slots.count_documents({}) == 0 and await hints.count_documents({}) == 0


# ---------------------------------------------------------------- two-factor login


async def test_two_factor_login_codes_count_once_and_recovery_codes_work_once(identity, unique):
    user = await register(identity, unique)
    email = f"owner-{unique}@example.com"
    me = principal_of(identity, await login(identity, email))
    setup = await identity.start_two_factor(me)
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and "<svg" in setup["qr_svg"]
    app = pyotp.TOTP(setup["secret"])
    clock = clock_of(identity)

    with pytest.raises(REFUSALS) as wrong:
        await identity.confirm_two_factor(me, "000000" if app.at(clock.now()) != "000000" else "1")
    assert wrong.value.code == "invalid_code"
    enabled = await identity.confirm_two_factor(me, app.at(clock.now()))
    recovery = enabled["recovery_codes"]
    assert len(recovery) == 10
    with pytest.raises(Conflict):
        await identity.start_two_factor(me)  # on already

    challenge = await login(identity, email)
    assert challenge["mfa_required"] is True and "access_token" not in challenge
    # the code that confirmed the setup was used: it does not log in again
    replayed = await refused(
        identity.login_second_factor(challenge["mfa_token"], app.at(clock.now()), HOME, AGENT),
        401,
    )
    assert (replayed.code, replayed.extra["attempts_left"]) == ("invalid_code", 4)
    clock.advance(seconds=30)
    tokens = await identity.login_second_factor(
        challenge["mfa_token"], app.at(clock.now()), HOME, AGENT
    )
    assert "access_token" in tokens
    # a challenge signs in once
    await refused(
        identity.login_second_factor(challenge["mfa_token"], recovery[0], HOME, AGENT), 401
    )

    again = await login(identity, email)
    assert "access_token" in await identity.login_second_factor(
        again["mfa_token"], recovery[0].upper(), HOME, AGENT
    )
    spent = await login(identity, email)
    await refused(identity.login_second_factor(spent["mfa_token"], recovery[0], HOME, AGENT), 401)

    # five wrong codes end the challenge, even for the right code afterwards
    for _ in range(4):
        await refused(identity.login_second_factor(spent["mfa_token"], "999999", HOME, AGENT), 401)
    clock.advance(seconds=30)
    dead = await refused(
        identity.login_second_factor(spent["mfa_token"], app.at(clock.now()), HOME, AGENT), 401
    )
    assert dead.code == "invalid_login_challenge"

    # concurrent submissions of one right code: one session
    racing = await login(identity, email)
    results = await asyncio.gather(
        *(
            identity.login_second_factor(racing["mfa_token"], app.at(clock.now()), HOME, AGENT)
            for _ in range(4)
        ),
        return_exceptions=True,
    )
    assert len([r for r in results if isinstance(r, dict)]) == 1, results

    log = await security_log(identity, f"security-{user['user_id']}")
    assert any(isinstance(e, TwoFactorEnabled) for e in log)
    assert sum(isinstance(e, SecondFactorFailed) for e in log) >= 6
    assert sum(isinstance(e, LoginSucceeded) and e.second_factor for e in log) == 3


async def test_turning_two_factor_off_needs_the_password_and_a_code(identity, unique):
    user = await register(identity, unique)
    email = f"owner-{unique}@example.com"
    me = principal_of(identity, await login(identity, email))
    app = pyotp.TOTP((await identity.start_two_factor(me))["secret"])
    clock = clock_of(identity)
    await identity.confirm_two_factor(me, app.at(clock.now()))
    clock.advance(seconds=30)
    with pytest.raises(Forbidden):
        await identity.disable_two_factor(me, "not the password", app.at(clock.now()))
    with pytest.raises(REFUSALS):
        await identity.disable_two_factor(me, PASSWORD, "123")
    assert await identity.mfa.is_enabled(user["user_id"])
    assert await identity.disable_two_factor(me, PASSWORD, app.at(clock.now())) == {
        "two_factor": False
    }
    assert "access_token" in await login(identity, email)  # one step again
    log = await security_log(identity, f"security-{user['user_id']}")
    assert any(isinstance(e, TwoFactorDisabled) for e in log)


async def two_factor_user(service: IdentityService, unique: str) -> tuple[dict, str, pyotp.TOTP]:
    """A registered user with 2FA on; the clock is past the step of the confirming code."""
    user = await register(service, unique)
    email = f"owner-{unique}@example.com"
    me = principal_of(service, await login(service, email))
    app = pyotp.TOTP((await service.start_two_factor(me))["secret"])
    await service.confirm_two_factor(me, app.at(clock_of(service).now()))
    clock_of(service).advance(seconds=30)
    return user, email, app


def wrong_code(app: pyotp.TOTP, service: IdentityService) -> str:
    return "000000" if app.at(clock_of(service).now()) != "000000" else "000001"


async def test_concurrent_wrong_codes_on_one_challenge_are_checked_five_times_at_most(
    identity, unique
):
    user, email, app = await two_factor_user(identity, unique)
    challenge = await login(identity, email)
    wrong = wrong_code(app, identity)
    results = await asyncio.gather(
        *(
            identity.login_second_factor(challenge["mfa_token"], wrong, HOME, AGENT)
            for _ in range(25)
        ),
        return_exceptions=True,
    )
    assert all(isinstance(r, REFUSALS) and r.status_code == 401 for r in results), results
    codes = sorted(r.code for r in results if isinstance(r, REFUSALS))
    # the sixth wrong code, sequentially, gets invalid_login_challenge: so do the extras
    assert codes == ["invalid_code"] * 5 + ["invalid_login_challenge"] * 20, codes
    log = await security_log(identity, f"security-{user['user_id']}")
    assert sum(isinstance(e, SecondFactorFailed) for e in log) == 5
    late = await refused(
        identity.login_second_factor(
            challenge["mfa_token"], app.at(clock_of(identity).now()), HOME, AGENT
        ),
        401,
    )
    assert late.code == "invalid_login_challenge"


async def test_wrong_codes_across_challenges_lock_the_second_factor_for_a_while(identity, unique):
    user, email, app = await two_factor_user(identity, unique)
    clock = clock_of(identity)
    wrong = wrong_code(app, identity)
    # 4 fresh challenges x 5 concurrent wrong codes: 20 guesses, at most 10 are checked
    challenges = [await login(identity, email) for _ in range(4)]
    results = await asyncio.gather(
        *(
            identity.login_second_factor(c["mfa_token"], wrong, HOME, AGENT)
            for c in challenges
            for _ in range(5)
        ),
        return_exceptions=True,
    )
    assert all(isinstance(r, REFUSALS) for r in results), results
    assert sum(r.code == "invalid_code" for r in results) == 10, [r.code for r in results]
    locked = [r for r in results if r.code == "second_factor_locked"]
    assert locked and all(r.status_code == 429 for r in locked)
    assert all(0 < r.extra["retry_after"] <= 15 * 60 for r in locked)
    log = await security_log(identity, f"security-{user['user_id']}")
    assert sum(isinstance(e, SecondFactorFailed) for e in log) == 10
    locks = [e for e in log if isinstance(e, SecondFactorLocked)]
    assert len(locks) == 1 and locks[0].failures == 10
    assert locks[0].locked_until == clock.now() + timedelta(minutes=15)

    # the right code does not sign in while the lock lasts
    clock.advance(minutes=10)
    fresh = await login(identity, email)
    err = await refused(
        identity.login_second_factor(fresh["mfa_token"], app.at(clock.now()), HOME, AGENT), 429
    )
    assert err.code == "second_factor_locked" and 0 < err.extra["retry_after"] <= 300
    # ...and does once it has passed
    clock.advance(minutes=5, seconds=1)
    after = await login(identity, email)
    tokens = await identity.login_second_factor(
        after["mfa_token"], app.at(clock.now()), HOME, AGENT
    )
    assert await identity.tokens.is_active(tokens["session_id"])


async def test_right_codes_do_not_count_towards_the_lock(identity, unique):
    user, email, app = await two_factor_user(identity, unique)
    clock = clock_of(identity)
    window = 15 * 60  # start at a window's beginning: all that follows falls in one window
    clock.advance(seconds=window - int(clock.now().timestamp()) % window)
    for _ in range(9):  # nine wrong codes (one below the limit) and nine right ones
        challenge = await login(identity, email)
        wrong = wrong_code(app, identity)
        await refused(identity.login_second_factor(challenge["mfa_token"], wrong, HOME, AGENT), 401)
        clock.advance(seconds=30)
        tokens = await identity.login_second_factor(
            challenge["mfa_token"], app.at(clock.now()), HOME, AGENT
        )
        assert "access_token" in tokens
    log = await security_log(identity, f"security-{user['user_id']}")
    assert not [e for e in log if isinstance(e, SecondFactorLocked)]


# ---------------------------------------------------------------- registration throttle


async def test_registrations_are_throttled_per_address_and_per_client(mongo_db, unique):
    service = await build(
        mongo_db,
        IdentitySettings(
            seed_admin=False,
            registrations_per_address_per_hour=4,
            registrations_per_email_per_hour=3,
        ),
    )
    email = f"target-{unique}@example.com"
    await sign_up(service, email, address="192.0.2.50")
    for _ in range(2):  # an address in use and a weak password both count
        await sign_up(service, email, address="192.0.2.51")
    with pytest.raises(REFUSALS):
        await sign_up(service, f"other-{unique}@example.com", "aaaaaaaa", address="192.0.2.52")
    err = await refused(sign_up(service, email, address="192.0.2.53"), 429)
    assert err.code == "too_many_registrations"
    assert 0 < err.extra["retry_after"] <= 3600

    spammer = "192.0.2.60"
    for n in range(4):
        await sign_up(service, f"spam{n}-{unique}@example.com", address=spammer)
    await refused(sign_up(service, f"spam9-{unique}@example.com", address=spammer), 429)
    # somebody else is not slowed down
    assert await sign_up(service, f"real-{unique}@example.com", address="192.0.2.61")
    clock_of(service).advance(hours=1)
    assert await sign_up(service, f"later-{unique}@example.com", address=spammer)


# ---------------------------------------------------------------- the typed answers


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def same_json(model: type[BaseModel], answer: dict) -> None:
    """What the route sends now == what it sent when it returned the use case's dict:
    no key lost, none added, the same values on the wire."""
    assert model.model_validate(answer).model_dump(mode="json") == json.loads(encode_json(answer))


async def test_every_answer_keeps_its_keys(mongo_db, unique):
    service = await build(
        mongo_db, IdentitySettings(service_clients={"billing": "billing-secret-1"})
    )
    clock = clock_of(service)
    admin = principal_of(service, await login(service, "admin@portal.local", "admin-password-1"))
    email = f"owner-{unique}@example.com"
    registered = await sign_up(service, email)
    same_json(RegisteredOut, registered)
    same_json(RegisteredOut, await sign_up(service, email.upper()))  # an address in use
    tokens = await login(service, email, NEW_PASSWORD)
    same_json(TokensOut, tokens)
    same_json(TokensOut, await service.refresh(tokens["refresh_token"]))
    me = principal_of(service, tokens)
    user = await service.me(me)
    same_json(MeOut, {**service.profile(user), "two_factor": False, "time_zone": "UTC"})
    same_json(ProfileOut, await service.update_profile(me, ProfilePatchIn(phone="+84 90 1234567")))
    same_json(ProfileOut, await service.upload_logo(me, PNG))
    same_json(EmailStatusOut, await service.resend_verification(me))
    token = (await mailed(service, email, "email_verification"))["token"]
    same_json(EmailStatusOut, await service.verify_email(me, token))

    app = pyotp.TOTP((setup := await service.start_two_factor(me))["secret"])
    same_json(TwoFactorSetupOut, setup)
    same_json(TwoFactorEnabledOut, await service.confirm_two_factor(me, app.at(clock.now())))
    challenge = await login(service, email, NEW_PASSWORD)
    same_json(SecondFactorRequiredOut, challenge)
    clock.advance(seconds=30)
    same_json(
        TokensOut,
        await service.login_second_factor(challenge["mfa_token"], app.at(clock.now()), HOME, AGENT),
    )
    clock.advance(seconds=30)
    same_json(
        TwoFactorDisabledOut,
        await service.disable_two_factor(me, NEW_PASSWORD, app.at(clock.now())),
    )

    qr = await service.create_qr(HOME, AGENT)
    same_json(QrChallengeOut, qr)
    same_json(QrStatusOut, await service.poll_qr(qr["id"], qr["poll_token"], HOME, AGENT))
    same_json(QrRequestOut, await service.qr_request(me, qr["id"]))
    same_json(QrApprovedOut, await service.approve_qr(me, qr["id"], "Pixel 8"))
    same_json(QrSignedInOut, await service.poll_qr(qr["id"], qr["poll_token"], HOME, AGENT))

    invited = f"invitee-{unique}@example.com"
    same_json(InvitationOut, await service.invite(me, invited, "staff"))
    same_json(AccountUsersOut, {"items": (rows := await service.list_users(me)), "total": 2})
    assert {r["status"] for r in rows} == {"active", "invited"}
    mail = await mailed(service, invited, "invitation")
    accepted = await service.accept_invitation(mail["token"], "Minh", NEW_PASSWORD)
    same_json(UserIdsOut, accepted)
    same_json(ProfileOut, await service.change_role(me, accepted["user_id"], "admin"))

    same_json(ServiceTokenOut, service.service_token("billing", "billing-secret-1"))
    same_json(JwksOut, service.keyring.jwks())
    same_json(KeyRotationOut, await service.rotate_keys(admin))
    same_json(DepartmentOut, await service.departments.put(admin, "legal", "Legal"))
    same_json(DepartmentsOut, await service.departments_listing(admin))
    staff = await service.create_staff(
        admin,
        email=f"agent-{unique}@example.com",
        name="Agent",
        password=NEW_PASSWORD,
        platform_roles=("support_agent",),
        department="legal",
    )
    same_json(UserIdsOut, staff)


async def test_staff_rules_are_domain_errors(identity, unique):
    customer = await owner_principal(identity, unique)
    with pytest.raises(Forbidden):
        await identity.departments_listing(customer)
    with pytest.raises(Forbidden):
        await identity.rotate_keys(customer)
    with pytest.raises(Forbidden):
        await identity.create_staff(
            customer,
            email=f"x-{unique}@example.com",
            name="X",
            password=NEW_PASSWORD,
            platform_roles=("support_agent",),
            department=None,
        )


# ---------------------------------------------------------------- forgotten passwords, link mails

MAILER = Principal("service:notifications", "platform", frozenset({"service"}), None, "t")


async def reset_token(identity: IdentityService, email: str) -> str:
    await identity.forgot_password(email)
    return str((await mailed(identity, email.lower(), "password_reset"))["token"])


async def test_a_reset_link_sets_the_password_once_and_ends_every_session(identity, unique):
    user = await register(identity, unique)
    email = f"owner-{unique}@example.com"
    sessions = [await login(identity, email) for _ in range(2)]
    token = await reset_token(identity, email.upper())
    assert await identity.resets.find_one({"_id": token}) is None  # kept hashed
    [requested] = [
        e
        for e in await security_log(identity, f"security-{user['user_id']}")
        if isinstance(e, PasswordResetRequested)
    ]
    assert "token" not in requested.model_dump_json()  # the event names the mail only

    # a policy failure changes nothing and leaves the link usable
    with pytest.raises(DomainError) as err:
        await identity.reset_password(token, "short")
    assert err.value.code == "password_too_short"
    assert await identity.reset_password(token, NEW_PASSWORD) == 2
    for tokens in sessions:
        await refused(identity.refresh(tokens["refresh_token"]), 401)
    await refused(login(identity, email), 401)
    assert await login(identity, email, NEW_PASSWORD)
    with pytest.raises(DomainError) as err:
        await identity.reset_password(token, PASSWORD)
    assert err.value.code == "reset_token_invalid"
    user_log = await security_log(identity, f"user-{user['user_id']}")
    assert any(isinstance(e, PasswordChanged) and e.via == "reset" for e in user_log)


async def test_a_reset_link_expires_after_thirty_minutes(identity, unique):
    await register(identity, unique)
    email = f"owner-{unique}@example.com"
    token = await reset_token(identity, email)
    clock_of(identity).advance(minutes=30, seconds=1)
    with pytest.raises(DomainError) as err:
        await identity.reset_password(token, NEW_PASSWORD)
    assert err.value.code == "reset_token_expired"
    assert await login(identity, email)  # unchanged


async def test_an_unknown_address_gets_no_mail_and_a_flood_is_cut(identity, unique):
    await identity.forgot_password(f"nobody-{unique}@example.com")
    assert await identity.outbox.mails.count_documents({"to": f"nobody-{unique}@example.com"}) == 0
    await register(identity, unique)
    email = f"owner-{unique}@example.com"
    for _ in range(identity.settings.password_resets_per_hour + 3):
        await identity.forgot_password(email)
    sent = await identity.outbox.mails.count_documents({"to": email, "kind": "password_reset"})
    assert sent == identity.settings.password_resets_per_hour


async def test_only_the_mail_sender_reads_a_link_mail(identity, unique):
    email = f"owner-{unique}@example.com"
    user = await sign_up(identity, email)
    [requested] = [
        e
        for e in await security_log(identity, f"security-{user['user_id']}")
        if isinstance(e, EmailVerificationRequested)
    ]
    mail = await identity.link_mail(MAILER, requested.mail_id)
    assert (mail["kind"], mail["to"], mail["language"]) == ("email_verification", email, "vi")
    assert mail["token"] == (await mailed(identity, email, "email_verification"))["token"]
    me = principal_of(identity, await login(identity, email, NEW_PASSWORD))
    billing = Principal("service:billing", "platform", frozenset({"service"}), None, "t")
    for caller in (me, billing):
        with pytest.raises(Forbidden):
            await identity.link_mail(caller, requested.mail_id)
    with pytest.raises(NotFound):
        await identity.link_mail(MAILER, "no-such-mail")
    clock_of(identity).advance(days=7, seconds=1)
    with pytest.raises(NotFound):
        await identity.link_mail(MAILER, requested.mail_id)


async def test_an_unverified_user_may_not_invite_and_its_tokens_say_so(identity, unique):
    email = f"owner-{unique}@example.com"
    await sign_up(identity, email)
    tokens = await login(identity, email, NEW_PASSWORD)
    me = principal_of(identity, tokens)
    assert not me.email_verified
    with pytest.raises(REFUSALS) as err:
        await identity.invite(me, f"staff-{unique}@example.com", "staff")
    assert (err.value.status_code, err.value.code) == (403, "email_unverified")
    token = (await mailed(identity, email, "email_verification"))["token"]
    assert (await identity.verify_email_link(token))["email_verified"] is True
    assert await identity.invite(me, f"staff-{unique}@example.com", "staff")
    assert principal_of(identity, await identity.refresh(tokens["refresh_token"])).email_verified
