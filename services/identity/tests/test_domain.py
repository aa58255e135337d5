"""Given events / when command / then events, for identity's deciders. No I/O."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from portal_chassis.decider import Conflict, DomainError, NotFound
from portal_contracts.events.identity import (
    AccountRegistered,
    AccountTimeZoneChanged,
    EmailVerified,
    PasswordChanged,
    QrLoginApproved,
    QrLoginCompleted,
    QrLoginRequested,
    UserInvited,
    UserProfileUpdated,
    UserRegistered,
    UserRemoved,
    UserRoleChanged,
)
from portal_identity.domain import (
    PLATFORM_ACCOUNT,
    AcceptInvitation,
    Account,
    ActiveUser,
    ApproveQrLogin,
    ChallengeGone,
    ChangeRole,
    ChangeTimeZone,
    CompleteQrLogin,
    InvitedUser,
    InviteUser,
    NoAccount,
    NoUser,
    QrState,
    RecordPasswordChange,
    RegisterAccount,
    RegisterUser,
    RemovedUser,
    RemoveUser,
    RequestQrLogin,
    UpdateProfile,
    VerifyEmail,
    account_decider,
    qr_decider,
    user_decider,
)
from portal_identity.passwords import check_policy, hash_password, verify_password

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
ACC = "acc-1"
OTHER_ACC = "acc-2"
OWNER = "u-owner"
USER = "u-1"


# ---------------------------------------------------------------- helpers


def user_given(*events):
    return user_decider.fold(user_decider.initial_state, list(events))


def then_user(events, command):
    """Decide on the state folded from `events`; return the new events and next state."""
    state = user_given(*events)
    new = list(user_decider.decide(command, state))
    return new, user_decider.fold(state, new)


def registered(user_id=USER, account_id=ACC, role="staff", platform_roles=(), **extra):
    return UserRegistered(
        user_id=user_id,
        account_id=account_id,
        email=f"{user_id}@example.com",
        name=extra.pop("name", "Lan"),
        role=role,
        platform_roles=list(platform_roles),
        department=extra.pop("department", None),
        occurred_at=NOW,
    )


def invited(user_id=USER, role="staff", expires_at=NOW + timedelta(days=7)):
    return UserInvited(
        user_id=user_id,
        account_id=ACC,
        email=f"{user_id}@example.com",
        role=role,
        invited_by=OWNER,
        expires_at=expires_at,
        occurred_at=NOW,
    )


def invite(role="staff", user_id=USER):
    return InviteUser(
        user_id=user_id,
        account_id=ACC,
        email=f"{user_id}@example.com",
        role=role,
        invited_by=OWNER,
        expires_at=NOW + timedelta(days=7),
        now=NOW,
    )


def change_role(role, account_id=ACC, platform_roles=(), department=None):
    return ChangeRole(
        account_id=account_id,
        role=role,
        changed_by=OWNER,
        now=NOW,
        platform_roles=tuple(platform_roles),
        department=department,
    )


def profile(account_id=ACC, **changes):
    return UpdateProfile(account_id=account_id, now=NOW, **changes)


# ---------------------------------------------------------------- accounts


def register_account(account_id=ACC):
    return RegisterAccount(
        account_id=account_id,
        kind="organisation",
        name="Acme",
        owner_user_id=OWNER,
        email="owner@example.com",
        now=NOW,
    )


def test_registering_an_account_records_it():
    events = list(account_decider.decide(register_account(), NoAccount()))
    assert events == [
        AccountRegistered(
            account_id=ACC,
            kind="organisation",
            name="Acme",
            owner_user_id=OWNER,
            email="owner@example.com",
            occurred_at=NOW,
        )
    ]
    state = account_decider.fold(NoAccount(), events)
    assert state == Account(
        account_id=ACC, account_kind="organisation", name="Acme", owner_user_id=OWNER
    )


def test_registering_an_account_twice_is_a_no_op():
    state = account_decider.fold(
        NoAccount(), list(account_decider.decide(register_account(), NoAccount()))
    )
    assert list(account_decider.decide(register_account(), state)) == []


def test_an_account_starts_in_vietnams_zone_and_changes_it_to_an_iana_zone():
    state = account_decider.fold(
        NoAccount(), account_decider.decide(register_account(), NoAccount())
    )
    assert state.time_zone == "Asia/Ho_Chi_Minh"
    change = ChangeTimeZone(account_id=ACC, time_zone="Asia/Tokyo", changed_by=OWNER, now=NOW)
    events = list(account_decider.decide(change, state))
    assert events == [
        AccountTimeZoneChanged(
            account_id=ACC, time_zone="Asia/Tokyo", changed_by=OWNER, occurred_at=NOW
        )
    ]
    state = account_decider.fold(state, events)
    assert state.time_zone == "Asia/Tokyo"
    assert account_decider.decide(change, state) == []  # the same zone again: nothing


@pytest.mark.parametrize("zone", ["Mars/Olympus", "asia/tokyo", "GMT+7", ""])
def test_a_time_zone_that_is_not_an_iana_name_is_refused(zone):
    state = account_decider.fold(
        NoAccount(), account_decider.decide(register_account(), NoAccount())
    )
    with pytest.raises(DomainError) as err:
        account_decider.decide(
            ChangeTimeZone(account_id=ACC, time_zone=zone, changed_by=OWNER, now=NOW), state
        )
    assert err.value.code == "invalid_time_zone"


def test_another_accounts_zone_is_not_found():
    state = account_decider.fold(
        NoAccount(), account_decider.decide(register_account(), NoAccount())
    )
    change = ChangeTimeZone(account_id=OTHER_ACC, time_zone="UTC", changed_by=OWNER, now=NOW)
    with pytest.raises(NotFound):
        account_decider.decide(change, state)


# ---------------------------------------------------------------- users: registration


def test_registering_a_user_makes_an_active_user():
    cmd = RegisterUser(
        user_id=OWNER, account_id=ACC, email="owner@example.com", name="An", role="owner", now=NOW
    )
    events, state = then_user([], cmd)
    assert events == [
        UserRegistered(
            user_id=OWNER,
            account_id=ACC,
            email="owner@example.com",
            name="An",
            role="owner",
            occurred_at=NOW,
        )
    ]
    assert isinstance(state, ActiveUser)
    assert state.roles() == ["owner"]


def test_registering_a_user_twice_is_a_no_op():
    cmd = RegisterUser(
        user_id=USER, account_id=ACC, email="x@example.com", name="Other", role="admin", now=NOW
    )
    events, state = then_user([registered()], cmd)
    assert events == []
    assert state.name == "Lan" and state.role == "staff"


def test_platform_staff_register_with_staff_roles():
    cmd = RegisterUser(
        user_id="s1",
        account_id=PLATFORM_ACCOUNT,
        email="tech@portal.local",
        name="Tech",
        role="staff",
        platform_roles=("technician",),
        department="technical",
        now=NOW,
    )
    events, state = then_user([], cmd)
    assert events[0].platform_roles == ["technician"]
    assert state.roles() == ["staff", "technician", "dept:technical"]
    assert state.department == "technical"


@pytest.mark.parametrize(
    ("role", "platform_roles", "account_id"),
    [
        ("superuser", (), ACC),
        ("staff", ("hacker",), PLATFORM_ACCOUNT),
        ("staff", ("support_agent",), ACC),
    ],
)
def test_registering_with_an_invalid_role_is_refused(role, platform_roles, account_id):
    cmd = RegisterUser(
        user_id=USER,
        account_id=account_id,
        email="x@example.com",
        name="X",
        role=role,
        platform_roles=platform_roles,
        now=NOW,
    )
    with pytest.raises(DomainError) as err:
        user_decider.decide(cmd, NoUser())
    assert err.value.code == "invalid_role"


# ---------------------------------------------------------------- users: invitations


def test_invite_then_accept_makes_an_active_user_with_the_invited_role():
    events, state = then_user([], invite(role="admin"))
    assert events == [
        UserInvited(
            user_id=USER,
            account_id=ACC,
            email=f"{USER}@example.com",
            role="admin",
            invited_by=OWNER,
            expires_at=NOW + timedelta(days=7),
            occurred_at=NOW,
        )
    ]
    assert isinstance(state, InvitedUser)
    later = NOW + timedelta(days=1)
    accepted = list(user_decider.decide(AcceptInvitation(name="Minh", now=later), state))
    assert accepted == [
        UserRegistered(
            user_id=USER,
            account_id=ACC,
            email=f"{USER}@example.com",
            name="Minh",
            role="admin",
            occurred_at=later,
        ),
        EmailVerified(user_id=USER, account_id=ACC, email=f"{USER}@example.com", occurred_at=later),
    ]
    active = user_decider.fold(state, accepted)
    assert isinstance(active, ActiveUser)
    assert (active.account_id, active.role, active.name) == (ACC, "admin", "Minh")
    assert active.email_verified  # the token went to that mailbox


def test_verifying_an_email_once_and_only_for_the_current_address():
    user = registered()
    state = user_given(user)
    assert isinstance(state, ActiveUser) and not state.email_verified
    events = list(user_decider.decide(VerifyEmail(email=user.email, now=NOW), state))
    assert events == [
        EmailVerified(user_id=USER, account_id=ACC, email=user.email, occurred_at=NOW)
    ]
    verified = user_decider.fold(state, events)
    assert isinstance(verified, ActiveUser) and verified.email_verified
    assert list(user_decider.decide(VerifyEmail(email=user.email, now=NOW), verified)) == []
    with pytest.raises(DomainError) as err:
        user_decider.decide(VerifyEmail(email="old@example.com", now=NOW), state)
    assert err.value.code == "verification_invalid"
    with pytest.raises(NotFound):
        then_user([invited()], VerifyEmail(email=f"{USER}@example.com", now=NOW))


def test_accepting_just_before_expiry_works_and_after_it_is_refused():
    expires = NOW + timedelta(days=7)
    ok = list(
        user_decider.decide(
            AcceptInvitation(name="Minh", now=expires - timedelta(seconds=1)), user_given(invited())
        )
    )
    assert len(ok) == 2
    with pytest.raises(DomainError) as err:
        user_decider.decide(
            AcceptInvitation(name="Minh", now=expires + timedelta(seconds=1)),
            user_given(invited()),
        )
    assert err.value.code == "invitation_expired"
    assert err.value.status_code == 422


def test_accepting_twice_is_a_conflict():
    with pytest.raises(Conflict) as err:
        then_user(
            [invited(role="admin"), registered(role="admin")],
            AcceptInvitation(name="Again", now=NOW + timedelta(hours=1)),
        )
    assert err.value.code == "invitation_used"
    assert err.value.status_code == 409


def test_accepting_without_an_invitation_is_not_found():
    with pytest.raises(NotFound):
        then_user([], AcceptInvitation(name="Nobody", now=NOW))


def test_an_invitation_cannot_make_an_owner():
    with pytest.raises(DomainError) as err:
        then_user([], invite(role="owner"))
    assert err.value.code == "invalid_role"


def test_inviting_an_existing_user_is_a_conflict():
    with pytest.raises(Conflict) as err:
        then_user([registered()], invite())
    assert err.value.code == "user_exists"


# ---------------------------------------------------------------- users: roles


def test_changing_a_role_records_it_and_updates_the_state():
    events, state = then_user([registered(role="staff")], change_role("admin"))
    assert events == [
        UserRoleChanged(
            user_id=USER,
            account_id=ACC,
            role="admin",
            platform_roles=[],
            department=None,
            changed_by=OWNER,
            occurred_at=NOW,
        )
    ]
    assert state.role == "admin"


def test_the_owner_keeps_the_owner_role():
    with pytest.raises(DomainError) as err:
        then_user([registered(user_id=OWNER, role="owner")], change_role("admin"))
    assert err.value.code == "owner_required"


def test_ownership_cannot_be_granted_by_a_role_change():
    with pytest.raises(DomainError) as err:
        then_user([registered(role="admin")], change_role("owner"))
    assert err.value.code == "invalid_role"


def test_staff_roles_exist_only_on_the_platform_account():
    with pytest.raises(DomainError) as err:
        then_user([registered(role="staff")], change_role("staff", platform_roles=["sales"]))
    assert err.value.code == "invalid_role"


def test_platform_staff_roles_and_department_can_change_on_the_platform_account():
    staff = registered(user_id="s1", account_id=PLATFORM_ACCOUNT, platform_roles=["technician"])
    events, state = then_user(
        [staff],
        change_role(
            "staff",
            account_id=PLATFORM_ACCOUNT,
            platform_roles=["support_agent", "billing_admin"],
            department="billing",
        ),
    )
    assert len(events) == 1
    assert state.roles() == ["staff", "support_agent", "billing_admin", "dept:billing"]
    assert state.department == "billing"


@pytest.mark.parametrize(("role", "platform_roles"), [("superuser", ()), ("staff", ("root",))])
def test_unknown_roles_are_refused(role, platform_roles):
    staff = registered(user_id="s1", account_id=PLATFORM_ACCOUNT)
    with pytest.raises(DomainError) as err:
        then_user(
            [staff], change_role(role, account_id=PLATFORM_ACCOUNT, platform_roles=platform_roles)
        )
    assert err.value.code == "invalid_role"


def test_an_unchanged_role_is_a_no_op():
    events, _ = then_user([registered(role="admin")], change_role("admin"))
    assert events == []
    staff = registered(
        user_id="s1", account_id=PLATFORM_ACCOUNT, platform_roles=["sales"], department="sales"
    )
    events, _ = then_user(
        [staff],
        change_role(
            "staff", account_id=PLATFORM_ACCOUNT, platform_roles=["sales"], department="sales"
        ),
    )
    assert events == []


def test_changing_the_role_of_an_invited_user_is_not_found():
    with pytest.raises(NotFound):
        then_user([invited()], change_role("admin"))


# ---------------------------------------------------------------- users: removal


def remove(account_id=ACC, removed_by=OWNER):
    return RemoveUser(account_id=account_id, removed_by=removed_by, now=NOW)


@pytest.mark.parametrize("given", [[registered(role="admin")], [invited()]], ids=["user", "invite"])
def test_an_owner_removes_a_user_or_an_invitation(given):
    events, state = then_user(given, remove())
    assert events == [
        UserRemoved(
            user_id=USER,
            account_id=ACC,
            email=f"{USER}@example.com",
            removed_by=OWNER,
            occurred_at=NOW,
        )
    ]
    assert state == RemovedUser(user_id=USER, account_id=ACC, email=f"{USER}@example.com")
    # Once removed, nothing else applies to the user; removing again is a no-op (a retry).
    assert then_user([*given, *events], remove()) == ([], state)
    for command in (change_role("staff"), profile(name="X")):
        with pytest.raises(NotFound):
            user_decider.decide(command, state)
    with pytest.raises(NotFound):
        user_decider.decide(AcceptInvitation(name="X", now=NOW), state)


@pytest.mark.parametrize(
    ("given", "command", "error", "code"),
    [
        (
            [registered(OWNER, role="owner")],
            remove(removed_by="u-admin"),
            DomainError,
            "owner_cannot_be_removed",
        ),
        (
            [registered(role="admin")],
            remove(removed_by=USER),
            DomainError,
            "cannot_remove_yourself",
        ),
        ([registered()], remove(account_id=OTHER_ACC), NotFound, "user_not_found"),
        ([], remove(), NotFound, "user_not_found"),
    ],
    ids=["owner", "self", "other-account", "nobody"],
)
def test_the_owner_oneself_and_other_accounts_users_cannot_be_removed(given, command, error, code):
    with pytest.raises(error) as err:
        user_decider.decide(command, user_given(*given))
    assert err.value.code == code


# ---------------------------------------------------------------- users: tenant isolation


@pytest.mark.parametrize(
    "command",
    [
        change_role("admin", account_id=OTHER_ACC),
        profile(account_id=OTHER_ACC, name="Hijacked"),
    ],
    ids=["change_role", "update_profile"],
)
def test_another_accounts_user_is_not_found(command):
    with pytest.raises(NotFound) as err:
        then_user([registered(account_id=ACC)], command)
    assert err.value.code == "user_not_found"
    assert err.value.status_code == 404


# ---------------------------------------------------------------- users: profile


def test_updating_the_profile_records_every_field():
    events, state = then_user(
        [registered(name="Lan")],
        profile(phone="+84 912 345 678", address="1 Trang Tien, Ha Noi", language="en"),
    )
    assert events == [
        UserProfileUpdated(
            user_id=USER,
            account_id=ACC,
            name="Lan",
            phone="+84 912 345 678",
            address="1 Trang Tien, Ha Noi",
            language="en",
            logo_file_id=None,
            occurred_at=NOW,
        )
    ]
    assert (state.phone, state.address, state.language) == (
        "+84 912 345 678",
        "1 Trang Tien, Ha Noi",
        "en",
    )


def test_an_unchanged_profile_is_a_no_op():
    history = [
        registered(name="Lan"),
        *then_user([registered(name="Lan")], profile(phone="0912"))[0],
    ]
    events, _ = then_user(history, profile(name="Lan", phone="0912"))
    assert events == []
    events, _ = then_user(history, profile())
    assert events == []


def test_a_name_is_required():
    with pytest.raises(DomainError) as err:
        then_user([registered()], profile(name=""))
    assert err.value.code == "name_required"


def test_clearing_the_phone_keeps_the_other_fields():
    history = [
        registered(name="Lan"),
        *then_user([registered(name="Lan")], profile(phone="0912", address="Hue"))[0],
    ]
    events, state = then_user(history, profile(clear=frozenset({"phone"})))
    assert len(events) == 1
    assert events[0].phone is None and events[0].address == "Hue" and events[0].name == "Lan"
    assert state.phone is None and state.address == "Hue"


def test_the_name_cannot_be_cleared():
    events, state = then_user([registered(name="Lan")], profile(clear=frozenset({"name"})))
    assert events == []
    assert state.name == "Lan"


def test_a_password_change_is_recorded():
    events, _ = then_user([registered()], RecordPasswordChange(now=NOW))
    assert events == [PasswordChanged(user_id=USER, account_id=ACC, occurred_at=NOW)]
    with pytest.raises(NotFound):
        then_user([], RecordPasswordChange(now=NOW))


# ---------------------------------------------------------------- QR login

QR = "qr-1"
EXPIRES = NOW + timedelta(seconds=120)


def qr_given(*events):
    return qr_decider.fold(QrState(), list(events))


def qr_requested():
    return QrLoginRequested(
        challenge_id=QR,
        expires_at=EXPIRES,
        client_address="198.51.100.7",
        user_agent="Firefox",
        occurred_at=NOW,
    )


def qr_approved():
    return QrLoginApproved(
        challenge_id=QR,
        user_id=USER,
        account_id=ACC,
        device="Pixel 8",
        approving_session_id="sess-phone",
        occurred_at=NOW + timedelta(seconds=10),
    )


def approve(now=NOW + timedelta(seconds=10)):
    return ApproveQrLogin(
        user_id=USER, account_id=ACC, device="Pixel 8", approving_session_id="sess-phone", now=now
    )


def complete(now=NOW + timedelta(seconds=20), session_id="sess-web"):
    return CompleteQrLogin(session_id=session_id, now=now)


def test_qr_request_approve_complete():
    request = RequestQrLogin(
        challenge_id=QR,
        expires_at=EXPIRES,
        client_address="198.51.100.7",
        user_agent="Firefox",
        now=NOW,
    )
    events = list(qr_decider.decide(request, QrState()))
    assert events == [qr_requested()]
    state = qr_decider.fold(QrState(), events)
    assert state.status == "pending"
    assert list(qr_decider.decide(request, state)) == []  # a retried request is a no-op

    events = list(qr_decider.decide(approve(), state))
    assert events == [qr_approved()]
    state = qr_decider.fold(state, events)
    assert (state.status, state.user_id, state.account_id) == ("approved", USER, ACC)

    events = list(qr_decider.decide(complete(), state))
    assert events == [
        QrLoginCompleted(
            challenge_id=QR,
            user_id=USER,
            account_id=ACC,
            session_id="sess-web",
            occurred_at=NOW + timedelta(seconds=20),
        )
    ]
    assert qr_decider.fold(state, events).status == "completed"


def test_approving_an_expired_code_is_gone():
    with pytest.raises(ChallengeGone) as err:
        qr_decider.decide(approve(now=EXPIRES), qr_given(qr_requested()))
    assert err.value.status_code == 410
    assert err.value.code == "challenge_expired"


def test_approving_twice_is_a_conflict():
    with pytest.raises(Conflict) as err:
        qr_decider.decide(approve(), qr_given(qr_requested(), qr_approved()))
    assert err.value.code == "challenge_used"


def test_approving_an_unknown_code_is_not_found():
    with pytest.raises(NotFound):
        qr_decider.decide(approve(), QrState())


def test_completing_before_approval_decides_nothing():
    state = qr_given(qr_requested())
    assert list(qr_decider.decide(complete(), state)) == []


def test_completing_twice_is_refused():
    done = QrLoginCompleted(
        challenge_id=QR, user_id=USER, account_id=ACC, session_id="sess-web", occurred_at=NOW
    )
    state = qr_given(qr_requested(), qr_approved(), done)
    with pytest.raises(DomainError) as err:
        qr_decider.decide(complete(session_id="sess-other"), state)
    assert err.value.code == "challenge_used"
    # still "used" (not "expired") once the code's lifetime is over
    with pytest.raises(DomainError) as err:
        qr_decider.decide(complete(now=EXPIRES + timedelta(hours=1)), state)
    assert err.value.code == "challenge_used"


def test_an_approved_code_cannot_be_completed_after_expiry():
    with pytest.raises(ChallengeGone):
        qr_decider.decide(complete(now=EXPIRES), qr_given(qr_requested(), qr_approved()))


# ---------------------------------------------------------------- snapshots


@pytest.mark.parametrize(
    ("decider", "state"),
    [
        (account_decider, NoAccount()),
        (
            account_decider,
            Account(account_id=ACC, account_kind="person", name="An", owner_user_id=OWNER),
        ),
        (user_decider, NoUser()),
        (user_decider, user_given(invited())),
        (
            user_decider,
            ActiveUser(
                user_id="s1",
                account_id=PLATFORM_ACCOUNT,
                email="s1@portal.local",
                name="Staff",
                role="staff",
                platform_roles=["support_agent", "sales"],
                department="sales",
                phone="0912",
                address="Hue",
                language="en",
                logo_file_id="f-1",
            ),
        ),
        (user_decider, RemovedUser(user_id=USER, account_id=ACC, email="x@example.com")),
        (qr_decider, QrState()),
        (qr_decider, qr_given(qr_requested())),
        (qr_decider, qr_given(qr_requested(), qr_approved())),
    ],
    ids=[
        "no-account",
        "account",
        "no-user",
        "invited",
        "active",
        "removed",
        "qr-none",
        "qr-pending",
        "qr-approved",
    ],
)
def test_state_snapshots_round_trip(decider, state):
    dumped = decider.dump_state(state)
    restored = decider.load_state(json.loads(json.dumps(dumped)))
    assert restored == state
    assert type(restored) is type(state)


# ---------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    ("password", "email", "code"),
    [
        ("short1!", "lan@example.com", "password_too_short"),
        ("x" * 257, "lan@example.com", "password_too_long"),
        ("Lan@Example.com", "lan@example.com", "password_is_email"),
        ("nguyenvanlan", "NguyenVanLan@example.com", "password_is_email"),
        ("12345678", "lan@example.com", "password_too_common"),
        ("PASSWORD", "lan@example.com", "password_too_common"),
        ("password123", "lan@example.com", "password_too_common"),
        ("!Qwerty2024", "lan@example.com", "password_too_common"),
        ("aaaaaaaa", "lan@example.com", "password_too_weak"),
        ("11111111a", "lan@example.com", "password_too_weak"),
        ("abababab12", "lan@example.com", "password_too_weak"),
        ("abcdefghij", "lan@example.com", "password_too_weak"),
        ("98765432", "lan@example.com", "password_too_weak"),
    ],
)
def test_password_policy_refuses(password, email, code):
    with pytest.raises(DomainError) as err:
        check_policy(password, email)
    assert err.value.code == code


def test_password_policy_accepts_a_reasonable_password():
    check_policy("correct horse battery", "lan@example.com")
    check_policy("correct horse battery staple " * 8 + "lan 2026 !!!", "lan@example.com")
    check_policy("Tr0ub4dor&3", "lan@example.com")


async def test_passwords_are_hashed_with_argon2id_at_owasp_cost():
    stored = await hash_password("correct horse battery")
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", stored)
    assert match, stored
    memory, iterations, parallelism = map(int, match.groups())
    assert memory >= 19456
    assert iterations >= 2 and parallelism >= 1
    assert "correct horse" not in stored
    assert await verify_password(stored, "correct horse battery")
    assert not await verify_password(stored, "correct horse battery!")
    assert not await verify_password(None, "correct horse battery")
    assert not await verify_password("not-a-hash", "correct horse battery")
