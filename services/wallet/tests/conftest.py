"""The wallet service in-process on the real wire server, with a clock the test controls."""

from datetime import UTC, datetime, timedelta

import pytest

from portal_chassis.clock import ManualClock
from portal_chassis.eventstore import EventStore
from portal_wallet.handlers import WalletService
from portal_wallet.payments import SandboxProvider
from portal_wallet.settings import WalletSettings

SECRET = "s3cret"


@pytest.fixture
async def wallet(mongo_db):
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    settings = WalletSettings(top_up_expiry_minutes=15)
    store = EventStore(mongo_db)
    await store.setup()
    provider = SandboxProvider(
        SECRET, expiry=timedelta(minutes=15), bank_bin="970436", bank_account="1"
    )
    service = WalletService(store, mongo_db, settings, {"sandbox": provider}, clock)
    await service.setup()
    return service, clock
