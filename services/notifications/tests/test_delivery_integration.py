"""Delivery on the real wire server and a real SMTP server (aiosmtpd): exactly one message
per (event, recipient, channel) under redelivery, retries while the mail server is down,
permanent failures recorded."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from pymongo.errors import AutoReconnect

from portal_chassis.decider import DomainError, NotFound
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.identity import (
    LoginSucceeded,
    PasswordResetRequested,
    UserProfileUpdated,
    UserRegistered,
    UserRemoved,
)
from portal_contracts.registry import event_data
from portal_notifications.handlers import NotificationsService
from portal_notifications.links import LinkMail
from portal_notifications.models import DeliveriesPage
from portal_notifications.settings import NotificationsSettings

from . import samples as s

pytestmark = pytest.mark.integration


def envelope(event: DomainEvent, event_id: str | None = None) -> EventEnvelope:
    return EventEnvelope(
        id=event_id or str(uuid.uuid4()),
        source=f"/portal/{event.context}",
        type=event.event_type,
        subject=f"{event.context}-x",
        time=event.occurred_at,
        streamversion=1,
        data=event_data(event),
    )


async def register(service, account: str, user: str, email: str, role: str = "owner") -> None:
    await service.learn_person(
        UserRegistered(
            user_id=user,
            account_id=account,
            email=email,
            name="Lan",
            role=role,
            occurred_at=s.NOW,
        )
    )


def top_up(account: str):
    return s.top_up().model_copy(update={"account_id": account})


async def test_a_redelivered_event_sends_one_mail_and_one_bell_entry(notifications, catcher):
    service, _ = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    received = envelope(top_up(account))
    await asyncio.gather(*(service.on_event(received, top_up(account)) for _ in range(5)))
    await service.on_event(received, top_up(account))  # and once more, later
    assert await service.send_due() == 1
    assert await service.send_due() == 0
    [mail] = catcher.messages(to=email)
    assert "1.234.567 ₫" in mail.subject and "Xin chào Lan" in mail.body
    page = await service.inbox_page(user, limit=10, offset=0)
    assert page["total"] == 1 and page["unread"] == 1
    assert "1.234.567 ₫" in page["items"][0]["title"]
    kinds = [
        c["events"][0]["type"]
        async for c in service.db["commits"].find({"stream_id": {"$regex": "^delivery-"}})
        if c["events"][0]["data"]["source_event_id"] == received.id
    ]
    assert sorted(kinds) == ["NotificationSent", "NotificationSent"]  # mail and bell


async def test_concurrent_senders_send_a_mail_once(notifications, catcher, mongo_db):
    service, _ = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    await service.on_event(envelope(top_up(account)), top_up(account))
    # Replicas are separate senders on the same database.
    senders = [service, *[await _another_sender(service, mongo_db) for _ in range(4)]]
    sent = await asyncio.gather(*(sender.send_due() for sender in senders))
    assert sum(sent) == 1
    assert len(catcher.messages(to=email)) == 1


async def _another_sender(service, mongo_db):
    return NotificationsService(
        service.store, mongo_db, service.settings, service.mailer, service.clock
    )


async def test_mail_waits_while_the_server_is_down_and_goes_once_it_is_up(notifications, catcher):
    service, clock = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    catcher.stop()
    received = envelope(top_up(account))
    await service.on_event(received, top_up(account))
    assert await service.send_due() == 0
    [mail] = [d for d in await service.deliveries_of(received.id) if d["channel"] == "email"]
    assert mail["status"] == "queued" and mail["attempts"] == 1 and mail["last_error"]
    assert await service.send_due() == 0  # not due before its back-off
    catcher.start()
    assert await service.send_due() == 0
    clock.advance(seconds=31)
    assert await service.send_due() == 1
    assert len(catcher.messages(to=email)) == 1
    [mail] = [d for d in await service.deliveries_of(received.id) if d["channel"] == "email"]
    assert mail["status"] == "sent" and mail["attempts"] == 2


async def test_temporary_refusals_end_in_a_recorded_failure_after_the_last_attempt(
    notifications, catcher
):
    service, clock = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    await register(service, account, user, f"{user}@example.com")
    catcher.refuse_with = "451 4.3.0 try again later"
    received = envelope(top_up(account))
    await service.on_event(received, top_up(account))
    for _ in range(3):  # delivery_max_attempts
        await service.send_due()
        clock.advance(hours=1)
    [mail] = [d for d in await service.deliveries_of(received.id) if d["channel"] == "email"]
    assert mail["status"] == "failed" and mail["attempts"] == 3 and "451" in mail["last_error"]
    assert await service.send_due() == 0


@pytest.mark.parametrize("address", ["not-an-address", "refused@example.com"])
async def test_permanent_failures_are_recorded_at_once(notifications, catcher, address):
    service, _ = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    await register(service, account, user, address)
    catcher.refuse_with = "550 5.1.1 no such mailbox"
    received = envelope(top_up(account))
    await service.on_event(received, top_up(account))
    assert await service.send_due() == 0
    [mail] = [d for d in await service.deliveries_of(received.id) if d["channel"] == "email"]
    assert mail["status"] == "failed" and mail["attempts"] == 1
    failed = await service.db["commits"].find_one({"stream_id": f"delivery-{mail['_id']}"})
    assert failed["events"][0]["type"] == "NotificationFailed"
    # The bell entry does not depend on the mail.
    assert (await service.inbox_page(user, limit=5, offset=0))["unread"] == 1


async def test_a_sender_that_died_mid_send_is_replaced_after_its_lease(notifications, catcher):
    """The documented bound: a crash between "accepted" and "recorded" sends at most one
    duplicate, with the same Message-ID."""
    service, clock = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    await service.on_event(envelope(top_up(account)), top_up(account))
    claimed = await service._claim()  # a sender took it and died
    assert claimed is not None
    assert await service.send_due() == 0  # the lease still holds
    clock.advance(seconds=service.settings.send_lease_seconds + 1)
    assert await service.send_due() == 1
    assert len(catcher.messages(to=email)) == 1


async def test_switched_off_categories_skip_that_channel_but_receipts_never(notifications):
    service, _ = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    await register(service, account, user, f"{user}@example.com")
    await service.change_preferences(user, account, {"repairs": {"email": False}})
    with pytest.raises(DomainError):
        await service.change_preferences(user, account, {"billing_receipts": {"email": False}})
    await service.on_event(envelope(s.repair_registered()), _for(s.repair_registered(), account))
    ready = envelope(s.repair_ready())
    await service.on_event(ready, _for(s.repair_ready(), account))
    assert [d["channel"] for d in await service.deliveries_of(ready.id)] == ["in_app"]
    assert (await service.inbox_page(user, limit=5, offset=0))["total"] == 1
    receipt = envelope(top_up(account))
    await service.on_event(receipt, top_up(account))
    channels = sorted(d["channel"] for d in await service.deliveries_of(receipt.id))
    assert channels == ["email", "in_app"]


async def test_the_recipients_language_is_used(notifications, catcher):
    service, _ = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    await service.learn_person(
        UserProfileUpdated(
            user_id=user, account_id=account, name="Lan", language="en", occurred_at=s.NOW
        )
    )
    await service.on_event(envelope(top_up(account)), top_up(account))
    await service.send_due()
    [mail] = catcher.messages(to=email)
    assert mail.subject == "We received your top-up of 1.234.567 ₫"


async def test_a_user_removed_from_the_account_is_mailed_no_more(notifications, catcher):
    service, _ = notifications
    account = f"acc-{uuid.uuid4().hex[:8]}"
    owner, admin = f"u-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    await register(service, account, owner, f"{owner}@example.com")
    await register(service, account, admin, f"{admin}@example.com", role="admin")
    await service.learn_person(
        UserRemoved(
            user_id=admin,
            account_id=account,
            email=f"{admin}@example.com",
            removed_by=owner,
            occurred_at=s.NOW,
        )
    )
    await service.on_event(envelope(top_up(account)), top_up(account))
    await service.send_due()
    assert catcher.messages(to=f"{owner}@example.com")
    assert catcher.messages(to=f"{admin}@example.com") == []


async def test_an_account_nobody_knows_fails_the_event(notifications):
    service, _ = notifications
    with pytest.raises(Exception, match="nobody of account"):
        await service.on_event(envelope(top_up("acc-unknown")), top_up("acc-unknown"))


async def test_marking_read_one_and_all(notifications):
    service, _ = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    await register(service, account, user, f"{user}@example.com")
    for _ in range(3):
        await service.on_event(envelope(top_up(account)), top_up(account))
    page = await service.inbox_page(user, limit=10, offset=0)
    assert page["unread"] == 3
    first = page["items"][0]["id"]
    assert page["items"][0]["link"] == "/transactions"  # the bell entry opens its object
    assert (await service.mark_read(user, first))["read"] is True
    assert (await service.mark_read(user, first))["read"] is True  # again: told once
    assert (await service.inbox_page(user, limit=10, offset=0))["unread"] == 2
    with pytest.raises(NotFound):
        await service.mark_read("someone-else", first)
    assert await service.mark_all_read(user, account) == 2
    assert (await service.inbox_page(user, limit=10, offset=0, unread_only=True))["total"] == 0
    # What was marked is told as events, so the gateway's live bell counts down.
    told = [e.event for e in await service.store.read_stream(f"inbox-{user}")]
    assert [(e.count, e.notification_id) for e in told] == [(1, first), (2, None)]


def _for(event, account: str):
    return event.model_copy(update={"account_id": account})


class FakeLinkMails:
    """Identity's queued link mails, as its internal route would answer them."""

    def __init__(self) -> None:
        self.mails: dict[str, LinkMail] = {}
        self.reads = 0

    async def fetch(self, mail_id: str) -> LinkMail | None:
        self.reads += 1
        return self.mails.get(mail_id)


