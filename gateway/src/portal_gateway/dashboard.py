"""Dashboard read models, fed by every context's events.

Customer dashboard: one document per account holding everything it shows, so a read is
a single `_id` lookup (FerretDB v1 scans any other query). Staff dashboard: one document
per context (`_id` = the part's name) with platform-wide figures.

Each context contributes a `DashboardPart` (see PARTS): it turns events into updates of
the account document and/or its staff document, and renders its section. Updates go
through the chassis' apply_once, which remembers the last version applied per stream in
the same write, so replays and duplicates are harmless. One account's events arrive in
order on one partition, so read-modify-write of bounded lists is safe.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from litestar.response import ServerSentEventMessage
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.auth import Principal
from portal_chassis.problems import ProblemError
from portal_chassis.projection import VERSION, ProjectionStatus, apply_once
from portal_chassis.rebuild import STATUS, Gate, read_model_names
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.notifications import (
    NotificationEvent,
    NotificationSent,
    NotificationsRead,
)
from portal_contracts.events.wallet import (
    TopUpCompleted,
    TopUpFailed,
    TopUpRequested,
    WalletCredited,
    WalletDebited,
    WalletOpened,
)
from portal_gateway.dashboard_models import CustomerDashboard, NotificationsBell, StaffDashboard

PROJECTION = "gateway-dashboard"
DASHBOARDS = "dashboards"
STAFF_DASHBOARDS = "staff_dashboards"
BELLS = "bells"
"""One document per user: how many bell entries they got and marked read."""
READ_MODELS = [DASHBOARDS, STAFF_DASHBOARDS, BELLS]
RECENT = 10


class DashboardPart(Protocol):
    name: str
    contexts: frozenset[str]
    """The contexts whose events this part reads; others never reach it."""
    staff_reads_doc: bool
    """Whether `staff_update` looks at the staff document (else it gets {} and the
    projector saves a read per event)."""

    async def account_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        """A MongoDB update for the account's document (given as it is now), or None."""
        ...

    async def staff_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        """A MongoDB update for this part's staff document, or None."""
        ...

    def render(self, doc: dict[str, Any], principal: Principal) -> dict[str, Any] | None:
        """This part's section of the customer dashboard (None: not shown to this user)."""
        ...

    def render_staff(self, doc: dict[str, Any], now: datetime) -> dict[str, Any]: ...


def newest_first(
    row: dict[str, Any], rows: list[dict[str, Any]], key: str = "occurred_at", limit: int = RECENT
) -> list[dict[str, Any]]:
    """Insert or replace `row` (by "id") in a bounded, newest-first list."""
    rest = [r for r in rows if r.get("id") != row["id"]]
    return sorted([row, *rest], key=lambda r: r[key], reverse=True)[:limit]


