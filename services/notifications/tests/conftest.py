"""The notifications service in-process on the real wire server, with a clock the test
controls and an SMTP catcher (aiosmtpd) on a free port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from portal_chassis.clock import ManualClock
from portal_chassis.eventstore import EventStore
from portal_notifications.handlers import NotificationsService
from portal_notifications.mail import SmtpMailer
from portal_notifications.settings import NotificationsSettings
from portal_tests.mailcatcher import MailCatcher


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    caught = MailCatcher(port=free_port())
    caught.start()
    yield caught
    caught.stop()


@pytest.fixture
async def notifications(mongo_db, catcher):
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    settings = NotificationsSettings(
        smtp_port=catcher.port,
        smtp_timeout_seconds=5,
        retry_base_seconds=30,
        delivery_max_attempts=3,
        recipient_wait_seconds=0.5,
        # The samples are dated (samples.NOW) and the clock is today's: no sample is too
        # old to notify about (test_old_events_tell_nobody checks the limit).
        notice_max_age_hours=24 * 365 * 50,
    )
    store = EventStore(mongo_db)
    await store.setup()
    service = NotificationsService(store, mongo_db, settings, SmtpMailer(settings), clock)
    await service.setup()
    return service, clock