async def test_a_reset_link_is_mailed_once_to_the_address_identity_names_and_never_rung(
    notifications, catcher
):
    service, _ = notifications
    links = FakeLinkMails()
    service.link_mails = links
    user, mail_id = f"u-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    email = f"{user}@example.com"
    links.mails[mail_id] = LinkMail(
        id=mail_id,
        kind="password_reset",
        to=email,
        token="tok-123",
        expires_at=s.NOW,
        name="Lan",
        language="en",
    )
    event = PasswordResetRequested(
        user_id=user, account_id="acc-x", mail_id=mail_id, expires_at=s.NOW, occurred_at=s.NOW
    )
    received = envelope(event)
    for _ in range(3):  # redelivered
        await service.on_identity_event(received, event)
    assert await service.send_due() == 1
    [mail] = catcher.messages(to=email)
    assert mail.subject == "Reset your password" and "Hello Lan" in mail.body
    assert "/reset-password?token=tok-123" in mail.body
    assert (await service.inbox_page(user, limit=10, offset=0))["total"] == 0
    # A mail identity no longer has (its link expired and was purged) is not sent.
    gone = event.model_copy(update={"mail_id": "purged"})
    await service.on_identity_event(envelope(gone), gone)
    assert await service.send_due() == 0 and len(catcher.messages(to=email)) == 1


