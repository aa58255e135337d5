"""Token verification against identity's JWKS: key rotation, unknown key ids, guards."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from portal_chassis.auth import JwksVerifier, Principal, staff_guard
from portal_chassis.problems import ProblemError
from portal_chassis.settings import AuthSettings


class Identity:
    """Signs tokens and serves its JWKS; counts how often the JWKS is fetched."""

    def __init__(self) -> None:
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.fetches = 0
        self.rotate("k1")

    def rotate(self, kid: str) -> None:
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())

    def jwks(self, _: httpx.Request) -> httpx.Response:
        self.fetches += 1
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "alg": "ES256", "use": "sig"})
        return httpx.Response(200, json={"keys": keys})

    def token(self, kid: str, key: Any = None) -> str:
        claims = {
            "sub": "u1",
            "account_id": "a1",
            "roles": ["owner"],
            "aud": "portal",
            "iss": "portal-identity",
            "exp": int(time.time()) + 60,
        }
        signer = key or self.keys[kid]
        return jwt.encode(claims, signer, algorithm="ES256", headers={"kid": kid})


def verifier(identity: Identity, min_refresh: float) -> JwksVerifier:
    settings = AuthSettings(jwks_url="http://identity/jwks", jwks_min_refresh_seconds=min_refresh)
    client = httpx.AsyncClient(transport=httpx.MockTransport(identity.jwks))
    return JwksVerifier(settings, client)


async def test_an_unknown_key_id_is_refused_at_once_while_a_refresh_is_throttled() -> None:
    identity = Identity()
    check = verifier(identity, min_refresh=60)
    assert (await check.verify(identity.token("k1"))).account_id == "a1"
    forged = identity.token("nobody-knows", key=ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ProblemError) as refused:
        await check.verify(forged)  # the first one may refresh: keys could have rotated
    assert refused.value.status_code == 401
    fetches = identity.fetches
    started = time.monotonic()
    results = await asyncio.gather(
        *(check.verify(forged) for _ in range(20)), return_exceptions=True
    )
    # Before: each waited for the next allowed refresh (here a minute).
    assert time.monotonic() - started < 20
    assert all(isinstance(r, ProblemError) and r.status_code == 401 for r in results)
    assert identity.fetches == fetches  # and nothing fetched again


async def test_a_rotated_key_is_picked_up_once_a_refresh_is_allowed() -> None:
    identity = Identity()
    check = verifier(identity, min_refresh=0.2)
    await check.verify(identity.token("k1"))
    identity.rotate("k2")
    await asyncio.sleep(0.3)
    assert (await check.verify(identity.token("k2"))).user_id == "u1"


async def test_concurrent_unknown_key_ids_refresh_the_key_set_once() -> None:
    identity = Identity()
    check = verifier(identity, min_refresh=0.2)
    await check.verify(identity.token("k1"))
    identity.rotate("k2")
    await asyncio.sleep(0.3)
    fetches = identity.fetches
    await asyncio.gather(*(check.verify(identity.token("k2")) for _ in range(10)))
    assert identity.fetches == fetches + 1


async def test_identity_down_before_any_key_is_a_503_not_a_401_and_not_one_fetch_each() -> None:
    identity = Identity()
    attempts = 0
    reachable = False

    def jwks(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if not reachable:
            raise httpx.ConnectError("connection refused", request=request)
        return identity.jwks(request)

    settings = AuthSettings(jwks_url="http://identity/jwks", jwks_min_refresh_seconds=0.3)
    check = JwksVerifier(settings, httpx.AsyncClient(transport=httpx.MockTransport(jwks)))
    token = identity.token("k1")
    results = await asyncio.gather(
        *(check.verify(token) for _ in range(10)), return_exceptions=True
    )
    # A valid token is never called invalid because identity is away (a client would
    # sign its user out): "cannot check now", and identity is asked once, not ten times.
    assert all(isinstance(r, ProblemError) and r.status_code == 503 for r in results)
    assert attempts == 1
    reachable = True
    await asyncio.sleep(0.4)
    assert (await check.verify(token)).account_id == "a1"


class _Connection:
    def __init__(self, principal: Principal) -> None:
        self.scope = {"principal": principal}


async def test_the_staff_guard_names_platform_staff_not_an_account_role() -> None:
    # A customer account's own "staff" user is not platform staff: the refusal must not
    # say that a staff role is missing.
    customer_staff = Principal("u1", "a1", frozenset({"staff"}), None, "t")
    with pytest.raises(ProblemError) as refused:
        await staff_guard(_Connection(customer_staff), None)  # type: ignore[arg-type]
    assert refused.value.status_code == 403
    assert "platform staff" in refused.value.detail