class WalletPart:
    name = "wallet"
    contexts = frozenset({"wallet"})
    staff_reads_doc = False

    async def account_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        match event:
            case WalletOpened():
                return {"$set": {"wallet.currency": event.currency}}
            case TopUpRequested():
                return {"$inc": {"wallet.top_ups_requested": 1}}
            case TopUpCompleted():
                return {
                    "$inc": {
                        "wallet.total_topped_up": event.amount_received,
                        "wallet.top_ups_completed": 1,
                    }
                }
            case TopUpFailed():
                return {"$inc": {"wallet.top_ups_failed": 1}}
            case WalletCredited() | WalletDebited():
                row = {
                    # The transaction's own id, as in the wallet's history (not the event's).
                    "id": event.transaction_id,
                    "kind": "credit" if isinstance(event, WalletCredited) else "debit",
                    "amount": event.amount,
                    "currency": event.currency,
                    "balance_after": event.balance_after,
                    "reason": event.reason,
                    "reference": event.reference,
                    "occurred_at": event.occurred_at,
                }
                # balance_after is authoritative and events arrive in stream order.
                return {
                    "$set": {
                        "wallet.balance": event.balance_after,
                        "wallet.currency": event.currency,
                        "recent_transactions": newest_first(
                            row, doc.get("recent_transactions", [])
                        ),
                    }
                }
        return None

    async def staff_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        match event:
            case TopUpCompleted():
                return {
                    "$inc": {
                        "top_ups_completed": 1,
                        f"topped_up.{event.currency}": event.amount_received,
                    }
                }
            case TopUpFailed():
                return {"$inc": {"top_ups_failed": 1}}
        return None

    def render(self, doc: dict[str, Any], principal: Principal) -> dict[str, Any] | None:
        if not (principal.manages_account or principal.is_staff):
            return None  # an account's staff users see notices, not billing
        wallet = doc.get("wallet", {})
        return {
            "wallet": {
                "balance": wallet.get("balance", 0),
                "currency": wallet.get("currency", "VND"),
                "total_topped_up": wallet.get("total_topped_up", 0),
                "top_ups_completed": wallet.get("top_ups_completed", 0),
                "top_ups_failed": wallet.get("top_ups_failed", 0),
            },
            "recent_transactions": doc.get("recent_transactions", []),
        }

    def render_staff(self, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
        return {
            "top_ups_completed": doc.get("top_ups_completed", 0),
            "top_ups_failed": doc.get("top_ups_failed", 0),
            "topped_up": doc.get("topped_up", {}),
        }


def bell_update(event: DomainEvent) -> dict[str, Any] | None:
    """The user's bell counters: both only grow, so events of different streams (a new
    entry, a mark-read) may arrive in any order and still add up."""
    match event:
        case NotificationSent(channel="in_app"):
            return {"$inc": {"received": 1}}
        case NotificationsRead():
            return {"$inc": {"read": event.count}}
    return None


def unread(doc: dict[str, Any] | None) -> int:
    doc = doc or {}
    return max(0, int(doc.get("received", 0)) - int(doc.get("read", 0)))


def _parts() -> list[DashboardPart]:
    from portal_gateway.dashboard_billing import BillingPart
    from portal_gateway.dashboard_crm import CrmPart
    from portal_gateway.dashboard_repairs import RepairsPart
    from portal_gateway.dashboard_tickets import TicketsPart

    return [WalletPart(), BillingPart(), CrmPart(), TicketsPart(), RepairsPart()]


PARTS: list[DashboardPart] = _parts()
"""Every context's contribution, in the order the dashboards show them."""


class DashboardProjection:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        parts: list[DashboardPart] | None = None,
        read_models: dict[str, str] | None = None,
        *,
        live: bool = True,
    ) -> None:
        self.db = db
        self.use_read_models(read_models or read_model_names(None, READ_MODELS))
        # Only the live projection reports its lag; a rebuild reports its own progress.
        self.status: ProjectionStatus | None = ProjectionStatus(db, PROJECTION) if live else None
        self.parts = parts if parts is not None else PARTS
        # The consumer handles different accounts' events concurrently; a part's staff
        # document is shared by all of them and some updates are computed from it.
        self._staff_locks = {part.name: asyncio.Lock() for part in self.parts}
        self.gate = Gate()
        """Closed by a blue/green rebuild for its last pass and switch-over."""

    def use_read_models(self, names: dict[str, str]) -> None:
        self.dashboards = self.db[names[DASHBOARDS]]
        self.staff = self.db[names[STAFF_DASHBOARDS]]
        self.bells = self.db[names[BELLS]]

    async def setup(self) -> None:
        """The collections readers use now (a rebuild may have moved them)."""
        doc = await self.db[STATUS].find_one({"_id": PROJECTION})
        self.use_read_models(read_model_names(doc, READ_MODELS))

    async def handle(self, envelope: EventEnvelope, event: DomainEvent) -> None:
        async with self.gate.passing():
            await self._handle(envelope, event)

    async def _handle(self, envelope: EventEnvelope, event: DomainEvent) -> None:
        bell = bell_update(event)
        if bell is not None and isinstance(event, NotificationEvent):
            await apply_once(self.bells, event.user_id, envelope, bell)
        account_id = getattr(event, "account_id", None) or envelope.tenant
        account_doc: dict[str, Any] | None = None
        for part in self.parts:
            if event.context not in part.contexts:
                continue  # no document read for events this part ignores
            if account_id:
                if account_doc is None:
                    account_doc = await self.dashboards.find_one({"_id": account_id}) or {}
                update = await part.account_update(account_doc, envelope, event)
                if update:
                    update.setdefault("$set", {})["updated_at"] = event.occurred_at
                    await apply_once(self.dashboards, account_id, envelope, update)
                    account_doc = None  # re-read for the next part
            async with self._staff_locks[part.name]:
                staff_doc: dict[str, Any] = {}
                if part.staff_reads_doc:
                    staff_doc = await self.staff.find_one({"_id": part.name}) or {}
                staff_update = await part.staff_update(staff_doc, envelope, event)
                if staff_update:
                    await apply_once(self.staff, part.name, envelope, staff_update)
        if self.status is not None:
            await self.status.applied(envelope)