async def test_only_a_sign_in_from_a_new_device_is_mailed_once(notifications, catcher):
    service, _ = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)

    def sign_in(agent: str) -> LoginSucceeded:
        return LoginSucceeded(
            user_id=user,
            account_id=account,
            method="password",
            client_address="203.0.113.9",
            user_agent=agent,
            session_id=uuid.uuid4().hex,
            occurred_at=s.NOW,
        )

    for event in (sign_in("Phone"), sign_in("Phone")):  # where they registered, then again
        await service.on_identity_event(envelope(event), event)
    new = sign_in("Laptop")
    received = envelope(new)
    for _ in range(3):  # redelivered: the same decision, one message
        await service.on_identity_event(received, new)
    assert await service.send_due() == 1
    [mail] = catcher.messages(to=email)
    assert mail.subject == "Đăng nhập mới vào tài khoản" and "Laptop" in mail.body


async def test_mail_that_can_be_switched_off_carries_one_click_unsubscribe(notifications, catcher):
    service, _ = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    for event in (s.ticket_opened(), s.ticket_replied(), top_up(account)):
        event = event.model_copy(update={"account_id": account})
        await service.on_event(envelope(event), event)
    # The reply goes to who opened the ticket; here the owner stands in for them.
    assert await service.send_due() == 2
    reply = next(m for m in catcher.messages(to=email) if "Phản hồi mới" in m.subject)
    receipt = next(m for m in catcher.messages(to=email) if "nạp vào ví" in m.subject)
    url = reply.list_unsubscribe.strip("<>")
    assert url.startswith("http://127.0.0.1:8000/api/v1/notifications/unsubscribe?token="), (
        reply.list_unsubscribe
    )
    assert reply.list_unsubscribe_post == "List-Unsubscribe=One-Click"
    assert f"Hủy đăng ký: {url}" in reply.body
    # Receipts (and security mail) cannot be switched off: no link, no header.
    assert receipt.list_unsubscribe == "" and "unsubscribe" not in receipt.body
    bell = await service.inbox_page(user, limit=5, offset=0)
    assert all("unsubscribe" not in e["body"] for e in bell["items"])

    category, state = await service.unsubscribe(url.partition("token=")[2])
    assert category == "support" and state.switches["support"] == {"email": False, "in_app": True}
    assert (await service.unsubscribe(url.partition("token=")[2]))[1].version == state.version
    with pytest.raises(DomainError) as refused:
        await service.unsubscribe(url.partition("token=")[2][:-2])
    assert refused.value.code == "invalid_unsubscribe_token"
    second = s.ticket_replied().model_copy(update={"account_id": account, "reply_id": "r-2"})
    await service.on_event(envelope(second), second)
    assert await service.send_due() == 0  # switched off for mail; the bell still rings
    assert (await service.inbox_page(user, limit=5, offset=0))["total"] == bell["total"] + 1


