"""Use cases of the wallet: each turns a request into a command and runs it."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from portal_chassis.clock import Clock
from portal_chassis.commands import CommandRunner, Outcome
from portal_chassis.decider import DomainError, NotFound
from portal_chassis.eventstore import CommitMetadata, EventStore, request_fingerprint
from portal_chassis.logging import get_logger
from portal_chassis.mongo import ensure_indexes
from portal_chassis.projection import insert_once
from portal_contracts.events.wallet import (
    CreditReason,
    DebitReason,
    DebitRejected,
    PaymentMethod,
    TopUpHeldForReview,
    TopUpRequested,
    WalletCredited,
    WalletDebited,
)
from portal_wallet import domain
from portal_wallet.domain import HeldCredit, OpenWallet, PaymentPolicy, TopUp, TopUpLimits
from portal_wallet.payments import PaymentProvider, WebhookPayload
from portal_wallet.settings import WalletSettings

log = get_logger(__name__)

REFERENCES = "payment_references"
PROVIDER_EVENTS = "provider_events"
TRANSACTIONS = "transactions"


def top_up_view(top_up: TopUp, qr_payload: str | None = None) -> dict[str, Any]:
    payment: dict[str, Any] = {
        "provider": top_up.provider,
        "reference": top_up.reference,
        "expires_at": top_up.expires_at,
    }
    if qr_payload:
        payment["qr_payload"] = qr_payload
    return {
        "id": top_up.top_up_id,
        "status": top_up.status,
        "amount": top_up.amount,
        "currency": top_up.currency,
        "method": top_up.method,
        "amount_received": top_up.amount_received,
        "failure_reason": top_up.failure_reason,
        "created_at": top_up.requested_at,
        "completed_at": top_up.completed_at,
        "payment": payment,
    }


def hold_view(account_id: str, hold: HeldCredit, top_up: TopUp) -> dict[str, Any]:
    """A held payment as staff see it (the same shape as a row of the staff list)."""
    return {
        "id": hold.hold_id,
        "account_id": account_id,
        "top_up_id": hold.top_up_id,
        "payment_reference": top_up.reference,
        "provider_event_id": hold.provider_event_id,
        "amount": hold.amount,
        "amount_requested": top_up.amount,
        "currency": hold.currency,
        "hold_reason": hold.reason,
        "status": hold.status,
        "held_at": hold.held_at,
        "settled_by": hold.settled_by,
        "settled_at": hold.settled_at,
    }


def held_row(event: TopUpHeldForReview, stream_version: int) -> dict[str, Any]:
    """The transactions row of a held payment: the customer's history shows it as "held",
    staff list and settle holds from it. Written by the webhook handler at once (so staff
    can act while Kafka is away) and by the projection (so a crash in between loses
    nothing); both insert the same row once."""
    return {
        "_id": event.hold_id,
        "account_id": event.account_id,
        "kind": "held",
        "status": "held",
        "amount": event.amount_received,
        "currency": event.currency,
        "balance_after": event.balance,
        "reason": "top_up",
        "reference": event.reference,  # the payment memo, as on the credit row
        "occurred_at": event.occurred_at,
        "stream_version": stream_version,
        "top_up_id": event.top_up_id,
        "payment_reference": event.reference,
        "provider_event_id": event.provider_event_id,
        "amount_requested": event.amount_requested,
        "hold_reason": event.reason,
        "held_at": event.occurred_at,
        "settled_by": None,
        "settled_at": None,
    }


async def record_settled(
    collection: AsyncCollection[dict[str, Any]],
    hold_id: str,
    status: str,
    staff: str | None,
    at: datetime | None,
) -> None:
    # A plain $set of values taken from the event: applying it again changes nothing.
    await collection.update_one(
        {"_id": hold_id}, {"$set": {"status": status, "settled_by": staff, "settled_at": at}}
    )


HOLD_FIELDS = (
    "account_id",
    "top_up_id",
    "payment_reference",
    "provider_event_id",
    "amount",
    "amount_requested",
    "currency",
    "hold_reason",
    "status",
    "held_at",
    "settled_by",
    "settled_at",
)


class InvalidWebhookBody(DomainError):
    """A signed webhook whose body is not a payment event we understand: nothing is stored."""

    status_code = 400


class WalletService:
    def __init__(
        self,
        store: EventStore,
        db: AsyncDatabase[dict[str, Any]],
        settings: WalletSettings,
        providers: dict[str, PaymentProvider],
        clock: Clock,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.store = store
        self.runner: CommandRunner[domain.Command, domain.NoWallet | OpenWallet] = CommandRunner(
            store, domain.wallet_decider, "wallet", snapshot_every=settings.snapshot_every
        )
        self.db = db
        self.settings = settings
        self.providers = providers
        self.clock = clock
        self.new_id = new_id
        self.limits = TopUpLimits(settings.min_top_up, settings.max_top_up, settings.max_balance)
        self.policy = PaymentPolicy(settings.max_balance, settings.overpayment_tolerance_percent)

    async def setup(self) -> None:
        await ensure_indexes(
            self.db[REFERENCES],
            [
                IndexModel([("open", ASCENDING), ("expires_at", ASCENDING)], name="open_expiry"),
            ],
        )
        await ensure_indexes(
            self.db[TRANSACTIONS],
            [
                IndexModel(
                    [("account_id", ASCENDING), ("occurred_at", DESCENDING)], name="account_time"
                ),
                IndexModel(
                    [("kind", ASCENDING), ("status", ASCENDING), ("occurred_at", DESCENDING)],
                    name="holds",
                ),
            ],
        )

    def _metadata(self, account_id: str, actor: str | None) -> CommitMetadata:
        return CommitMetadata.current(tenant=account_id, actor=actor)

    async def open_wallet(self, account_id: str, *, cause: str) -> bool:
        """Open the account's wallet (reaction to AccountRegistered); True if opened now."""
        outcome = await self.runner.run(
            domain.stream_id(account_id),
            domain.OpenAccountWallet(
                account_id=account_id, now=self.clock.now(), opening_currency=self.settings.currency
            ),
            idempotency_key=f"open:{cause}",
            metadata=self._metadata(account_id, "system:identity"),
        )
        return outcome.commit is not None and not outcome.replayed

    # --- top-ups ---

    async def request_top_up(
        self,
        account_id: str,
        amount: int,
        currency: str,
        method: PaymentMethod,
        *,
        actor: str | None = None,
        idempotency_key: str | None = None,
        open_if_missing: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Returns the top-up view and whether it was created now (False on a replay).

        `open_if_missing`: the caller's token proves the account exists, so a wallet that
        AccountRegistered has not opened yet (Kafka away, backlog) is opened by this request.
        """
        stream = domain.stream_id(account_id)
        fingerprint = request_fingerprint(
            {"op": "top_up", "amount": amount, "currency": currency, "method": method}
        )
        provider = self.providers["sandbox"]
        now = self.clock.now()
        instructions = provider.instructions(amount, currency, method, now)
        top_up_id = self.new_id()
        command = domain.RequestTopUp(
            account_id=account_id,
            now=now,
            opening_currency=self.settings.currency,
            top_up_id=top_up_id,
            amount=amount,
            currency=currency,
            method=method,
            provider=provider.name,
            reference=instructions.reference,
            expires_at=instructions.expires_at,
            limits=self.limits,
            open_if_missing=open_if_missing,
        )

        async def reserve_reference(command: domain.Command) -> domain.Command:
            # Recorded before the append, once the request passed the rules: a webhook can
            # always find its stream; a reference whose append then failed matches nothing.
            await self.db[REFERENCES].insert_one(
                {
                    "_id": instructions.reference,
                    "account_id": account_id,
                    "top_up_id": top_up_id,
                    "provider": provider.name,
                    "expires_at": instructions.expires_at,
                    "open": True,
                    "qr_payload": instructions.qr_payload,
                }
            )
            return command

        # A retried request (its key) is answered by the runner before anything is made.
        outcome = await self.runner.run(
            stream,
            command,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            metadata=self._metadata(account_id, actor),
            now=now,
            allocate=reserve_reference,
        )
        if outcome.replayed and outcome.commit is not None:
            return await self._top_up_from_commit(account_id, outcome.commit.events), False
        assert isinstance(outcome.state, OpenWallet)
        return top_up_view(outcome.state.top_ups[top_up_id], instructions.qr_payload), True

    async def _top_up_from_commit(self, account_id: str, events: Any) -> dict[str, Any]:
        for stored in events:
            if isinstance(stored.event, TopUpRequested):
                return await self.get_top_up(account_id, stored.event.top_up_id)
        raise DomainError(
            "idempotency_key_reused", "this Idempotency-Key was used for another request"
        )

    async def get_top_up(self, account_id: str, top_up_id: str) -> dict[str, Any]:
        state, _ = await self.runner.load(domain.stream_id(account_id))
        if not isinstance(state, OpenWallet) or top_up_id not in state.top_ups:
            raise NotFound("top_up_not_found", "no such top-up")
        top_up = state.top_ups[top_up_id]
        ref = await self.db[REFERENCES].find_one({"_id": top_up.reference})
        return top_up_view(top_up, ref.get("qr_payload") if ref else None)

    async def list_top_ups(self, account_id: str, limit: int, offset: int) -> dict[str, Any]:
        state, _ = await self.runner.load(domain.stream_id(account_id))
        items = list(state.top_ups.values()) if isinstance(state, OpenWallet) else []
        items.sort(key=lambda t: t.requested_at, reverse=True)
        return {
            "items": [top_up_view(t) for t in items[offset : offset + limit]],
            "total": len(items),
            "limit": limit,
            "offset": offset,
        }

    async def handle_webhook(
        self, provider_name: str, raw_body: bytes, signature: str | None
    ) -> dict[str, Any]:
        provider = self.providers.get(provider_name)
        if provider is None:
            raise NotFound("unknown_provider", f"no payment provider {provider_name!r}")
        now = self.clock.now()
        provider.verify(raw_body, signature, now)
        try:
            payload = WebhookPayload.model_validate_json(raw_body)
        except ValueError as exc:
            errors = json.loads(exc.json()) if hasattr(exc, "json") else str(exc)
            raise InvalidWebhookBody(
                "invalid_webhook_body", "the webhook body is not valid", errors=errors
            ) from None
        event_key = f"{provider_name}:{payload.id}"
        if await self.db[PROVIDER_EVENTS].find_one({"_id": event_key}):
            return {"status": "duplicate", "event_id": payload.id}
        ref = await self.db[REFERENCES].find_one({"_id": payload.reference})
        if ref is None or ref.get("provider") != provider_name:
            raise NotFound("unknown_reference", "no top-up has this payment reference")
        account_id = ref["account_id"]
        command: domain.Command
        if payload.type == "payment.succeeded":
            command = domain.RecordPaymentSucceeded(
                account_id=account_id,
                now=now,
                opening_currency=self.settings.currency,
                top_up_id=ref["top_up_id"],
                provider_event_id=payload.id,
                amount=payload.amount,
                currency=payload.currency,
                transaction_id=self.new_id(),
                hold_id=self.new_id(),
                policy=self.policy,
            )
        else:
            command = domain.RecordPaymentFailed(
                account_id=account_id,
                now=now,
                opening_currency=self.settings.currency,
                top_up_id=ref["top_up_id"],
                provider_event_id=payload.id,
            )
        # The provider event id is the idempotency key, in the same write as the credit.
        outcome = await self.runner.run(
            domain.stream_id(account_id),
            command,
            idempotency_key=f"provider:{event_key}",
            metadata=self._metadata(account_id, f"provider:{provider_name}"),
            now=now,
        )
        with contextlib.suppress(DuplicateKeyError):
            await self.db[PROVIDER_EVENTS].insert_one(
                {"_id": event_key, "reference": payload.reference, "received_at": now}
            )
        await self.db[REFERENCES].update_one({"_id": payload.reference}, {"$set": {"open": False}})
        held = [
            (e.event, e.version)
            for e in (outcome.commit.events if outcome.commit else [])
            if isinstance(e.event, TopUpHeldForReview)
        ]
        for event, version in held:  # again on a replay: the first try may have crashed here
            await insert_once(self.db[TRANSACTIONS], held_row(event, version))
        if outcome.replayed:
            return {"status": "duplicate", "event_id": payload.id}
        # Accepted either way (200): the money is the customer's, credited or held.
        if held:
            hold = held[0][0]
            log.warning(
                "payment held for review",
                account_id=account_id,
                hold_id=hold.hold_id,
                reason=hold.reason,
                amount=hold.amount_received,
                amount_requested=hold.amount_requested,
            )
            return {"status": "held", "event_id": payload.id, "hold_id": hold.hold_id}
        return {"status": "processed", "event_id": payload.id}

    async def expire_due(self) -> int:
        """Fail pending top-ups whose payment window has closed; returns how many."""
        now = self.clock.now()
        expired = 0
        cursor = self.db[REFERENCES].find({"open": True, "expires_at": {"$lte": now}})
        async for ref in cursor:
            outcome = await self.runner.run(
                domain.stream_id(ref["account_id"]),
                domain.ExpireTopUps(
                    account_id=ref["account_id"], now=now, opening_currency=self.settings.currency
                ),
                metadata=self._metadata(ref["account_id"], "system:expiry"),
                now=now,
            )
            expired += len(outcome.commit.events) if outcome.commit else 0
            await self.db[REFERENCES].update_one({"_id": ref["_id"]}, {"$set": {"open": False}})
        return expired

    # --- payments held for review (staff) ---

    async def list_holds(
        self, *, status: str | None, account_id: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        """Held payments across accounts, newest first (from the transactions read model)."""
        query: dict[str, Any] = {"kind": "held"}
        if status:
            query["status"] = status
        if account_id:
            query["account_id"] = account_id
        coll = self.db[TRANSACTIONS]
        total = await coll.count_documents(query)
        cursor = (
            coll.find(query)
            .sort([("occurred_at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        items = [{"id": doc["_id"], **{k: doc.get(k) for k in HOLD_FIELDS}} async for doc in cursor]
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    async def _hold_account(self, hold_id: str) -> str:
        row = await self.db[TRANSACTIONS].find_one({"_id": hold_id, "kind": "held"})
        if row is None:
            raise NotFound("hold_not_found", "no held payment has this id")
        return str(row["account_id"])

    async def release_hold(self, hold_id: str, staff: str) -> dict[str, Any]:
        """Credit a held payment; once, however often or concurrently it is asked."""
        account_id = await self._hold_account(hold_id)
        now = self.clock.now()
        command = domain.ReleaseHeldCredit(
            account_id=account_id,
            now=now,
            opening_currency=self.settings.currency,
            hold_id=hold_id,
            transaction_id=self.new_id(),
            staff=staff,
            max_balance=self.settings.max_balance,
        )
        return await self._settle(account_id, hold_id, command, staff)

    async def refund_hold(self, hold_id: str, staff: str) -> dict[str, Any]:
        """Mark a held payment for refund to the payer; once, never credited afterwards."""
        account_id = await self._hold_account(hold_id)
        now = self.clock.now()
        command = domain.MarkHeldCreditForRefund(
            account_id=account_id,
            now=now,
            opening_currency=self.settings.currency,
            hold_id=hold_id,
            staff=staff,
        )
        return await self._settle(account_id, hold_id, command, staff)

    async def _settle(
        self, account_id: str, hold_id: str, command: domain.Command, staff: str
    ) -> dict[str, Any]:
        # No idempotency key needed: the decider answers "already done" with no events, and
        # two concurrent requests cannot both append (optimistic concurrency on the stream).
        outcome = await self.runner.run(
            domain.stream_id(account_id),
            command,
            metadata=self._metadata(account_id, staff),
            now=command.now,
        )
        state = outcome.state
        assert isinstance(state, OpenWallet)
        hold = state.holds[hold_id]
        # The list shows the decision at once; the projection writes the same values.
        await record_settled(
            self.db[TRANSACTIONS], hold_id, hold.status, hold.settled_by, hold.settled_at
        )
        return hold_view(account_id, hold, state.top_ups[hold.top_up_id])

    # --- credits and debits for other contexts ---

    async def credit(
        self,
        account_id: str,
        amount: int,
        currency: str,
        reason: CreditReason,
        reference: str,
        idempotency_key: str,
        actor: str | None = None,
    ) -> dict[str, Any]:
        command = domain.CreditWallet(
            account_id=account_id,
            now=self.clock.now(),
            opening_currency=self.settings.currency,
            transaction_id=self.new_id(),
            amount=amount,
            currency=currency,
            reason=reason,
            reference=reference,
        )
        outcome = await self._run_money(account_id, command, idempotency_key, actor)
        return self._money_result(outcome)

    async def debit(
        self,
        account_id: str,
        amount: int,
        currency: str,
        reason: DebitReason,
        reference: str,
        idempotency_key: str,
        actor: str | None = None,
    ) -> dict[str, Any]:
        command = domain.DebitWallet(
            account_id=account_id,
            now=self.clock.now(),
            opening_currency=self.settings.currency,
            transaction_id=self.new_id(),
            amount=amount,
            currency=currency,
            reason=reason,
            reference=reference,
        )
        outcome = await self._run_money(account_id, command, idempotency_key, actor)
        return self._money_result(outcome)

    async def _run_money(
        self, account_id: str, command: Any, key: str, actor: str | None
    ) -> Outcome[Any]:
        fingerprint = request_fingerprint(
            {
                "op": type(command).__name__,
                "amount": command.amount,
                "currency": command.currency,
                "reason": command.reason,
                "reference": command.reference,
            }
        )
        return await self.runner.run(
            domain.stream_id(account_id),
            command,
            idempotency_key=key,
            fingerprint=fingerprint,
            metadata=self._metadata(account_id, actor),
            now=command.now,
        )

    @staticmethod
    def _money_result(outcome: Outcome[Any]) -> dict[str, Any]:
        assert outcome.commit is not None
        for stored in outcome.commit.events:
            event = stored.event
            if isinstance(event, DebitRejected):
                code = event.reason
                raise DomainError(
                    code,
                    "the balance is too low for this payment"
                    if code == "insufficient_balance"
                    else "the wallet holds another currency",
                    balance=event.balance,
                    amount=event.amount,
                    currency=event.currency,
                )
            if isinstance(event, WalletCredited | WalletDebited):
                return {
                    "transaction_id": event.transaction_id,
                    "kind": "credit" if isinstance(event, WalletCredited) else "debit",
                    "amount": event.amount,
                    "currency": event.currency,
                    "balance_after": event.balance_after,
                    "reason": event.reason,
                    "reference": event.reference,
                    "occurred_at": event.occurred_at,
                    "replayed": outcome.replayed,
                }
        raise AssertionError("a money command always records a transaction or a rejection")

    # --- queries ---

    async def wallet_view(self, account_id: str) -> dict[str, Any]:
        state, version = await self.runner.load(domain.stream_id(account_id))
        limits = {
            "min_top_up": self.limits.min_amount,
            "max_top_up": self.limits.max_amount,
            "max_balance": self.limits.max_balance,
        }
        if not isinstance(state, OpenWallet):
            # Not opened yet (AccountRegistered still on its way): an empty wallet, which
            # the account's first top-up opens.
            return {
                "account_id": account_id,
                "currency": self.settings.currency,
                "balance": 0,
                "held": 0,
                "held_payments": 0,
                "total_topped_up": 0,
                "pending_top_ups": 0,
                "version": 0,
                "limits": limits,
            }
        return {
            "account_id": account_id,
            "currency": state.currency,
            "balance": state.balance,
            "held": state.held,
            "held_payments": sum(1 for h in state.holds.values() if h.status == "held"),
            "total_topped_up": state.total_topped_up,
            "pending_top_ups": sum(1 for t in state.top_ups.values() if t.status == "pending"),
            "version": version,
            "limits": limits,
        }

    async def balance_at(self, account_id: str, instant: datetime) -> dict[str, Any]:
        """The balance as recorded at `instant`, folded from the event store itself."""
        state, version = await self.runner.state_at(domain.stream_id(account_id), instant)
        balance = state.balance if isinstance(state, OpenWallet) else 0
        currency = state.currency if isinstance(state, OpenWallet) else self.settings.currency
        return {
            "account_id": account_id,
            "at": instant,
            "balance": balance,
            "currency": currency,
            "version": version,
        }

    async def transactions(
        self,
        account_id: str,
        *,
        limit: int,
        offset: int,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"account_id": account_id}
        if kind:
            query["kind"] = kind
        if since or until:
            query["occurred_at"] = {k: v for k, v in (("$gte", since), ("$lt", until)) if v}
        coll = self.db[TRANSACTIONS]
        total = await coll.count_documents(query)
        cursor = (
            coll.find(query, projection={"account_id": 0})
            .sort([("occurred_at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        items = []
        async for doc in cursor:
            doc["id"] = doc.pop("_id")
            items.append(doc)
        return {"items": items, "total": total, "limit": limit, "offset": offset}


def expiry_delta(settings: WalletSettings) -> timedelta:
    return timedelta(minutes=settings.top_up_expiry_minutes)