class StreamSlots:
    """Live streams each user holds open on this replica (each one polls the database)."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self.open: Counter[str] = Counter()

    def take(self, user_id: str) -> Callable[[], None]:
        """A slot for one more stream, or 429; the answer releases it (once)."""
        if self.open[user_id] >= self.per_user:
            raise ProblemError(
                429,
                "too_many_streams",
                f"at most {self.per_user} live dashboards at once; close one first",
                retry_after=5,
            )
        self.open[user_id] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.open[user_id] -= 1
                if self.open[user_id] <= 0:
                    del self.open[user_id]

        return release


class DashboardQueries:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        parts: list[DashboardPart] | None = None,
        streams_per_user: int = 5,
    ) -> None:
        self.db = db
        self.parts = parts if parts is not None else PARTS
        self.streams = StreamSlots(streams_per_user)
        self._names = read_model_names(None, READ_MODELS)

    async def _status(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The projection's status and the collections it names (a blue/green rebuild
        switches them): read before the read model itself, and used by this read only
        (a concurrent read may have seen an older status)."""
        doc = await self.db[STATUS].find_one({"_id": PROJECTION}) or {}
        self._names = names = read_model_names(doc, READ_MODELS)
        return doc, names

    def _collection(self, name: str) -> AsyncCollection[dict[str, Any]]:
        return self.db[self._names[name]]

    @staticmethod
    def _projection(status: dict[str, Any]) -> dict[str, Any]:
        return {"lag_seconds": status.get("lag_seconds"), "as_of": datetime.now(UTC)}

    async def version_of(self, account_id: str) -> Any:
        """What changes whenever the account's dashboard does: its change counter."""
        # The collection is the one of the last board read: after a rebuild's switch the
        # old one stops moving and is dropped, and the next board read finds the new one.
        doc = await self._collection(DASHBOARDS).find_one({"_id": account_id}, {VERSION: 1})
        return (self._names[DASHBOARDS], None if doc is None else doc.get(VERSION))

    async def staff_version(self) -> Any:
        """What changes whenever the staff dashboard does: each part's change counter
        (one small query; the board itself is read only when this moved)."""
        docs = self._collection(STAFF_DASHBOARDS).find({}, {VERSION: 1})
        found = sorted([(doc["_id"], doc.get(VERSION)) async for doc in docs])
        return (self._names[STAFF_DASHBOARDS], found)

    async def bell_version(self, user_id: str) -> Any:
        doc = await self._collection(BELLS).find_one({"_id": user_id}, {VERSION: 1})
        return (self._names[BELLS], None if doc is None else doc.get(VERSION))

    async def bell(self, user_id: str) -> dict[str, Any]:
        return {"unread": unread(await self._collection(BELLS).find_one({"_id": user_id}))}

    async def for_account(self, principal: Principal) -> dict[str, Any]:
        status, names = await self._status()
        doc = await self.db[names[DASHBOARDS]].find_one({"_id": principal.account_id}) or {}
        board: dict[str, Any] = {
            "account_id": principal.account_id,
            "updated_at": doc.get("updated_at"),
        }
        for part in self.parts:
            board.update(part.render(doc, principal) or {})
        board["projection"] = self._projection(status)
        return board

    async def for_staff(self) -> dict[str, Any]:
        status, names = await self._status()
        now = datetime.now(UTC)
        board: dict[str, Any] = {}
        for part in self.parts:
            doc = await self.db[names[STAFF_DASHBOARDS]].find_one({"_id": part.name}) or {}
            board[part.name] = part.render_staff(doc, now)
        board["projection"] = self._projection(status)
        return board


def live_dashboard(
    queries: DashboardQueries,
    principal: Principal,
    *,
    poll: float,
    heartbeat: float,
    lifetime: float,
    staff: bool = False,
) -> AsyncIterator[ServerSentEventMessage]:
    """The account's dashboard (or, with `staff`, the staff dashboard) now, then again each
    time its read model changes; and the same for the user's bell (unread count).

    Any gateway replica can serve the stream: it watches the shared read model (one `_id`
    read per tick), so it needs no message bus of its own. A user holds a bounded number
    of streams: the slot is taken here, before the answer starts (429 above the cap), and
    given back when the stream ends, fails, or is dropped without ever being started.
    """
    release = queries.streams.take(principal.user_id)
    if staff:
        board = Feed("dashboard", queries.staff_version, queries.for_staff, StaffDashboard)
    else:
        board = Feed(
            "dashboard",
            partial(queries.version_of, principal.account_id),
            partial(queries.for_account, principal),
            CustomerDashboard,
        )
    bell = Feed(
        "notifications",
        partial(queries.bell_version, principal.user_id),
        partial(queries.bell, principal.user_id),
        NotificationsBell,
    )
    stream = _live([board, bell], poll, heartbeat, lifetime, release)
    weakref.finalize(stream, release)
    return stream


@dataclass(frozen=True)
class Feed:
    """One kind of message of a live stream: sent at once, then whenever `version` moves."""

    event: str
    version: Callable[[], Awaitable[Any]]
    read: Callable[[], Awaitable[dict[str, Any]]]
    model: type[CustomerDashboard | StaffDashboard | NotificationsBell]


async def _live(
    feeds: list[Feed],
    poll: float,
    heartbeat: float,
    lifetime: float,
    release: Callable[[], None],
) -> AsyncIterator[ServerSentEventMessage]:
    try:
        loop = asyncio.get_running_loop()
        ends, quiet_since = loop.time() + lifetime, loop.time()
        seen: list[Any] = [object() for _ in feeds]
        while loop.time() < ends:
            moved = False
            for i, feed in enumerate(feeds):
                version = await feed.version()
                if version == seen[i]:
                    continue
                seen[i], moved = version, True
                # The same typed answer as the matching GET, never a looser one.
                yield ServerSentEventMessage(
                    data=feed.model.model_validate(await feed.read()).model_dump_json(),
                    event=feed.event,
                )
            if moved:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= heartbeat:
                yield ServerSentEventMessage(comment="keep-alive")
                quiet_since = loop.time()
            await asyncio.sleep(poll)
    finally:
        release()