async def test_a_storm_of_one_category_is_held_back_per_person_and_hour(
    notifications, catcher, monkeypatch
):
    service, clock = notifications
    monkeypatch.setenv("NOTIFICATIONS_RATE_LIMIT_PER_WINDOW", "2")
    monkeypatch.setenv("NOTIFICATIONS_RATE_LIMIT_WINDOW_SECONDS", "600")
    # The limit comes from the environment (the test's own settings leave it out).
    kept = service.settings.model_dump(
        exclude={"rate_limit_per_window", "rate_limit_window_seconds"}
    )
    service.settings = NotificationsSettings(**kept)
    assert service.settings.rate_limit_per_window == 2
    assert service.settings.rate_limit_window_seconds == 600
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    opened = s.ticket_opened().model_copy(update={"account_id": account})
    await service.on_event(envelope(opened), opened)

    async def reply(n: int) -> EventEnvelope:
        event = s.ticket_replied().model_copy(update={"account_id": account, "reply_id": f"r{n}"})
        received = envelope(event)
        await service.on_event(received, event)
        await service.on_event(received, event)  # redelivered: decided the same
        return received

    storm = [await reply(n) for n in range(4)]
    for _ in range(3):  # receipts are never held back
        await service.on_event(envelope(top_up(account)), top_up(account))
    assert await service.send_due() == 5
    assert sum("Phản hồi mới" in m.subject for m in catcher.messages(to=email)) == 2
    held = [d async for d in service.deliveries.find({"user_id": user, "status": "suppressed"})]
    assert [d["event_id"] for d in held] == [storm[2].id, storm[3].id]
    assert held[0]["last_error"].startswith("rate_limited") and held[0]["to"] == email
    failed = [
        c["events"][0]["data"]
        async for c in service.db["commits"].find({"events.type": "NotificationFailed"})
    ]
    assert sorted(f["source_event_id"] for f in failed) == sorted([storm[2].id, storm[3].id])
    page = await service.inbox_page(user, limit=20, offset=0)
    assert sum(e["template"] == "ticket_staff_reply" for e in page["items"]) == 4  # the bell
    assert await service.send_digests() == 0  # the window still runs
    clock.advance(seconds=601)  # the window has passed
    await reply(9)
    assert await service.send_due() == 1

    # What was held back comes as one digest once the window (and its grace) is over,
    # exactly once: two sweeps at the same time, and one after a crash before the held
    # mails were marked, queue it once.
    clock.advance(seconds=30)
    assert sorted(await asyncio.gather(service.send_digests(), service.send_digests())) == [0, 1]
    await service.deliveries.update_many({"user_id": user}, {"$unset": {"digest_id": ""}})
    assert await service.send_digests() == 0
    assert await service.send_due() == 1 and await service.send_due() == 0
    [digest] = [m for m in catcher.messages(to=email) if "Tổng hợp" in m.subject]
    assert digest.subject == "Tổng hợp 2 thông báo chưa gửi qua email"
    assert digest.body.count("Phản hồi mới") == 2  # each held mail listed by its subject
    [row] = [d async for d in service.deliveries.find({"user_id": user, "template": "digest"})]
    assert row["category"] == "digest" and sorted(row["held"]) == sorted(d["_id"] for d in held)
    log = await service.delivery_log({"user_id": user, "category": "digest"}, limit=5, offset=0)
    assert DeliveriesPage.model_validate(log).items[0].status == "sent"  # the staff log shows it


