"""Notification use cases: learn who people are, turn events into messages, deliver them
exactly once per (event, recipient, channel), and serve the bell list and preferences.

Exactly once: every message has one delivery record keyed by its triple
(`domain.delivery_id`), inserted before anything is sent; a redelivered event finds it and
sends nothing. In-app messages are that record (the bell entry itself). A mail is claimed
with a lease before it is sent and marked sent after: a sender that dies between the
server's acceptance and the mark loses the lease, and the mail is sent again once: at most
one duplicate per such crash, carrying the same Message-ID so mail clients can fold it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner
from portal_chassis.consumer import is_transient
from portal_chassis.decider import BadInput, NotFound
from portal_chassis.eventstore import CommitMetadata, ConcurrencyError, EventStore
from portal_chassis.logging import get_logger
from portal_chassis.mongo import update_by_id
from portal_chassis.projection import insert_once
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.crm import (
    CareActivityCancelled,
    CareActivityCompleted,
    CareActivityDeleted,
    CareActivityRestored,
    CareActivityScheduled,
)
from portal_contracts.events.identity import (
    LinkMailRequested,
    LoginSucceeded,
    UserProfileUpdated,
    UserRegistered,
    UserRemoved,
    UserRoleChanged,
)
from portal_contracts.events.notifications import (
    NotificationFailed,
    NotificationSent,
    NotificationsRead,
)
from portal_notifications import unsubscribe
from portal_notifications.domain import (
    MANDATORY,
    PREFERENCES,
    CareDue,
    ChangePreferences,
    Facts,
    Held,
    Notice,
    Preferences,
    Recipient,
    care_reminders,
    channels_for,
    day_bounds,
    decide_notices,
    delivery_id,
    device_key,
    digests_due,
    is_new_device,
    link_for,
    link_template,
    over_rate_limit,
    preferences_stream,
    recipients_for,
    remember,
    retry_delay,
)
from portal_notifications.links import LinkMails
from portal_notifications.mail import Mailer, MailFailure
from portal_notifications.rendering import Renderer
from portal_notifications.settings import NotificationsSettings

log = get_logger(__name__)

PEOPLE = "people"
FACTS = "facts"
DELIVERIES = "deliveries"
INBOX = "inbox"
CLAIMS = "delivery_claims"
DEVICES = "devices"
CARE = "care_activities"
FACT_KEYS = (
    ("invoice", "invoice_id"),
    ("ticket", "ticket_id"),
    ("repair", "repair_id"),
    ("subscription", "subscription_id"),
    ("contact", "contact_id"),
)


class RecipientsUnknown(Exception):
    """Nobody of the account is known: identity's events have not arrived (or never will)."""


