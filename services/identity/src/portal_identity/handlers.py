"""Identity use cases: each turns a request into commands and runs them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

import segno
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.auth import Principal
from portal_chassis.blobs import BlobStore, sniff
from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner
from portal_chassis.decider import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    TooLarge,
    TooMany,
    Unauthenticated,
    UnsupportedContent,
)
from portal_chassis.eventstore import CommitMetadata, EventStore
from portal_chassis.logging import get_logger
from portal_chassis.mongo import ensure_indexes, replace_by_id
from portal_chassis.projection import insert_once
from portal_chassis.reference import ReferenceList
from portal_contracts.events.identity import (
    AccountKind,
    EmailVerificationRequested,
    LoginFailed,
    LoginSucceeded,
    PasswordResetRequested,
    QrLoginApproved,
    SecondFactorFailed,
    SecondFactorLocked,
    SessionRevoked,
    TwoFactorDisabled,
    TwoFactorEnabled,
)
from portal_identity import domain
from portal_identity.devices import device_of
from portal_identity.domain import ActiveUser
from portal_identity.mfa import CHALLENGE_TTL, MAX_ATTEMPTS, FailureLimits, TwoFactorStore
from portal_identity.outbox import Outbox
from portal_identity.passwords import check_policy, hash_password, verify_password
from portal_identity.schemas import ProfilePatchIn
from portal_identity.settings import IdentitySettings
from portal_identity.throttle import LoginThrottle, ThrottleLimits, email_hash
from portal_identity.tokens import KeyRing, TokenService

log = get_logger(__name__)

MAX_QR_WAIT_SECONDS = 10
"""Longest QR long poll: under the gateway's upstream timeout (15 s by default)."""
QR_WAIT_STEP_SECONDS = 0.5
MAX_LOGO_BYTES = 1024 * 1024
DEFAULT_DEPARTMENTS = ("technical", "billing", "sales")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IdentityService:
    def __init__(
        self,
        store: EventStore,
        db: AsyncDatabase[dict[str, Any]],
        settings: IdentitySettings,
        tokens: TokenService,
        keyring: KeyRing,
        clock: Clock,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.store = store
        self.db = db
        self.settings = settings
        self.tokens = tokens
        self.keyring = keyring
        self.clock = clock
        self.new_id = new_id
        self.users: CommandRunner[domain.UserCommand, domain.UserState] = CommandRunner(
            store, domain.user_decider, "user"
        )
        self.accounts: CommandRunner[domain.AccountCommand, Any] = CommandRunner(
            store, domain.account_decider, "account"
        )
        self.qr: CommandRunner[domain.QrCommand, domain.QrState] = CommandRunner(
            store, domain.qr_decider, "qr"
        )
        self.emails = db["emails"]
        self.credentials = db["credentials"]
        self.invitations = db["invitations"]
        self.departments = ReferenceList(
            db["departments"], "department", {d: d for d in DEFAULT_DEPARTMENTS}
        )
        self.qr_secrets = db["qr_secrets"]
        self.mfa = TwoFactorStore(
            db,
            FailureLimits(
                settings.second_factor_failures,
                timedelta(minutes=settings.second_factor_window_minutes),
                timedelta(minutes=settings.second_factor_lock_minutes),
            ),
        )
        self.blobs = BlobStore(db, "logos")
        self.throttle = LoginThrottle(
            db,
            ThrottleLimits(
                settings.login_backoff_after,
                settings.login_backoff_cap_seconds,
                settings.account_failures_per_hour,
                settings.address_failures_per_hour,
                settings.registrations_per_address_per_hour,
                settings.registrations_per_email_per_hour,
            ),
        )
        self.verifications = db["email_verifications"]
        self.resets = db["password_resets"]
        self.reset_uses = db["password_reset_uses"]
        self.outbox = Outbox(db)

    async def setup(self) -> None:
        await ensure_indexes(
            self.credentials, [IndexModel([("account_id", ASCENDING)], name="account")]
        )
        await ensure_indexes(self.emails, [IndexModel([("account_id", ASCENDING)], name="account")])
        await ensure_indexes(self.resets, [IndexModel([("user_id", ASCENDING)], name="user")])
        await self.throttle.setup()
        await self.mfa.setup()
        await self.outbox.setup()
        await self.blobs.setup()
        await self.tokens.setup()
        await self.keyring.load(self.clock.now())
        await self.departments.setup()
        if self.settings.seed_admin:
            await self.seed_platform_admin()

    def _meta(self, account_id: str | None, actor: str | None) -> CommitMetadata:
        return CommitMetadata.current(tenant=account_id, actor=actor)

    # ------------------------------------------------------------ registration

    async def _reserve_email(
        self, email: str, user_id: str, account_id: str, purpose: str = "pending"
    ) -> dict[str, Any]:
        """Claim an email for a registration ("pending") or an invitation ("invited").

        A registration that died half-way leaves a "pending" claim, resumed after 10
        minutes by a registration of the same email. An unaccepted invitation never blocks
        a registration: the registration takes the address over and the invitation is void
        (its acceptance finds the claim gone). Otherwise an invitation's claim is only taken
        over by a new invitation from the same account.
        """
        now = self.clock.now()
        try:
            await self.emails.insert_one(
                {
                    "_id": email,
                    "user_id": user_id,
                    "account_id": account_id,
                    "status": purpose,
                    "reserved_at": now,
                }
            )
            return {"user_id": user_id, "account_id": account_id}
        except DuplicateKeyError:
            doc = await self.emails.find_one({"_id": email})
            stale = doc is not None and doc["reserved_at"] < now - timedelta(minutes=10)
            if doc and stale and doc["status"] == purpose == "pending":
                return {"user_id": doc["user_id"], "account_id": doc["account_id"]}
            if doc and doc["status"] == purpose == "invited" and doc["account_id"] == account_id:
                return {"user_id": doc["user_id"], "account_id": doc["account_id"]}
            if doc and doc["status"] == "invited" and purpose == "pending":
                taken = await self.emails.replace_one(
                    {"_id": email, "status": "invited", "user_id": doc["user_id"]},
                    {
                        "user_id": user_id,
                        "account_id": account_id,
                        "status": purpose,
                        "reserved_at": now,
                    },
                )
                if taken.modified_count == 1:
                    await self.invitations.delete_many({"user_id": doc["user_id"]})
                    return {"user_id": user_id, "account_id": account_id}
            raise Conflict("email_taken", "an account with this email exists already") from None

    async def register(
        self,
        *,
        email: str,
        password: str,
        name: str,
        account_name: str,
        kind: AccountKind,
        actor: str | None = None,
        platform_roles: tuple[str, ...] = (),
        department: str | None = None,
        account_id: str | None = None,
        role: str = "owner",
        verified: bool = True,
    ) -> dict[str, str]:
        """Create a user (and for an owner, the account). `verified`: the address counts as
        proved (staff and the seeded admin, created by whoever runs the platform); the public
        self-registration passes False and mails a link instead."""
        email = normalise_email(email)
        check_policy(password, email)
        ids = await self._reserve_email(email, self.new_id(), account_id or self.new_id())
        user_id, account_id = ids["user_id"], ids["account_id"]
        now = self.clock.now()
        await replace_by_id(
            self.credentials,
            user_id,
            {
                "email": email,
                "account_id": account_id,
                "password_hash": await hash_password(password),
                "updated_at": now,
            },
        )
        if role == "owner":
            await self.accounts.run(
                domain.account_stream(account_id),
                domain.RegisterAccount(
                    account_id=account_id,
                    kind=kind,
                    name=account_name,
                    owner_user_id=user_id,
                    email=email,
                    now=now,
                ),
                metadata=self._meta(account_id, actor or user_id),
            )
        await self.users.run(
            domain.user_stream(user_id),
            domain.RegisterUser(
                user_id=user_id,
                account_id=account_id,
                email=email,
                name=name,
                role=role,
                platform_roles=platform_roles,
                department=department,
                now=now,
            ),
            metadata=self._meta(account_id, actor or user_id),
        )
        if verified:
            await self.users.run(
                domain.user_stream(user_id),
                domain.VerifyEmail(email=email, now=now),
                metadata=self._meta(account_id, actor or user_id),
            )
        await self.emails.update_one({"_id": email}, {"$set": {"status": "active"}})
        return {"account_id": account_id, "user_id": user_id, "email": email}

    async def sign_up(
        self,
        *,
        email: str,
        password: str,
        name: str,
        account_name: str,
        kind: AccountKind,
        client_address: str,
        user_agent: str,
    ) -> dict[str, Any]:
        """Public self-registration, signed in at once: throttled, silent about addresses
        in use.

        The new user gets the tokens a login gives (identity does not hold sessions back
        until the address is verified; the verification link is mailed all the same). An
        address that has an account gets an answer of the same shape (ids that belong to
        nothing and decoy tokens that open nothing), after the same password hashing; its
        owner is mailed instead. The answer itself does not tell whether an address has
        an account; trying its tokens does, the price of signing in without verification.
        """
        email = normalise_email(email)
        now = self.clock.now()
        wait = await self.throttle.registration(email, client_address, now)
        if wait > 0:
            raise TooMany(
                "too_many_registrations", "too many registrations; try later", retry_after=wait
            )
        check_policy(password, email)
        try:
            result = await self.register(
                email=email,
                password=password,
                name=name,
                account_name=account_name,
                kind=kind,
                verified=False,
            )
        except Conflict as exc:
            if exc.code != "email_taken":
                raise
            await hash_password(password)  # the time a registration takes
            await self.outbox.queue("registration_attempt", email, now, now + timedelta(days=1))
            ids = {"account_id": self.new_id(), "user_id": self.new_id(), "email": email}
            return {**ids, **self.tokens.decoy(ids["user_id"], ids["account_id"], now)}
        user = await self._user(result["user_id"])
        assert user is not None  # registered just now
        await self._send_verification(user, now)
        return {**result, **await self._open_session(user, "password", client_address, user_agent)}

    async def _send_verification(self, user: ActiveUser, now: datetime) -> None:
        expires = now + timedelta(days=self.settings.email_verification_days)
        await self._mail_link(user, "email_verification", self.verifications, expires, now)

    async def _mail_link(
        self,
        user: ActiveUser,
        kind: Literal["email_verification", "password_reset"],
        links: AsyncCollection[dict[str, Any]],
        expires: datetime,
        now: datetime,
    ) -> None:
        """A one-time link to the user's address: its hash in `links` (where it is
        checked), the token in the outgoing mail, an event naming the mail (no token)."""
        token = secrets.token_urlsafe(32)
        await links.insert_one(
            {
                "_id": _digest(token),
                "user_id": user.user_id,
                "email": user.email,
                "expires_at": expires,
            }
        )
        mail_id = await self.outbox.queue(
            kind, user.email, now, expires, token=token, user_id=user.user_id
        )
        event = (
            EmailVerificationRequested if kind == "email_verification" else PasswordResetRequested
        )
        await self._security_log(
            user.user_id,
            event(
                user_id=user.user_id,
                account_id=user.account_id,
                mail_id=mail_id,
                expires_at=expires,
                occurred_at=now,
            ),
        )

    async def resend_verification(self, principal: Principal) -> dict[str, Any]:
        user = await self.me(principal)
        if not user.email_verified:
            await self._send_verification(user, self.clock.now())
        return {"email": user.email, "email_verified": user.email_verified}

    async def verify_email(self, principal: Principal, token: str) -> dict[str, Any]:
        """Confirm the address with the token mailed to it (signed in as its user)."""
        doc = await self.verifications.find_one({"_id": _digest(token)})
        if doc is None or doc["user_id"] != principal.user_id:
            raise DomainError("verification_invalid", "this link is not valid any more")
        return await self._verify(doc)

    async def verify_email_link(self, token: str) -> dict[str, Any]:
        """Confirm an address with the token alone (the mailed link, opened anywhere): the
        token went to that mailbox only, so holding it is the proof."""
        doc = await self.verifications.find_one({"_id": _digest(token)})
        if doc is None:
            raise DomainError("verification_invalid", "this link is not valid any more")
        return await self._verify(doc)

    async def _verify(self, doc: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        if doc["expires_at"] < now:
            raise DomainError("verification_invalid", "this link is not valid any more")
        user = await self._user(doc["user_id"])
        if user is None:
            raise DomainError("verification_invalid", "this link is not valid any more")
        outcome = await self.users.run(
            domain.user_stream(user.user_id),
            domain.VerifyEmail(email=doc["email"], now=now),
            metadata=self._meta(user.account_id, user.user_id),
        )
        await self.verifications.delete_many({"user_id": user.user_id})
        assert isinstance(outcome.state, ActiveUser)
        return {"email": outcome.state.email, "email_verified": outcome.state.email_verified}

    async def purge_links(self, now: datetime) -> int:
        """Expired verification and reset links and the mails that carried them."""
        gone = await self.verifications.delete_many({"expires_at": {"$lt": now}})
        resets = await self.resets.delete_many({"expires_at": {"$lt": now}})
        # A used link is remembered until it would have expired anyway.
        horizon = now - timedelta(minutes=self.settings.password_reset_minutes)
        await self.reset_uses.delete_many({"at": {"$lt": horizon}})
        return gone.deleted_count + resets.deleted_count + await self.outbox.purge(now)

    # ------------------------------------------------------------ forgotten passwords

    async def forgot_password(self, email: str) -> None:
        """Mail a single-use reset link if the address has an account; answered alike
        either way (the caller learns nothing), and at most a few mails per hour."""
        email = normalise_email(email)
        now = self.clock.now()
        claim = await self.emails.find_one({"_id": email, "status": "active"})
        user = await self._user(claim["user_id"]) if claim else None
        if user is None:
            return
        recent = await self.outbox.count(email, "password_reset", now - timedelta(hours=1))
        if recent >= self.settings.password_resets_per_hour:
            log.info("password reset mail withheld: too many this hour", user_id=user.user_id)
            return
        expires = now + timedelta(minutes=self.settings.password_reset_minutes)
        await self._mail_link(user, "password_reset", self.resets, expires, now)

    async def reset_password(self, token: str, new_password: str) -> int:
        """Set a new password with a mailed reset token, once; every session of the user
        ends (their refresh tokens are refused). Returns how many sessions ended."""
        now = self.clock.now()
        digest = _digest(token)
        doc = await self.resets.find_one({"_id": digest})
        user = await self._user(doc["user_id"]) if doc else None
        if doc is None or user is None or user.email != doc["email"]:
            raise DomainError("reset_token_invalid", "this reset link is not valid (any more)")
        if doc["expires_at"] < now:
            raise DomainError("reset_token_expired", "this reset link has expired")
        check_policy(new_password, user.email)  # refused before the token is used up
        # One use, decided by a unique insert (atomic on FerretDB, unlike findAndModify).
        if not await insert_once(self.reset_uses, {"_id": digest, "at": now}):
            raise DomainError("reset_token_invalid", "this reset link is not valid (any more)")
        await self.resets.delete_many({"user_id": user.user_id})  # older links die too
        await self.credentials.update_one(
            {"_id": user.user_id},
            {"$set": {"password_hash": await hash_password(new_password), "updated_at": now}},
        )
        await self.users.run(
            domain.user_stream(user.user_id),
            domain.RecordPasswordChange(now=now, via="reset"),
            metadata=self._meta(user.account_id, user.user_id),
        )
        # The link went to the address: it is proved as well.
        await self.users.run(
            domain.user_stream(user.user_id),
            domain.VerifyEmail(email=user.email, now=now),
            metadata=self._meta(user.account_id, user.user_id),
        )
        return await self._revoke_all(user.user_id, user.account_id, "password_changed")

    async def link_mail(self, principal: Principal, mail_id: str) -> dict[str, Any]:
        """A queued mail with its link token, for the mail sender only (a service token of
        one of `mail_clients`): the token leaves identity only into the mail."""
        allowed = {f"service:{client}" for client in self.settings.mail_clients}
        if "service" not in principal.roles or principal.user_id not in allowed:
            raise Forbidden("forbidden", "only the mail sender reads queued mail")
        doc = await self.outbox.mails.find_one({"_id": mail_id})
        if doc is None or not doc.get("token") or doc["expires_at"] < self.clock.now():
            raise NotFound("mail_not_found", "no such mail (or its link has expired)")
        user = await self._user(doc["user_id"])
        return {
            "id": doc["_id"],
            "kind": doc["kind"],
            "to": doc["to"],
            "token": doc["token"],
            "expires_at": doc["expires_at"],
            "name": user.name if user else doc["to"],
            "language": user.language if user else "vi",
        }

    async def seed_platform_admin(self) -> None:
        email = normalise_email(self.settings.admin_email)
        if await self.emails.find_one({"_id": email, "status": "active"}):
            return
        try:
            await self.register(
                email=email,
                password=self.settings.admin_password,
                name="Platform admin",
                account_name="Platform",
                kind="platform",
                platform_roles=("platform_admin",),
                account_id=domain.PLATFORM_ACCOUNT,
                actor="system:seed",
            )
            log.info("seeded the platform admin", email=email)
        except (Conflict, DomainError) as exc:
            log.warning("platform admin not seeded", reason=str(exc))

    # ------------------------------------------------------------ login and tokens

    async def _user(self, user_id: str) -> ActiveUser | None:
        state, _ = await self.users.load(domain.user_stream(user_id))
        return state if isinstance(state, ActiveUser) else None

    async def roles_of(self, user_id: str) -> list[str] | None:
        user = await self._user(user_id)
        return None if user is None else user.token_roles()

    async def login(
        self, email: str, password: str, client_address: str, user_agent: str
    ) -> dict[str, Any]:
        email = normalise_email(email)
        now = self.clock.now()
        claim = await self.emails.find_one({"_id": email, "status": "active"})
        wait = await self.throttle.begin(email, client_address, now)
        if wait > 0:
            await self._security_log(
                claim["user_id"] if claim else None,
                LoginFailed(
                    email_hash=email_hash(email),
                    user_id=claim["user_id"] if claim else None,
                    account_id=claim["account_id"] if claim else None,
                    reason="throttled",
                    client_address=client_address,
                    user_agent=user_agent,
                    occurred_at=now,
                ),
            )
            raise TooMany(
                "too_many_attempts",
                "too many failed logins; try again later",
                retry_after=wait,
            )
        creds = await self.credentials.find_one({"_id": claim["user_id"]}) if claim else None
        valid = await verify_password(creds["password_hash"] if creds else None, password)
        user = await self._user(claim["user_id"]) if (valid and claim) else None
        if user is None:
            await self._security_log(
                claim["user_id"] if claim else None,
                LoginFailed(
                    email_hash=email_hash(email),
                    user_id=claim["user_id"] if claim else None,
                    account_id=claim["account_id"] if claim else None,
                    reason="invalid_credentials",
                    client_address=client_address,
                    user_agent=user_agent,
                    occurred_at=now,
                ),
            )
            raise Unauthenticated("invalid_credentials", "the email or password is wrong")
        await self.throttle.succeeded(email, client_address, now)
        if await self.mfa.is_enabled(user.user_id):
            return {
                "mfa_required": True,
                "mfa_token": await self.mfa.open_challenge(user.user_id, now),
                "expires_in": int(CHALLENGE_TTL.total_seconds()),
            }
        return await self._open_session(user, "password", client_address, user_agent)

    async def login_second_factor(
        self, mfa_token: str, code: str, client_address: str, user_agent: str
    ) -> dict[str, Any]:
        """The second step of a login with 2FA: the code from the app, or a recovery code.

        A code is checked only after it took a slot on its challenge (five per challenge)
        and one of the user's slots (wrong codes per window, any challenge): concurrent
        guesses get no more checks than sequential ones.
        """
        now = self.clock.now()
        attempt = await self.mfa.take_attempt(mfa_token, now)
        user = await self._user(attempt.user_id) if attempt else None
        if attempt is None or user is None:
            raise Unauthenticated(
                "invalid_login_challenge", "this sign-in expired or was used; sign in again"
            )
        locked = await self.mfa.locked_for(user.user_id, now)
        slot = None if locked else await self.mfa.take_user_slot(user.user_id, now)
        if slot is None:
            raise TooMany(
                "second_factor_locked",
                "too many wrong codes; two-factor sign-in is paused for this account",
                retry_after=locked
                or await self._lock_second_factor(user, now, client_address, user_agent),
            )
        if not await self.mfa.verify(user.user_id, code, now):
            attempts = await self.mfa.failed(mfa_token, attempt)
            await self._security_log(
                user.user_id,
                SecondFactorFailed(
                    user_id=user.user_id,
                    account_id=user.account_id,
                    client_address=client_address,
                    user_agent=user_agent,
                    attempts=attempts,
                    occurred_at=now,
                ),
            )
            if slot + 1 >= self.mfa.limits.per_window:  # that was the last wrong code allowed
                await self._lock_second_factor(user, now, client_address, user_agent)
            raise Unauthenticated(
                "invalid_code",
                "the code is wrong or was used already",
                attempts_left=max(MAX_ATTEMPTS - attempts, 0),
            )
        await self.mfa.release_user_slot(user.user_id, slot, now)
        if not await self.mfa.finish(mfa_token):  # a concurrent submission signed in first
            raise Unauthenticated(
                "invalid_login_challenge", "this sign-in expired or was used; sign in again"
            )
        return await self._open_session(
            user, "password", client_address, user_agent, second_factor=True
        )

    async def _lock_second_factor(
        self, user: ActiveUser, now: datetime, client_address: str, user_agent: str
    ) -> int:
        """Lock the user's second factor and tell them; the seconds the lock lasts."""
        until, locked_now = await self.mfa.lock(user.user_id, now)
        if not locked_now:
            return max(1, int((until - now).total_seconds()))
        await self._security_log(
            user.user_id,
            SecondFactorLocked(
                user_id=user.user_id,
                account_id=user.account_id,
                failures=self.mfa.limits.per_window,
                locked_until=until,
                client_address=client_address,
                user_agent=user_agent,
                occurred_at=now,
            ),
        )
        return int((until - now).total_seconds())

    async def start_two_factor(self, principal: Principal) -> dict[str, Any]:
        user = await self.me(principal)
        setup = await self.mfa.begin(user.user_id, user.email, self.clock.now())
        buffer = io.BytesIO()
        segno.make(setup["otpauth_uri"], error="m").save(buffer, kind="svg", scale=4, xmldecl=False)
        return {**setup, "qr_svg": buffer.getvalue().decode()}

    async def confirm_two_factor(self, principal: Principal, code: str) -> dict[str, Any]:
        user = await self.me(principal)
        now = self.clock.now()
        codes = await self.mfa.confirm(user.user_id, code, now)
        if codes is None:
            raise DomainError("invalid_code", "the code does not match; check the app's clock")
        await self._security_log(
            user.user_id,
            TwoFactorEnabled(user_id=user.user_id, account_id=user.account_id, occurred_at=now),
        )
        return {"two_factor": True, "recovery_codes": codes}

    async def disable_two_factor(
        self, principal: Principal, password: str, code: str
    ) -> dict[str, Any]:
        user = await self.me(principal)
        now = self.clock.now()
        creds = await self.credentials.find_one({"_id": user.user_id})
        if not await verify_password(creds["password_hash"] if creds else None, password):
            raise Forbidden("current_password_wrong", "the current password is wrong")
        if not await self.mfa.verify(user.user_id, code, now):
            raise DomainError("invalid_code", "the code is wrong or was used already")
        if await self.mfa.disable(user.user_id):
            await self._security_log(
                user.user_id,
                TwoFactorDisabled(
                    user_id=user.user_id, account_id=user.account_id, occurred_at=now
                ),
            )
        return {"two_factor": False}

    async def _open_session(
        self,
        user: ActiveUser,
        method: Literal["password", "qr"],
        client_address: str,
        user_agent: str,
        session_id: str | None = None,
        *,
        second_factor: bool = False,
    ) -> dict[str, Any]:
        now = self.clock.now()
        tokens = await self.tokens.open_session(
            user.user_id,
            user.account_id,
            user.token_roles(),
            method=method,
            client_address=client_address,
            user_agent=user_agent,
            now=now,
            session_id=session_id,
        )
        await self._security_log(
            user.user_id,
            LoginSucceeded(
                user_id=user.user_id,
                account_id=user.account_id,
                method=method,
                client_address=client_address,
                user_agent=user_agent,
                session_id=tokens["session_id"],
                second_factor=second_factor,
                occurred_at=now,
            ),
        )
        return tokens

    async def _security_log(self, user_id: str | None, event: Any) -> None:
        stream = f"security-{user_id}" if user_id else f"security-anon-{event.email_hash}"
        await self.store.append_latest(
            stream, [event], self._meta(getattr(event, "account_id", None), user_id)
        )

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        now = self.clock.now()
        tokens, revoked = await self.tokens.refresh(refresh_token, self.roles_of, now)
        if revoked is not None:
            await self._security_log(
                revoked["user_id"],
                SessionRevoked(
                    user_id=revoked["user_id"],
                    account_id=revoked["account_id"],
                    session_id=revoked["_id"],
                    reason="refresh_token_reuse",
                    occurred_at=now,
                ),
            )
        if tokens is None:
            raise Unauthenticated(
                "refresh_token_reused",
                "this refresh token was used before; the session is revoked",
            )
        return tokens

    async def logout(self, principal: Principal) -> None:
        if principal.session_id:
            await self._revoke(
                principal.user_id, principal.account_id, principal.session_id, "logout"
            )

    async def _revoke(
        self,
        user_id: str,
        account_id: str,
        session_id: str,
        reason: Literal["logout", "refresh_token_reuse", "password_changed"],
    ) -> None:
        now = self.clock.now()
        if await self.tokens.revoke_session(session_id, reason, now):
            await self._security_log(
                user_id,
                SessionRevoked(
                    user_id=user_id,
                    account_id=account_id,
                    session_id=session_id,
                    reason=reason,
                    occurred_at=now,
                ),
            )

    async def _revoke_all(
        self,
        user_id: str,
        account_id: str,
        reason: Literal["logout", "password_changed"],
        keep: str | None = None,
    ) -> int:
        """End every live session of the user but `keep`; how many ended."""
        ended = 0
        for session in await self.tokens.active_sessions(user_id):
            if session["_id"] != keep:
                await self._revoke(user_id, account_id, session["_id"], reason)
                ended += 1
        return ended

    # ------------------------------------------------------------ sessions

    async def list_sessions(self, principal: Principal) -> list[dict[str, Any]]:
        """My live sign-ins, the most recently used first; `current` is the one this
        request's access token belongs to."""
        user = await self.me(principal)
        horizon = self.clock.now() - self.tokens.refresh_ttl
        rows = []
        for session in await self.tokens.active_sessions(user.user_id):
            last_used = session.get("last_used_at") or session["created_at"]
            if last_used < horizon:
                continue  # its newest refresh token has expired: nobody can use it
            address = session.get("client_address")
            agent = session.get("user_agent") or None
            rows.append(
                {
                    "id": session["_id"],
                    "device": device_of(agent or ""),
                    "user_agent": agent,
                    "ip_address": address if address and address != "unknown" else None,
                    "method": session.get("method", "password"),
                    "signed_in_at": session["created_at"],
                    "last_used_at": last_used,
                    "current": session["_id"] == principal.session_id,
                }
            )
        return sorted(rows, key=lambda r: r["last_used_at"], reverse=True)

    async def end_session(self, principal: Principal, session_id: str) -> None:
        """Sign one of my sessions out: its refresh token is refused from now on, and the
        gateway refuses its access token within seconds (`SessionRevoked`)."""
        user = await self.me(principal)
        session = await self.tokens.session(session_id)
        if session is None or session["user_id"] != user.user_id or session.get("revoked"):
            raise NotFound("session_not_found", "no such session")
        # A sign-out from another device is a logout of that session (the reasons are
        # a closed list to consumers).
        await self._revoke(user.user_id, user.account_id, session_id, "logout")

    async def end_other_sessions(self, principal: Principal) -> int:
        """Sign out everywhere but here; how many sessions ended."""
        user = await self.me(principal)
        return await self._revoke_all(
            user.user_id, user.account_id, "logout", keep=principal.session_id
        )

    # ------------------------------------------------------------ profile

    @staticmethod
    def profile(user: ActiveUser) -> dict[str, Any]:
        return {
            "user_id": user.user_id,
            "account_id": user.account_id,
            "email": user.email,
            "name": user.name,
            "phone": user.phone,
            "address": user.address,
            "language": user.language,
            "role": user.role,
            "platform_roles": user.platform_roles,
            "department": user.department,
            "logo_url": "/api/v1/me/logo" if user.logo_file_id else None,
            "email_verified": user.email_verified,
        }

    async def me(self, principal: Principal) -> ActiveUser:
        user = await self._user(principal.user_id)
        if user is None or user.account_id != principal.account_id:
            raise NotFound("user_not_found", "no such user")
        return user

    async def time_zone(self, account_id: str) -> str:
        state, _ = await self.accounts.load(domain.account_stream(account_id))
        return state.time_zone if isinstance(state, domain.Account) else domain.DEFAULT_TIME_ZONE

    async def change_time_zone(self, principal: Principal, time_zone: str) -> dict[str, Any]:
        """The account's zone, for every date its users are shown (owner or admin)."""
        self._require_manager(principal)
        outcome = await self.accounts.run(
            domain.account_stream(principal.account_id),
            domain.ChangeTimeZone(
                account_id=principal.account_id,
                time_zone=time_zone,
                changed_by=principal.user_id,
                now=self.clock.now(),
            ),
            metadata=self._meta(principal.account_id, principal.user_id),
        )
        account = outcome.state
        return {
            "account_id": account.account_id,
            "name": account.name,
            "time_zone": account.time_zone,
        }

    async def update_profile(self, principal: Principal, data: ProfilePatchIn) -> dict[str, Any]:
        """Only the fields sent change; a field sent as null is cleared."""
        return await self._update_profile(principal, data.model_dump(exclude_unset=True))

    async def _update_profile(
        self, principal: Principal, changes: dict[str, Any]
    ) -> dict[str, Any]:
        clear = frozenset(k for k, v in changes.items() if v is None)
        values = {k: v for k, v in changes.items() if v is not None}
        outcome = await self.users.run(
            domain.user_stream(principal.user_id),
            domain.UpdateProfile(
                account_id=principal.account_id, now=self.clock.now(), clear=clear, **values
            ),
            metadata=self._meta(principal.account_id, principal.user_id),
        )
        assert isinstance(outcome.state, ActiveUser)
        return self.profile(outcome.state)

    async def change_password(self, principal: Principal, current: str, new: str) -> int:
        """Returns how many other sessions were revoked."""
        user = await self.me(principal)
        creds = await self.credentials.find_one({"_id": user.user_id})
        if not await verify_password(creds["password_hash"] if creds else None, current):
            raise Forbidden("current_password_wrong", "the current password is wrong")
        check_policy(new, user.email)
        await self.credentials.update_one(
            {"_id": user.user_id},
            {"$set": {"password_hash": await hash_password(new), "updated_at": self.clock.now()}},
        )
        await self.users.run(
            domain.user_stream(user.user_id),
            domain.RecordPasswordChange(now=self.clock.now()),
            metadata=self._meta(user.account_id, user.user_id),
        )
        return await self._revoke_all(
            user.user_id, user.account_id, "password_changed", keep=principal.session_id
        )

    async def upload_logo(self, principal: Principal, data: bytes) -> dict[str, Any]:
        if len(data) > MAX_LOGO_BYTES:
            raise TooLarge("file_too_large", "a logo is at most 1 MB")
        kind = sniff(data)
        if kind is None or kind[0] not in ("image/png", "image/jpeg"):
            raise UnsupportedContent("unsupported_file_type", "a logo must be a PNG or JPEG")
        user = await self.me(principal)
        stored = await self.blobs.put(data, kind[0], kind[1], user.account_id, self.clock.now())
        return await self._update_profile(principal, {"logo_file_id": stored.file_id})

    async def logo(self, principal: Principal) -> tuple[str, str, bytes]:
        user = await self.me(principal)
        found = (
            await self.blobs.get(user.logo_file_id, user.account_id)
            if (user.logo_file_id)
            else None
        )
        if found is None:
            raise NotFound("logo_not_found", "no logo uploaded")
        stored, data = found
        return stored.content_type, stored.filename, data

    # ------------------------------------------------------------ account users

    async def _require_verified(self, principal: Principal) -> ActiveUser:
        """The user's address is proved, as of now (the token may predate the proof)."""
        user = await self.me(principal)
        if not user.email_verified:
            raise Forbidden(
                "email_unverified", "confirm your email address first (see the mail we sent)"
            )
        return user

    def _require_manager(self, principal: Principal) -> None:
        if not principal.manages_account:
            raise Forbidden("forbidden", "only the owner or an admin manages users")

    async def invite(self, principal: Principal, email: str, role: str) -> dict[str, Any]:
        """Invite an address; the token goes to its mailbox (the outbox), never to the
        inviter, so only the mailbox's owner can accept.

        An address with an account elsewhere (or invited by another account) gets the
        answer a free one gets and nothing is created: the answer does not tell whether
        an address has an account.
        """
        self._require_manager(principal)
        await self._require_verified(principal)
        email = normalise_email(email)
        new_user_id = self.new_id()
        now = self.clock.now()
        expires = now + timedelta(days=self.settings.invitation_days)
        answer = {"email": email, "role": role, "status": "invited", "expires_at": expires}
        try:
            claim = await self._reserve_email(email, new_user_id, principal.account_id, "invited")
        except Conflict:
            holder = await self.emails.find_one({"_id": email})
            if holder is not None and holder["account_id"] == principal.account_id:
                raise  # one of this account's own users: nothing to hide from its manager
            await self.outbox.queue(
                "invitation_for_existing_address",
                email,
                now,
                expires,
                account_id=principal.account_id,
            )
            return {"user_id": new_user_id, **answer}
        user_id = claim["user_id"]  # a repeated invitation re-invites the same user
        token = secrets.token_urlsafe(24)
        try:
            await self.users.run(
                domain.user_stream(user_id),
                domain.InviteUser(
                    user_id=user_id,
                    account_id=principal.account_id,
                    email=email,
                    role=role,
                    invited_by=principal.user_id,
                    expires_at=expires,
                    now=now,
                ),
                metadata=self._meta(principal.account_id, principal.user_id),
            )
        except DomainError:
            if user_id == new_user_id:  # release only a claim this call made
                await self.emails.delete_one({"_id": email, "user_id": user_id})
            raise
        await self.invitations.delete_many({"user_id": user_id})  # one live link per invitation
        await self.invitations.insert_one(
            {
                "_id": _digest(token),
                "user_id": user_id,
                "account_id": principal.account_id,
                "expires_at": expires,
            }
        )
        await self.outbox.queue(
            "invitation",
            email,
            now,
            expires,
            token=token,
            user_id=user_id,
            account_id=principal.account_id,
            invited_by=principal.user_id,
        )
        return {"user_id": user_id, **answer}

    async def accept_invitation(self, token: str, name: str, password: str) -> dict[str, Any]:
        """Only with the mailed token; void once the address was registered meanwhile."""
        doc = await self.invitations.find_one({"_id": _digest(token)})
        if doc is None:
            raise NotFound("invitation_not_found", "no such invitation")
        if doc["expires_at"] < self.clock.now():
            raise DomainError("invitation_expired", "this invitation has expired")
        state, _ = await self.users.load(domain.user_stream(doc["user_id"]))
        if isinstance(state, ActiveUser):
            raise Conflict("invitation_used", "this invitation was accepted already")
        email = getattr(state, "email", "")
        check_policy(password, email)
        # The address must still be this invitation's: a registration may have taken it.
        held = await self.emails.update_one(
            {"_id": email, "user_id": doc["user_id"], "status": "invited"},
            {"$set": {"status": "accepting"}},
        )
        claim = await self.emails.find_one({"_id": email, "user_id": doc["user_id"]})
        if held.matched_count == 0 and (claim is None or claim["status"] != "accepting"):
            raise NotFound("invitation_not_found", "no such invitation")
        await self.users.run(
            domain.user_stream(doc["user_id"]),
            domain.AcceptInvitation(name=name, now=self.clock.now()),
            metadata=self._meta(doc["account_id"], doc["user_id"]),
        )
        await replace_by_id(
            self.credentials,
            doc["user_id"],
            {
                "email": email,
                "account_id": doc["account_id"],
                "password_hash": await hash_password(password),
                "updated_at": self.clock.now(),
            },
        )
        await self.emails.update_one(
            {"_id": email, "user_id": doc["user_id"]}, {"$set": {"status": "active"}}
        )
        return {"user_id": doc["user_id"], "account_id": doc["account_id"], "email": email}

    async def change_role(
        self,
        principal: Principal,
        user_id: str,
        role: str,
        platform_roles: tuple[str, ...] = (),
        department: str | None = None,
    ) -> dict[str, Any]:
        if principal.account_id == domain.PLATFORM_ACCOUNT:
            if "platform_admin" not in principal.roles:
                raise Forbidden("forbidden", "only a platform admin manages staff")
            if department is not None:
                await self.departments.require(department)
        else:
            self._require_manager(principal)
            if platform_roles or department:
                raise DomainError("invalid_role", "staff roles exist only for platform staff")
        outcome = await self.users.run(
            domain.user_stream(user_id),
            domain.ChangeRole(
                account_id=principal.account_id,
                role=role,
                platform_roles=platform_roles,
                department=department,
                changed_by=principal.user_id,
                now=self.clock.now(),
            ),
            metadata=self._meta(principal.account_id, principal.user_id),
        )
        assert isinstance(outcome.state, ActiveUser)
        return self.profile(outcome.state)

    async def remove_user(self, principal: Principal, user_id: str) -> None:
        """Take a user (or an invitation) off the account: every session of theirs ends and
        they can no longer sign in; their address is free again (to be invited anew, or to
        register an account of its own)."""
        if principal.account_id == domain.PLATFORM_ACCOUNT:
            if "platform_admin" not in principal.roles:
                raise Forbidden("forbidden", "only a platform admin manages staff")
        else:
            self._require_manager(principal)
        outcome = await self.users.run(
            domain.user_stream(user_id),
            domain.RemoveUser(
                account_id=principal.account_id,
                removed_by=principal.user_id,
                now=self.clock.now(),
            ),
            metadata=self._meta(principal.account_id, principal.user_id),
        )
        # Safe to repeat: a retry of a removal that stopped half-way finishes it.
        removed = outcome.state
        assert isinstance(removed, domain.RemovedUser)
        await self._revoke_all(removed.user_id, removed.account_id, "logout")
        await self.invitations.delete_many({"user_id": removed.user_id})
        await self.credentials.delete_one({"_id": removed.user_id})
        await self.emails.delete_one({"_id": removed.email, "user_id": removed.user_id})

    async def departments_listing(self, principal: Principal) -> dict[str, Any]:
        if not principal.is_staff:
            raise Forbidden("forbidden", "this is for platform staff only")
        return await self.departments.listing()

    async def staff_listing(
        self, principal: Principal, department: str | None
    ) -> list[dict[str, Any]]:
        """The platform's active staff (of one department if named), by name: whom a member
        of staff may assign work to, so any member of staff may read it."""
        if not principal.is_staff:
            raise Forbidden("forbidden", "this is for platform staff only")
        out = []
        async for doc in self.emails.find({"account_id": domain.PLATFORM_ACCOUNT}):
            state, _ = await self.users.load(domain.user_stream(doc["user_id"]))
            if not isinstance(state, ActiveUser) or not state.platform_roles:
                continue
            if department is None or state.department == department:
                out.append(
                    {
                        "user_id": state.user_id,
                        "name": state.name,
                        "email": state.email,
                        "department": state.department,
                        "platform_roles": list(state.platform_roles),
                    }
                )
        return sorted(out, key=lambda u: (u["name"].casefold(), u["user_id"]))

    async def list_users(self, principal: Principal) -> list[dict[str, Any]]:
        self._require_manager(principal)
        out = []
        async for doc in self.emails.find({"account_id": principal.account_id}):
            state, _ = await self.users.load(domain.user_stream(doc["user_id"]))
            if isinstance(state, ActiveUser):
                out.append({**self.profile(state), "status": "active"})
            elif isinstance(state, domain.InvitedUser):
                out.append(
                    {
                        "user_id": state.user_id,
                        "account_id": state.account_id,
                        "email": state.email,
                        "role": state.role,
                        "status": "invited",
                    }
                )
        return sorted(out, key=lambda u: u["email"])

    async def create_staff(
        self,
        principal: Principal,
        *,
        email: str,
        name: str,
        password: str,
        platform_roles: tuple[str, ...],
        department: str | None,
    ) -> dict[str, str]:
        if "platform_admin" not in principal.roles:
            raise Forbidden("forbidden", "only a platform admin creates staff")
        if department is not None:
            await self.departments.require(department)
        return await self.register(
            email=email,
            password=password,
            name=name,
            account_name="Platform",
            kind="platform",
            actor=principal.user_id,
            platform_roles=platform_roles,
            department=department,
            account_id=domain.PLATFORM_ACCOUNT,
            role="staff",
        )

    # ------------------------------------------------------------ QR login

    async def create_qr(self, client_address: str, user_agent: str) -> dict[str, Any]:
        now = self.clock.now()
        challenge_id = self.new_id()
        poll_token = secrets.token_urlsafe(24)
        expires = now + timedelta(seconds=self.settings.qr_challenge_seconds)
        await self.qr_secrets.insert_one(
            {"_id": challenge_id, "poll_hash": hashlib.sha256(poll_token.encode()).hexdigest()}
        )
        await self.qr.run(
            domain.qr_stream(challenge_id),
            domain.RequestQrLogin(
                challenge_id=challenge_id,
                expires_at=expires,
                client_address=client_address,
                user_agent=user_agent,
                now=now,
            ),
            metadata=self._meta(None, None),
        )
        payload = f"portal-login:{challenge_id}"
        buffer = io.BytesIO()
        segno.make(payload, error="m").save(buffer, kind="svg", scale=4, xmldecl=False)
        return {
            "id": challenge_id,
            "poll_token": poll_token,
            "expires_at": expires,
            "qr_payload": payload,
            "qr_svg": buffer.getvalue().decode(),
            "status": "pending",
        }

    async def qr_request(self, principal: Principal, challenge_id: str) -> dict[str, Any]:
        """Who asked to sign in with this code, for the app to show before it approves."""
        await self.me(principal)
        if not principal.session_id or not await self.tokens.is_active(principal.session_id):
            raise Unauthenticated("session_ended", "log in again on this device")
        state, _ = await self.qr.load(domain.qr_stream(challenge_id))
        if state.status == "none":
            raise NotFound("challenge_not_found", "no such login code")
        if state.status != "pending" and state.user_id != principal.user_id:
            raise NotFound("challenge_not_found", "no such login code")  # someone else's now
        expired = state.expires_at is not None and self.clock.now() >= state.expires_at
        return {
            "id": challenge_id,
            "status": "expired" if expired and state.status == "pending" else state.status,
            "requested_at": state.requested_at,
            "expires_at": state.expires_at,
            "client_address": state.client_address,
            "user_agent": state.user_agent,
        }

    async def approve_qr(
        self, principal: Principal, challenge_id: str, device: str
    ) -> dict[str, Any]:
        user = await self.me(principal)
        if not principal.session_id or not await self.tokens.is_active(principal.session_id):
            raise Unauthenticated("session_ended", "log in again on this device")
        await self.qr.run(
            domain.qr_stream(challenge_id),
            domain.ApproveQrLogin(
                user_id=user.user_id,
                account_id=user.account_id,
                device=device,
                approving_session_id=principal.session_id,
                now=self.clock.now(),
            ),
            metadata=self._meta(user.account_id, user.user_id),
        )
        return {"id": challenge_id, "status": "approved"}

    async def poll_qr(
        self,
        challenge_id: str,
        poll_token: str,
        client_address: str,
        user_agent: str,
        *,
        wait: float = 0,
    ) -> dict[str, Any]:
        """The challenge's status; with `wait`, held until it changes or the wait ends.

        Long polling rather than SSE: the browser keeps sending its poll token as a header
        (EventSource cannot), any identity replica can answer (the state is the stream),
        and one request per `wait` seconds replaces one per second.
        """
        secret = await self.qr_secrets.find_one({"_id": challenge_id})
        if secret is None or not secrets.compare_digest(
            secret["poll_hash"], hashlib.sha256(poll_token.encode()).hexdigest()
        ):
            raise NotFound("challenge_not_found", "no such login code")
        deadline = time.monotonic() + min(wait, MAX_QR_WAIT_SECONDS)
        while True:
            answer = await self._complete_qr(challenge_id, client_address, user_agent)
            if answer["status"] != "pending" or time.monotonic() >= deadline:
                return answer
            await asyncio.sleep(QR_WAIT_STEP_SECONDS)

    async def _complete_qr(
        self, challenge_id: str, client_address: str, user_agent: str
    ) -> dict[str, Any]:
        session_id = self.new_id()
        outcome = await self.qr.run(
            domain.qr_stream(challenge_id),
            domain.CompleteQrLogin(session_id=session_id, now=self.clock.now()),
            metadata=self._meta(None, None),
        )
        if outcome.commit is None:
            return {
                "id": challenge_id,
                "status": outcome.state.status,
                "expires_at": outcome.state.expires_at,
            }
        # This call won the completion: it alone delivers the tokens.
        approved = next(
            e.event
            for e in (await self.store.read_stream(domain.qr_stream(challenge_id)))
            if isinstance(e.event, QrLoginApproved)
        )
        assert isinstance(approved, QrLoginApproved)
        user = await self._user(approved.user_id)
        if user is None:
            raise NotFound("challenge_not_found", "no such login code")
        tokens = await self._open_session(user, "qr", client_address, user_agent, session_id)
        return {"id": challenge_id, "status": "completed", **tokens}

    # ------------------------------------------------------------ service clients

    def service_token(self, client_id: str, client_secret: str) -> dict[str, Any]:
        """OAuth2 client credentials for another service (e.g. billing moving wallet money)."""
        expected = self.settings.service_clients.get(client_id)
        if not expected or not hmac.compare_digest(expected.encode(), client_secret.encode()):
            raise Unauthenticated("invalid_client", "unknown service client or wrong secret")
        ttl = timedelta(minutes=self.settings.service_token_minutes)
        return self.tokens.service_token(client_id, self.clock.now(), ttl)

    # ------------------------------------------------------------ keys

    async def rotate_keys(self, principal: Principal) -> dict[str, Any]:
        if "platform_admin" not in principal.roles:
            raise Forbidden("forbidden", "only a platform admin rotates keys")
        kid = await self.keyring.rotate(self.clock.now())
        return {"active_kid": kid, "published": [k["kid"] for k in self.keyring.jwks()["keys"]]}