async def test_the_delivery_log_lists_every_channel_newest_first_with_filters(
    notifications, catcher
):
    service, clock = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    first = envelope(top_up(account))
    await service.on_event(first, top_up(account))
    clock.advance(seconds=5)
    await service.on_event(envelope(top_up(account)), top_up(account))
    assert await service.send_due() == 2

    page = await service.delivery_log({"to": email}, limit=10, offset=0)
    assert page["total"] == 4 and {i["channel"] for i in page["items"]} == {"email", "in_app"}
    assert all(i["recipient"] == email and i["status"] == "sent" for i in page["items"])
    assert page["items"][-1]["event_id"] == first.id  # newest first
    mails = await service.delivery_log({"to": email, "channel": "email"}, limit=1, offset=1)
    assert mails["total"] == 2 and [i["event_id"] for i in mails["items"]] == [first.id]
    assert mails["items"][0]["attempts"] == 1 and mails["items"][0]["template"] == "top_up_received"
    nothing = await service.delivery_log({"to": email, "status": "failed"}, limit=10, offset=0)
    assert nothing == {"items": [], "total": 0, "limit": 10, "offset": 0}


async def test_a_database_blip_after_the_send_is_recorded_without_waiting_out_the_lease(
    notifications, catcher, monkeypatch
):
    """The server accepted the mail, then the database was away for a moment: the outcome
    is recorded once it is back, not after the lease (which would also send it again)."""
    service, _ = notifications
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    await service.on_event(envelope(top_up(account)), top_up(account))
    real_set, failures = service._set, []

    async def away_once(key: str, **fields: object) -> None:
        if fields.get("status") == "sent" and not failures:
            failures.append(key)
            raise AutoReconnect("127.0.0.1:27017: connection closed")
        await real_set(key, **fields)

    monkeypatch.setattr(service, "_set", away_once)
    assert await service.send_due() == 1
    assert failures
    assert len(catcher.messages(to=email)) == 1
    mail = await service.deliveries.find_one({"_id": failures[0]})
    assert mail["status"] == "sent" and mail["lease_until"] is None
    recorded = await service.db["commits"].find_one({"stream_id": f"delivery-{failures[0]}"})
    assert recorded["events"][0]["type"] == "NotificationSent"


async def test_old_events_tell_nobody_but_are_still_remembered(notifications, catcher):
    """A first deploy reads every topic from its start: an event older than the limit
    updates what notifications knows (facts, people) and mails nobody."""
    service, clock = notifications
    service.settings = service.settings.model_copy(update={"notice_max_age_hours": 48})
    account, user = f"acc-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    email = f"{user}@example.com"
    await register(service, account, user, email)
    old = top_up(account).model_copy(update={"occurred_at": clock.now() - timedelta(hours=49)})
    await service.on_event(envelope(old), old)
    assert await service.send_due() == 0
    assert (await service.inbox_page(user, limit=5, offset=0))["total"] == 0
    fresh = top_up(account).model_copy(update={"occurred_at": clock.now() - timedelta(hours=47)})
    await service.on_event(envelope(fresh), fresh)
    assert await service.send_due() == 1
    assert len(catcher.messages(to=email)) == 1