class NotificationsService:
    def __init__(
        self,
        store: EventStore,
        db: AsyncDatabase[dict[str, Any]],
        settings: NotificationsSettings,
        mailer: Mailer,
        clock: Clock,
        link_mails: LinkMails | None = None,
    ) -> None:
        self.store = store
        self.db = db
        self.settings = settings
        self.mailer = mailer
        self.clock = clock
        self.link_mails = link_mails
        self.renderer = Renderer(settings.portal_url)
        self.preferences_runner: CommandRunner[ChangePreferences, Preferences] = CommandRunner(
            store, PREFERENCES, "preferences", snapshot_every=settings.snapshot_every
        )
        self.people = db[PEOPLE]
        self.facts = db[FACTS]
        self.deliveries = db[DELIVERIES]
        self.inbox = db[INBOX]
        self.claims = db[CLAIMS]
        self.devices = db[DEVICES]
        self.care = db[CARE]
        self.on_mail_queued: Callable[[], None] = lambda: None
        """Called when a mail was queued, so the sender need not wait for its next tick."""

    async def setup(self) -> None:
        await self.people.create_index([("account_id", ASCENDING)])
        await self.devices.create_index([("user_id", ASCENDING)])
        await self.inbox.create_index([("user_id", ASCENDING), ("created_at", DESCENDING)])
        await self.inbox.create_index([("user_id", ASCENDING), ("read_at", ASCENDING)])
        await self.deliveries.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        await self.care.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        await self.deliveries.create_index(
            [("user_id", ASCENDING), ("category", ASCENDING), ("created_at", ASCENDING)]
        )
        await self.deliveries.create_index([("created_at", DESCENDING)])  # the staff's log

    # --- who is who (identity's events) ------------------------------------------------

    async def learn_person(self, event: DomainEvent) -> None:
        match event:
            case UserRegistered():
                fields = {
                    "account_id": event.account_id,
                    "email": event.email,
                    "name": event.name,
                    "role": event.role,
                    "platform_roles": event.platform_roles,
                    "department": event.department,
                }
            case UserRoleChanged():
                fields = {
                    "account_id": event.account_id,
                    "role": event.role,
                    "platform_roles": event.platform_roles,
                    "department": event.department,
                }
            case UserProfileUpdated():
                fields = {
                    "account_id": event.account_id,
                    "name": event.name,
                    "language": event.language,
                }
            case UserRemoved():
                # no longer one of the account's people: its mail must not reach them
                await self.people.delete_one({"_id": event.user_id})
                return
            case _:
                return
        await update_by_id(self.people, event.user_id, {"$set": fields})

    async def _people(self, account_id: str) -> list[Recipient]:
        rows = [
            row
            async for row in self.people.find({"account_id": account_id, "email": {"$exists": 1}})
        ]
        return [
            Recipient(
                user_id=row["_id"],
                account_id=row["account_id"],
                email=row["email"],
                name=row.get("name") or row["email"],
                role=row.get("role", "member"),
                language=row.get("language", "vi"),
                time_zone=row.get("time_zone", self.settings.default_time_zone),
                department=row.get("department"),
                platform_roles=tuple(row.get("platform_roles") or ()),
            )
            for row in rows
        ]

    async def _people_waiting(self, account_id: str) -> list[Recipient]:
        deadline = asyncio.get_running_loop().time() + self.settings.recipient_wait_seconds
        while True:
            people = await self._people(account_id)
            if people or asyncio.get_running_loop().time() >= deadline:
                return people
            await asyncio.sleep(0.5)

    # --- events -> messages ---------------------------------------------------------------

    async def _facts_for(self, event: DomainEvent) -> Facts:
        keys = [
            f"{kind}:{getattr(event, attr)}" for kind, attr in FACT_KEYS if hasattr(event, attr)
        ]
        if not keys:
            return {}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        async for row in self.facts.find({"_id": {"$in": keys}}):
            kind, _, key = row["_id"].partition(":")
            found[(kind, key)] = row["values"]
        return found

    async def on_event(self, envelope: EventEnvelope, event: DomainEvent) -> None:
        """Another context's event: remember what later notices need, then notify."""
        fact = remember(event)
        if fact is not None:
            merged = {f"values.{name}": value for name, value in fact.values.items()}
            await update_by_id(self.facts, f"{fact.kind}:{fact.id}", {"$set": merged})
        await self._track_care(event)
        facts = dict(await self._facts_for(event))
        if isinstance(event, LoginSucceeded):
            facts[("login", event.session_id)] = {
                "new_device": await self._new_device(envelope, event)
            }
        if self.clock.now() - event.occurred_at > timedelta(
            hours=self.settings.notice_max_age_hours
        ):
            # Long past: on a first deploy (or a new topic) the consumer reads a topic from
            # its start, and nobody wants a mail about a lead assigned last year.
            log.info("notice skipped: event too old", event_id=envelope.id, type=event.event_type)
            return
        notices = decide_notices(event, facts)
        for notice in notices:
            await self._notify(envelope.id, notice)

    async def on_identity_event(self, envelope: EventEnvelope, event: DomainEvent) -> None:
        """Identity's events: who people are, mails with one-time links, security notices."""
        await self.learn_person(event)
        if isinstance(event, LinkMailRequested):
            await self._mail_link(envelope.id, link_template(event), event)
        else:
            await self.on_event(envelope, event)

    async def _mail_link(self, event_id: str, template: str, event: LinkMailRequested) -> None:
        """Mail a reset or verification link to the address identity names: by mail only
        (a token has no place in the bell list), whatever the preferences (security)."""
        if self.link_mails is None:
            raise RuntimeError("no identity client to read link mails with")
        mail = await self.link_mails.fetch(event.mail_id)
        if mail is None:
            log.info("link mail gone before it was sent", event_id=event_id)
            return
        recipient = Recipient(
            user_id=event.user_id,
            account_id=event.account_id,
            email=mail.to,
            name=mail.name,
            role="",
            language=mail.language,
            time_zone=self.settings.default_time_zone,
        )
        data = {"token": mail.token, "expires_at": mail.expires_at, "email": mail.to}
        message = self.renderer.render(template, data, recipient)
        row = self._row(event_id, recipient, "email", "security", template, message)
        await self._queue_mail(row, recipient.email)

    def _row(
        self,
        event_id: str,
        recipient: Recipient,
        channel: str,
        category: str,
        template: str,
        message: Any,
    ) -> dict[str, Any]:
        return {
            "_id": delivery_id(event_id, recipient.user_id, channel),  # type: ignore[arg-type]
            "event_id": event_id,
            "user_id": recipient.user_id,
            "account_id": recipient.account_id,
            "channel": channel,
            "category": category,
            "template": template,
            "subject": message.subject,
            "body": message.body,
            "language": message.language,
            "created_at": self.clock.now(),
        }

    async def _queue_mail(self, row: dict[str, Any], to: str) -> bool:
        """Queue a mail once (its id is its identity); whether this call queued it."""
        mail = {
            **row,
            "to": to,
            "status": "queued",
            "attempts": 0,
            "due_at": self.clock.now(),
            "lease_until": None,
        }
        if not await insert_once(self.deliveries, mail):
            return False
        self.on_mail_queued()
        return True

    async def _new_device(self, envelope: EventEnvelope, event: LoginSucceeded) -> bool:
        """Remember the sign-in's device; new if this very event saw it first (so a
        redelivered event decides the same) and the user had another device before."""
        key = device_key(event.user_id, event.client_address, event.user_agent)
        if not await self.devices.find_one({"_id": key}):
            earlier = await self.devices.find_one({"user_id": event.user_id})
            await insert_once(
                self.devices,
                {
                    "_id": key,
                    "user_id": event.user_id,
                    "event_id": envelope.id,
                    "first_of_user": earlier is None,
                    "at": event.occurred_at,
                },
            )
        row = await self.devices.find_one({"_id": key})
        assert row is not None
        return is_new_device(row["event_id"], envelope.id, row["first_of_user"])

    async def _notify(self, event_id: str, notice: Notice) -> None:
        account = (
            self.settings.platform_account_id if notice.audience == "staff" else notice.account_id
        )
        people = await self._people_waiting(account)
        if not people and notice.audience != "staff":
            raise RecipientsUnknown(f"nobody of account {account} is known")
        # A platform without staff accounts yet: staff notices have nobody to tell.
        event_id = notice.key or event_id
        for recipient in recipients_for(notice, people):
            preferences, _ = await self.preferences_runner.load(
                preferences_stream(recipient.user_id)
            )
            message = self.renderer.render(notice.template, notice.data, recipient)
            for channel in channels_for(notice.category, preferences):
                if channel == "in_app":
                    row = self._row(
                        event_id, recipient, channel, notice.category, notice.template, message
                    )
                    entry = {**row, "read_at": None, "link": link_for(notice)}
                    if await insert_once(self.inbox, entry):
                        await self._record(row, NotificationSent, attempts=1)
                    # Listed in the delivery log beside the mails (never picked to send).
                    now = self.clock.now()
                    log_row = {**row, "to": recipient.email, "status": "sent", "sent_at": now}
                    await insert_once(self.deliveries, {**log_row, "attempts": 1})
                    continue
                url = self._unsubscribe_url(recipient.user_id, notice.category)
                mailed = self.renderer.with_unsubscribe(message, url) if url else message
                row = self._row(
                    event_id, recipient, channel, notice.category, notice.template, mailed
                )
                if await self._rate_limited(row, recipient.email):
                    continue
                await self._queue_mail({**row, "unsubscribe_url": url}, recipient.email)

    async def _rate_limited(self, row: dict[str, Any], to: str) -> bool:
        """Past the person's limit for the category: the mail is stored as suppressed
        (once, under its own key, so a redelivered event decides the same) and recorded
        as failed. Concurrent events may let a mail or two past the limit; the limit is a
        flood guard, not an exact count."""
        s = self.settings
        since = self.clock.now() - timedelta(seconds=s.rate_limit_window_seconds)
        sent = await self.deliveries.count_documents(
            {
                "user_id": row["user_id"],
                "channel": "email",
                "category": row["category"],
                "created_at": {"$gte": since},
                "status": {"$ne": "suppressed"},
            }
        )
        if not over_rate_limit(row["category"], sent, s.rate_limit_per_window):
            return False
        reason = (
            f"rate_limited: at most {s.rate_limit_per_window} {row['category']} mails "
            f"per {s.rate_limit_window_seconds:g} s to one person"
        )
        suppressed = {**row, "to": to, "status": "suppressed", "attempts": 0, "last_error": reason}
        if await insert_once(self.deliveries, suppressed):
            await self._record(row, NotificationFailed, attempts=0, reason=reason)
            log.warning("mail held back by the rate limit", delivery=row["_id"])
        return True

    async def send_digests(self) -> int:
        """Mails the rate limit held back, one digest per person and window once the window
        is over; returns how many digests were queued. Exactly once: a digest's id is its
        person and window, inserted once (a second run, or a run after a crash, finds it
        and only marks the held mails again)."""
        s = self.settings
        now = self.clock.now()
        # Mail held long ago (before digests existed) is not news any more: left alone.
        since = now - timedelta(hours=s.notice_max_age_hours)
        rows = {
            row["_id"]: row
            async for row in self.deliveries.find(
                {
                    "status": "suppressed",
                    "digest_id": {"$exists": False},
                    "created_at": {"$gte": since},
                }
            )
        }
        held = [
            Held(
                r["_id"],
                r["user_id"],
                r["subject"],
                r["category"],
                r["created_at"].replace(tzinfo=UTC),
            )
            for r in rows.values()
        ]
        queued = 0
        for digest in digests_due(held, now, s.rate_limit_window_seconds, s.digest_grace_seconds):
            latest = rows[digest.held[-1].delivery_id]
            person = await self.people.find_one({"_id": digest.user_id}) or {}
            recipient = Recipient(
                user_id=digest.user_id,
                account_id=latest["account_id"],
                email=latest["to"],
                name=person.get("name") or latest["to"],
                role=person.get("role", "member"),
                language=person.get("language", latest.get("language", "vi")),
                time_zone=person.get("time_zone", s.default_time_zone),
            )
            data = {
                "window_start": digest.window_start,
                "window_end": digest.window_end,
                "items": [{"subject": m.subject, "at": m.created_at} for m in digest.held],
            }
            message = self.renderer.render("digest", data, recipient)
            row = {
                **self._row(digest.key, recipient, "email", "digest", "digest", message),
                "_id": digest.key,
                "held": [m.delivery_id for m in digest.held],
            }
            queued += await self._queue_mail(row, recipient.email)
            await self.deliveries.update_many(
                {"_id": {"$in": [m.delivery_id for m in digest.held]}},
                {"$set": {"digest_id": digest.key}},
            )
        return queued

    def _unsubscribe_url(self, user_id: str, category: str) -> str | None:
        """The one-click link for a category that can be switched off; None otherwise."""
        if category in MANDATORY:
            return None
        token = unsubscribe.sign(
            self.settings.unsubscribe_secret, unsubscribe.Unsubscribe(user_id, category)
        )
        return f"{self.renderer.portal_url}/api/v1/notifications/unsubscribe?token={token}"

    def unsubscribe_token(self, token: str) -> unsubscribe.Unsubscribe:
        what = unsubscribe.verify(self.settings.unsubscribe_secret, token)
        if what is None:
            raise BadInput("invalid_unsubscribe_token", "this unsubscribe link is not valid")
        return what

    async def unsubscribe(self, token: str) -> tuple[str, Preferences]:
        """Switch the token's category off for mail (the bell keeps it)."""
        what = self.unsubscribe_token(token)
        person = await self.people.find_one({"_id": what.user_id})
        if person is None:
            raise NotFound("unsubscribe_user_not_found", "nobody to unsubscribe")
        preferences = await self.change_preferences(
            what.user_id, person["account_id"], {what.category: {"email": False}}
        )
        return what.category, preferences

    async def _record(
        self, row: dict[str, Any], kind: type[NotificationSent | NotificationFailed], **extra: Any
    ) -> None:
        """The outcome as an event, once per delivery (a second record loses the race)."""
        event = kind(
            user_id=row["user_id"],
            account_id=row["account_id"],
            delivery_id=row["_id"],
            source_event_id=row["event_id"],
            channel=row["channel"],
            category=row["category"],
            template=row["template"],
            occurred_at=self.clock.now(),
            **extra,
        )
        with contextlib.suppress(ConcurrencyError):
            await self.store.append(
                f"delivery-{row['_id']}",
                0,
                [event],
                metadata=CommitMetadata.current(tenant=row["account_id"]),
            )

    # --- care activities due today (a daily reminder, no event of its own) ---------------

    async def _track_care(self, event: DomainEvent) -> None:
        """Keep each care activity's caretaker, due time and status for the reminder."""
        match event:
            case CareActivityScheduled():
                contact = await self.facts.find_one({"_id": f"contact:{event.contact_id}"})
                fields: dict[str, Any] = {
                    "caretaker_id": event.caretaker_id,
                    "title": event.title,
                    "due_at": event.due_at,
                    "contact_name": ((contact or {}).get("values") or {}).get("name", ""),
                    "status": "planned",
                }
            case CareActivityCompleted():
                fields = {"status": "done"}
            case CareActivityCancelled():
                fields = {"status": "cancelled"}
            case CareActivityDeleted():
                fields = {"status": "deleted"}
            case CareActivityRestored():
                fields = {"status": event.status, "due_at": event.due_at}
            case _:
                return
        await update_by_id(self.care, event.activity_id, {"$set": fields})

    async def remind_care_due(self) -> int:
        """Once the business day's reminder hour has come, tell each caretaker what is
        due today; returns how many reminders were decided (sent at most once a day)."""
        zone = ZoneInfo(self.settings.default_time_zone)
        local = self.clock.now().astimezone(zone)
        if local.hour < self.settings.care_reminder_hour:
            return 0
        start, end = day_bounds(local.date(), self.settings.default_time_zone)
        due = [
            CareDue(
                activity_id=row["_id"],
                caretaker_id=row["caretaker_id"],
                title=row["title"],
                due_at=row["due_at"].replace(tzinfo=UTC),
                contact_name=row.get("contact_name", ""),
            )
            async for row in self.care.find(
                {"status": "planned", "due_at": {"$gte": start, "$lt": end}}
            )
        ]
        reminders = care_reminders(due, local.date())
        for notice in reminders:
            await self._notify(notice.key or "", notice)
        return len(reminders)

    # --- the mail sender ------------------------------------------------------------------

    async def _claim(self) -> dict[str, Any] | None:
        """Take one due mail for this sender. Each attempt is claimed by inserting its own
        `<delivery>#<attempt>` document: a unique insert is the one write FerretDB v1 makes
        atomic under concurrency (its findAndModify is not), so of many senders (replicas)
        exactly one wins each attempt."""
        now = self.clock.now()
        due = self.deliveries.find(
            {
                "$or": [
                    {"status": "queued", "due_at": {"$lte": now}},
                    # A sender died mid-send: its lease ran out, the mail is sent again.
                    {"status": "sending", "lease_until": {"$lte": now}},
                ]
            }
        ).sort([("due_at", ASCENDING)])
        async for mail in due.limit(self.settings.send_batch_size):
            attempt = mail["attempts"] + 1
            if not await insert_once(self.claims, {"_id": f"{mail['_id']}#{attempt}", "at": now}):
                continue  # another sender has this attempt
            lease_until = now + timedelta(seconds=self.settings.send_lease_seconds)
            await self._set(
                mail["_id"], status="sending", attempts=attempt, lease_until=lease_until
            )
            return {**mail, "status": "sending", "attempts": attempt, "lease_until": lease_until}
        return None

    async def send_due(self) -> int:
        """Send what is due; returns how many mails were accepted by the server."""
        sent = 0
        for _ in range(self.settings.send_batch_size):
            mail = await self._claim()
            if mail is None:
                break
            sent += await self._send(mail)
        return sent

    async def _send(self, mail: dict[str, Any]) -> int:
        attempts = mail["attempts"]
        try:
            await self.mailer.send(
                mail["to"],
                mail["subject"],
                mail["body"],
                mail["_id"],
                mail.get("unsubscribe_url"),
            )
        except MailFailure as failure:
            if failure.temporary and attempts < self.settings.delivery_max_attempts:
                delay = retry_delay(
                    attempts, self.settings.retry_base_seconds, self.settings.retry_max_seconds
                )
                await self._set(
                    mail["_id"],
                    status="queued",
                    due_at=self.clock.now() + timedelta(seconds=delay),
                    last_error=failure.reason[:500],
                )
                log.warning("mail not sent, retrying", delivery=mail["_id"], error=failure.reason)
                return 0
            reason = failure.reason[:500]
            await self._set(
                mail["_id"], status="failed", last_error=reason, failed_at=self.clock.now()
            )
            await self._record(mail, NotificationFailed, attempts=attempts, reason=reason)
            log.error("mail failed for good", delivery=mail["_id"], error=failure.reason)
            return 0
        sent_at = self.clock.now()
        await self._until_recorded(
            mail, lambda: self._set(mail["_id"], status="sent", sent_at=sent_at, lease_until=None)
        )
        await self._until_recorded(
            mail, lambda: self._record(mail, NotificationSent, attempts=attempts)
        )
        return 1

    async def _until_recorded(
        self, mail: dict[str, Any], step: Callable[[], Awaitable[Any]]
    ) -> None:
        """Record what became of a mail the server accepted, retrying while the database
        is away: given up, the mail stayed "sending" until its lease ran out (two minutes
        of silence after a few seconds' outage, then a second copy). The lease still
        bounds the wait, as it bounds a sender that dies here."""
        delay = 0.2
        while True:
            try:
                await step()
                return
            except Exception as exc:
                if not is_transient(exc) or self.clock.now() >= mail["lease_until"]:
                    raise
                log.warning("database away, retrying the mail's outcome", delivery=mail["_id"])
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _set(self, key: str, **fields: Any) -> None:
        await self.deliveries.update_one({"_id": key}, {"$set": fields})

    async def deliveries_of(self, event_id: str) -> list[dict[str, Any]]:
        return [row async for row in self.deliveries.find({"event_id": event_id})]

    async def delivery_log(
        self, filters: dict[str, str], *, limit: int, offset: int
    ) -> dict[str, Any]:
        """The delivery log, newest first, filtered by exact field values."""
        rows = (
            self.deliveries.find(filters)
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return {
            "items": [
                {**row, "id": row["_id"], "recipient": row.get("to", "")} async for row in rows
            ],
            "total": await self.deliveries.count_documents(filters),
            "limit": limit,
            "offset": offset,
        }

    # --- the bell list --------------------------------------------------------------------

    async def inbox_page(
        self, user_id: str, *, limit: int, offset: int, unread_only: bool = False
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"user_id": user_id}
        if unread_only:
            query["read_at"] = None
        rows = [
            row
            async for row in self.inbox.find(query)
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        ]
        return {
            "items": [_entry(row) for row in rows],
            "total": await self.inbox.count_documents(query),
            "unread": await self.inbox.count_documents({"user_id": user_id, "read_at": None}),
            "limit": limit,
            "offset": offset,
        }

    async def mark_read(self, user_id: str, notification_id: str) -> dict[str, Any]:
        # Only the owner's own entry; an unknown id and someone else's look the same.
        result = await self.inbox.update_one(
            {"_id": notification_id, "user_id": user_id, "read_at": None},
            {"$set": {"read_at": self.clock.now()}},
        )
        row = await self.inbox.find_one({"_id": notification_id, "user_id": user_id})
        if row is None:
            raise NotFound("notification_not_found", "no such notification")
        if result.modified_count:
            await self._tell_read(user_id, row["account_id"], 1, notification_id)
        return _entry(row)

    async def mark_all_read(self, user_id: str, account_id: str) -> int:
        result = await self.inbox.update_many(
            {"user_id": user_id, "read_at": None}, {"$set": {"read_at": self.clock.now()}}
        )
        if result.modified_count:
            await self._tell_read(user_id, account_id, result.modified_count, None)
        return result.modified_count

    async def _tell_read(
        self, user_id: str, account_id: str, count: int, notification_id: str | None
    ) -> None:
        """Entries marked read, as an event: the gateway's live bell counts down with it."""
        event = NotificationsRead(
            user_id=user_id,
            account_id=account_id,
            count=count,
            notification_id=notification_id,
            occurred_at=self.clock.now(),
        )
        await self.store.append_latest(
            f"inbox-{user_id}",
            [event],
            metadata=CommitMetadata.current(tenant=account_id, actor=user_id),
        )

    # --- preferences ----------------------------------------------------------------------

    async def preferences(self, user_id: str) -> Preferences:
        state, _ = await self.preferences_runner.load(preferences_stream(user_id))
        return state

    async def change_preferences(
        self, user_id: str, account_id: str, changes: dict[str, dict[str, bool]]
    ) -> Preferences:
        outcome = await self.preferences_runner.run(
            preferences_stream(user_id),
            ChangePreferences(user_id, account_id, changes, self.clock.now()),
            metadata=CommitMetadata.current(tenant=account_id, actor=user_id),
        )
        return outcome.state


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["_id"],
        "category": row["category"],
        "template": row["template"],
        "title": row["subject"],
        "body": row["body"],
        "created_at": row["created_at"],
        "read_at": row.get("read_at"),
        "read": row.get("read_at") is not None,
        "link": row.get("link"),
    }
