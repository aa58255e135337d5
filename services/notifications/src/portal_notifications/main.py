"""Wiring only: settings -> runtime -> service -> app."""

from __future__ import annotations

import httpx
from litestar import Litestar

from portal_chassis.bus import declare_publications
from portal_chassis.clock import Clock, clock_from_env
from portal_chassis.logging import configure_logging
from portal_chassis.periodic import Periodic
from portal_chassis.runtime import ServiceRuntime
from portal_chassis.service_auth import ServiceClient, ServiceTokenSource
from portal_chassis.web import create_app
from portal_contracts.registry import events_of
from portal_notifications import reactions
from portal_notifications.api import (
    DeliveriesController,
    NotificationsController,
    PreferencesController,
    UnsubscribeController,
)
from portal_notifications.handlers import NotificationsService
from portal_notifications.links import HttpLinkMails, LinkMails
from portal_notifications.mail import Mailer, SmtpMailer
from portal_notifications.settings import NotificationsSettings


def bootstrap(
    settings: NotificationsSettings | None = None,
    clock: Clock | None = None,
    mailer: Mailer | None = None,
    group_prefix: str = "notifications",
    link_mails: LinkMails | None = None,
) -> tuple[ServiceRuntime, NotificationsService]:
    settings = settings or NotificationsSettings()
    runtime = ServiceRuntime(settings)
    assert runtime.store is not None
    if link_mails is None:
        identity = httpx.AsyncClient(
            base_url=settings.identity_url, timeout=settings.identity_timeout_seconds
        )
        link_mails = HttpLinkMails(
            ServiceClient(identity, ServiceTokenSource.of(settings, identity))
        )
    service = NotificationsService(
        runtime.store,
        runtime.db,
        settings,
        mailer or SmtpMailer(settings),
        clock or clock_from_env(),
        link_mails,
    )
    declare_publications(runtime.broker, "notifications", events_of("notifications"))
    reactions.register(
        runtime.broker,
        service,
        max_attempts=settings.consumer_max_attempts,
        people_group=f"{group_prefix}-people",
        triggers_group=f"{group_prefix}-triggers",
    )
    return runtime, service


def create(settings: NotificationsSettings | None = None) -> Litestar:
    settings = settings or NotificationsSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime, service = bootstrap(settings)
    background = Periodic()
    background.every("send-mail", settings.send_poll_seconds, service.send_due)
    background.every("care-reminders", settings.care_reminder_poll_seconds, service.remind_care_due)
    background.every("digests", settings.digest_poll_seconds, service.send_digests)
    # A queued mail wakes the sender at once instead of at its next tick.
    service.on_mail_queued = lambda: background.wake("send-mail")

    async def start() -> None:
        await service.setup()
        await background.start()

    async def stop() -> None:
        await background.stop()

    return create_app(
        title="Notifications service",
        route_handlers=[
            NotificationsController,
            PreferencesController,
            UnsubscribeController,
            DeliveriesController,
        ],
        runtime=runtime,
        on_start=[start],
        on_stop=[stop],
        state={"notifications": service},
    )


def app() -> Litestar:
    """Factory for uvicorn: `uvicorn --factory portal_notifications.main:app`."""
    return create()
