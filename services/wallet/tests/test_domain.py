"""Given events / when command / then events, for the wallet decider. No I/O."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal_chassis.decider import Conflict, DomainError, NotFound
from portal_contracts.events.wallet import (
    DebitRejected,
    HeldCreditMarkedForRefund,
    HeldCreditReleased,
    TopUpCompleted,
    TopUpFailed,
    TopUpHeldForReview,
    TopUpRequested,
    WalletCredited,
    WalletDebited,
    WalletOpened,
)
from portal_wallet.domain import (
    CreditWallet,
    DebitWallet,
    ExpireTopUps,
    MarkHeldCreditForRefund,
    NoWallet,
    OpenAccountWallet,
    OpenWallet,
    PaymentPolicy,
    RecordPaymentFailed,
    RecordPaymentSucceeded,
    ReleaseHeldCredit,
    RequestTopUp,
    TopUpLimits,
    decide,
    dump_state,
    load_state,
    wallet_decider,
)

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
ACC = "acc-1"
LIMITS = TopUpLimits(min_amount=10_000, max_amount=50_000_000, max_balance=100_000_000)
POLICY = PaymentPolicy(max_balance=100_000_000, overpayment_tolerance_percent=10)


def given_(*events):
    return wallet_decider.fold(NoWallet(), list(events))


def opened():
    return WalletOpened(account_id=ACC, currency="VND", occurred_at=NOW)


def requested(top_up_id="t1", amount=100_000, expires=NOW + timedelta(minutes=30)):
    return TopUpRequested(
        account_id=ACC,
        top_up_id=top_up_id,
        amount=amount,
        currency="VND",
        method="sandbox",
        provider="sandbox",
        reference=f"REF-{top_up_id}",
        expires_at=expires,
        occurred_at=NOW,
    )


def credited(amount, balance_after, tx="c1"):
    return WalletCredited(
        account_id=ACC,
        transaction_id=tx,
        amount=amount,
        currency="VND",
        balance_after=balance_after,
        reason="top_up",
        reference="t1",
        occurred_at=NOW,
    )


def request_top_up(
    amount=100_000, currency="VND", top_up_id="t1", limits=LIMITS, open_if_missing=False
):
    return RequestTopUp(
        account_id=ACC,
        now=NOW,
        opening_currency="VND",
        top_up_id=top_up_id,
        amount=amount,
        currency=currency,
        method="sandbox",
        provider="sandbox",
        reference=f"REF-{top_up_id}",
        expires_at=NOW + timedelta(minutes=30),
        limits=limits,
        open_if_missing=open_if_missing,
    )


def pay(amount, top_up_id="t1", event_id="evt1", now=NOW, currency="VND"):
    return RecordPaymentSucceeded(
        account_id=ACC,
        now=now,
        opening_currency="VND",
        top_up_id=top_up_id,
        provider_event_id=event_id,
        amount=amount,
        currency=currency,
        transaction_id="tx-" + event_id,
        hold_id="hold-" + event_id,
        policy=POLICY,
    )


def debit(amount, tx="d1", currency="VND"):
    return DebitWallet(
        account_id=ACC,
        now=NOW,
        opening_currency="VND",
        transaction_id=tx,
        amount=amount,
        currency=currency,
        reason="invoice_payment",
        reference="INV-1",
    )


def credit(amount, tx="c9"):
    return CreditWallet(
        account_id=ACC,
        now=NOW,
        opening_currency="VND",
        transaction_id=tx,
        amount=amount,
        currency="VND",
        reason="refund",
        reference="ORD-1",
    )


def test_open_account_wallet_opens_once():
    cmd = OpenAccountWallet(account_id=ACC, now=NOW, opening_currency="VND")
    events = decide(cmd, given_())
    assert [type(e) for e in events] == [WalletOpened] and events[0].currency == "VND"
    assert decide(cmd, given_(*events)) == []


@pytest.mark.parametrize("command", ["top_up", "credit"])
def test_nothing_happens_on_a_wallet_that_is_not_open(command):
    cmd = {"top_up": request_top_up(), "credit": credit(5)}[command]
    with pytest.raises(NotFound) as err:
        decide(cmd, given_())
    assert err.value.code == "wallet_not_found"


def test_a_debit_on_a_wallet_not_open_yet_is_refused_as_an_empty_wallet_not_a_404():
    with pytest.raises(DomainError) as err:
        decide(debit(5), given_())
    assert not isinstance(err.value, NotFound)
    assert err.value.code == "insufficient_balance" and err.value.extra["balance"] == 0


def test_top_up_on_an_open_wallet_only_requests():
    events = decide(request_top_up(), given_(opened()))
    assert [type(e) for e in events] == [TopUpRequested]


def test_the_same_top_up_requested_twice_decides_nothing():
    assert decide(request_top_up(), given_(opened(), requested())) == []


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (9_999, "amount_below_minimum"),
        (50_000_001, "amount_above_maximum"),
        (0, "amount_not_positive"),
        (-5, "amount_not_positive"),
    ],
)
def test_top_up_amount_limits(amount, code):
    with pytest.raises(DomainError) as err:
        decide(request_top_up(amount=amount), given_(opened()))
    assert err.value.code == code


def test_top_up_in_another_currency_is_refused():
    with pytest.raises(DomainError) as err:
        decide(request_top_up(currency="USD"), given_(opened()))
    assert err.value.code == "currency_not_supported"


def test_top_up_that_would_exceed_the_maximum_balance_is_refused():
    state = given_(opened(), requested("t0", 40_000_000), credited(40_000_000, 90_000_000))
    with pytest.raises(DomainError) as err:
        decide(request_top_up(amount=20_000_000), state)
    assert err.value.code == "balance_limit_exceeded"


def test_pending_top_ups_count_towards_the_maximum_balance():
    state = given_(opened(), requested("t0", 50_000_000), requested("t2", 45_000_000))
    with pytest.raises(DomainError):
        decide(request_top_up(amount=10_000_000), state)


def test_payment_completes_the_top_up_and_credits_what_arrived():
    events = decide(pay(100_000), given_(opened(), requested()))
    assert [type(e) for e in events] == [TopUpCompleted, WalletCredited]
    assert events[0].amount_received == 100_000 and not events[0].late
    assert events[1].balance_after == 100_000


@pytest.mark.parametrize("arrived", [60_000, 1, 105_000, 110_000])
def test_under_and_over_payment_within_tolerance_credit_the_amount_that_arrived(arrived):
    events = decide(pay(arrived), given_(opened(), requested(amount=100_000)))
    assert events[1].amount == arrived
    state = wallet_decider.fold(given_(opened(), requested()), events)
    assert state.balance == arrived and state.total_topped_up == arrived


def test_payment_for_an_unknown_top_up_is_refused():
    with pytest.raises(NotFound):
        decide(pay(100_000, top_up_id="nope"), given_(opened()))


def test_payment_in_another_currency_is_refused():
    with pytest.raises(DomainError) as err:
        decide(pay(100_000, currency="USD"), given_(opened(), requested()))
    assert err.value.code == "currency_mismatch"


def test_failed_payment_fails_a_pending_top_up_once():
    state = given_(opened(), requested())
    failed = RecordPaymentFailed(
        account_id=ACC, now=NOW, opening_currency="VND", top_up_id="t1", provider_event_id="e2"
    )
    events = decide(failed, state)
    assert [type(e) for e in events] == [TopUpFailed]
    assert decide(failed, wallet_decider.fold(state, events)) == []


def test_expiry_fails_only_top_ups_past_their_window():
    state = given_(
        opened(),
        requested("t1", expires=NOW + timedelta(minutes=5)),
        requested("t2", expires=NOW + timedelta(hours=2)),
    )
    events = decide(
        ExpireTopUps(account_id=ACC, now=NOW + timedelta(minutes=10), opening_currency="VND"), state
    )
    assert [(type(e), e.top_up_id, e.reason) for e in events] == [(TopUpFailed, "t1", "expired")]


def test_money_arriving_after_expiry_is_still_credited_and_marked_late():
    state = given_(opened(), requested(expires=NOW + timedelta(minutes=5)))
    state = wallet_decider.fold(
        state,
        decide(
            ExpireTopUps(account_id=ACC, now=NOW + timedelta(minutes=10), opening_currency="VND"),
            state,
        ),
    )
    assert state.top_ups["t1"].status == "failed"
    events = decide(pay(100_000, now=NOW + timedelta(minutes=20)), state)
    assert events[0].late and events[1].amount == 100_000


def test_debit_within_the_balance():
    events = decide(debit(30_000), given_(opened(), requested(), credited(100_000, 100_000)))
    assert [type(e) for e in events] == [WalletDebited]
    assert events[0].balance_after == 70_000


def test_overdraft_is_rejected_and_changes_no_balance():
    state = given_(opened(), requested(), credited(100_000, 100_000))
    events = decide(debit(100_001), state)
    assert [type(e) for e in events] == [DebitRejected]
    assert events[0].reason == "insufficient_balance" and events[0].balance == 100_000
    assert wallet_decider.fold(state, events).balance == 100_000


def test_debit_in_another_currency_is_rejected():
    events = decide(debit(10, currency="USD"), given_(opened(), credited(100, 100)))
    assert events[0].reason == "currency_mismatch"


def test_credit_adds_to_the_balance():
    events = decide(credit(5_000), given_(opened()))
    assert [type(e) for e in events] == [WalletCredited]
    assert events[0].balance_after == 5_000


def test_state_round_trips_through_a_snapshot():
    state = given_(opened(), requested(), credited(100_000, 100_000))
    assert load_state(dump_state(state)) == state
    assert load_state(dump_state(NoWallet())) == NoWallet()


# --- property: balance = credits - debits, never negative ---

command_strategy = st.one_of(
    st.tuples(st.just("credit"), st.integers(min_value=-10, max_value=10**9)),
    st.tuples(st.just("debit"), st.integers(min_value=-10, max_value=10**9)),
    st.tuples(st.just("topup"), st.integers(min_value=-10, max_value=2 * 10**8)),
    st.tuples(st.just("pay"), st.integers(min_value=1, max_value=10**12)),
    st.tuples(st.just("release"), st.integers(min_value=0, max_value=40)),
    st.tuples(st.just("refund"), st.integers(min_value=0, max_value=40)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(command_strategy, max_size=40))
def test_balance_equals_credits_minus_debits_and_is_never_negative(commands):
    """And every payment that arrived is credited, held or marked for refund, once."""
    state = given_(opened())
    credits = debits = 0
    arrived = refunded = 0
    for i, (kind, amount) in enumerate(commands):
        if kind == "credit":
            cmd = credit(amount, tx=f"c{i}")
        elif kind == "debit":
            cmd = debit(amount, tx=f"d{i}")
        elif kind == "topup":
            cmd = request_top_up(amount=amount, top_up_id=f"t{i}")
        elif kind == "pay":
            pending = [t for t in getattr(state, "top_ups", {}).values()]
            if not pending:
                continue
            cmd = pay(amount, top_up_id=pending[-1].top_up_id, event_id=f"e{i}")
        elif kind == "release":
            cmd = release(hold_id=f"hold-e{amount}", tx=f"r{i}")
        else:
            cmd = refund(hold_id=f"hold-e{amount}")
        try:
            events = decide(cmd, state)
        except DomainError:
            continue
        for event in events:
            # a payment arrives once: held, or completed by "pay" (a release completes a hold)
            if isinstance(event, TopUpHeldForReview) or (
                isinstance(event, TopUpCompleted) and kind == "pay"
            ):
                arrived += event.amount_received
            elif isinstance(event, HeldCreditMarkedForRefund):
                refunded += event.amount
            if isinstance(event, WalletCredited):
                credits += event.amount
                if kind == "pay":  # a payment never takes the balance past the limit
                    assert event.balance_after <= POLICY.max_balance
            elif isinstance(event, WalletDebited):
                debits += event.amount
        state = wallet_decider.fold(state, events)
        if isinstance(state, OpenWallet):
            assert state.balance == credits - debits
            assert state.balance >= 0
            topped_up = sum(t.amount_received for t in state.top_ups.values())
            assert arrived == topped_up + state.held + refunded


# --- first use opens the wallet (AccountRegistered may still be on its way) ---


def test_a_top_up_from_a_proven_account_opens_its_wallet_in_the_same_commit():
    events = decide(request_top_up(open_if_missing=True), given_())
    assert [type(e) for e in events] == [WalletOpened, TopUpRequested]
    assert events[0].currency == "VND"
    state = given_(*events)
    assert isinstance(state, OpenWallet) and "t1" in state.top_ups


def test_the_late_account_registered_reaction_then_changes_nothing():
    state = given_(*decide(request_top_up(open_if_missing=True), given_()))
    late = OpenAccountWallet(account_id=ACC, now=NOW, opening_currency="VND")
    assert decide(late, state) == []


def test_an_open_wallet_is_not_opened_again_by_first_use():
    events = decide(request_top_up(open_if_missing=True), given_(opened()))
    assert [type(e) for e in events] == [TopUpRequested]


def test_a_refused_first_top_up_opens_nothing():
    with pytest.raises(DomainError):
        decide(request_top_up(amount=5, open_if_missing=True), given_())


# --- payments held for review ---


def release(hold_id="hold-evt1", tx="rel-1", max_balance=100_000_000):
    return ReleaseHeldCredit(
        account_id=ACC,
        now=NOW + timedelta(hours=1),
        opening_currency="VND",
        hold_id=hold_id,
        transaction_id=tx,
        staff="staff-1",
        max_balance=max_balance,
    )


def refund(hold_id="hold-evt1"):
    return MarkHeldCreditForRefund(
        account_id=ACC,
        now=NOW + timedelta(hours=1),
        opening_currency="VND",
        hold_id=hold_id,
        staff="staff-1",
    )


def held_over_tolerance():
    """Given a 100,000 top-up paid with 10^8 (far above the 10% tolerance): held."""
    state = given_(opened(), requested(amount=100_000))
    return wallet_decider.fold(state, decide(pay(100_000_000), state))


@pytest.mark.parametrize("arrived", [110_001, 140_000, 100_000_000])
def test_over_payment_beyond_the_tolerance_is_held_not_credited(arrived):
    events = decide(pay(arrived), given_(opened(), requested(amount=100_000)))
    assert [type(e) for e in events] == [TopUpHeldForReview]
    held = events[0]
    assert held.reason == "over_tolerance" and held.amount_received == arrived
    assert held.amount_requested == 100_000 and held.hold_id == "hold-evt1"
    state = wallet_decider.fold(given_(opened(), requested(amount=100_000)), events)
    assert state.balance == 0 and state.held == arrived and state.total_topped_up == 0
    assert state.top_ups["t1"].status == "held"


def test_a_payment_that_would_pass_the_balance_limit_is_held():
    state = given_(opened(), requested("t0", 50_000_000), credited(95_000_000, 95_000_000))
    state = wallet_decider.fold(state, [requested("t1", 10_000_000)])
    events = decide(pay(10_000_000), state)
    assert [type(e) for e in events] == [TopUpHeldForReview]
    assert events[0].reason == "balance_limit" and events[0].balance == 95_000_000


def test_a_second_provider_event_on_a_completed_reference_is_held():
    state = given_(opened(), requested())
    state = wallet_decider.fold(state, decide(pay(100_000, event_id="first"), state))
    events = decide(pay(100_000, event_id="second"), state)
    assert [type(e) for e in events] == [TopUpHeldForReview]
    assert events[0].reason == "repeat_payment" and events[0].provider_event_id == "second"
    after = wallet_decider.fold(state, events)
    assert after.balance == 100_000 and after.held == 100_000
    assert after.top_ups["t1"].status == "completed"


def test_release_credits_the_held_payment_once():
    state = held_over_tolerance()
    events = decide(release(), state)
    assert [type(e) for e in events] == [HeldCreditReleased, TopUpCompleted, WalletCredited]
    assert events[0].released_by == "staff-1" and events[0].transaction_id == "rel-1"
    assert events[1].amount_received == 100_000_000 and events[1].provider_event_id == "evt1"
    assert events[2].amount == 100_000_000 and events[2].balance_after == 100_000_000
    after = wallet_decider.fold(state, events)
    assert after.balance == 100_000_000 and after.held == 0
    assert after.holds["hold-evt1"].status == "released"
    assert after.top_ups["t1"].status == "completed"
    assert after.total_topped_up == 100_000_000
    # a retry, or the loser of a concurrent release, decides nothing
    assert decide(release(tx="rel-2"), after) == []


def test_release_that_would_pass_the_balance_limit_is_refused():
    with pytest.raises(Conflict) as err:
        decide(release(max_balance=99_999_999), held_over_tolerance())
    assert err.value.code == "balance_limit_exceeded"


def test_mark_for_refund_once_and_never_credit():
    state = held_over_tolerance()
    events = decide(refund(), state)
    assert [type(e) for e in events] == [HeldCreditMarkedForRefund]
    after = wallet_decider.fold(state, events)
    assert after.balance == 0 and after.held == 0
    assert after.holds["hold-evt1"].status == "refund"
    assert after.top_ups["t1"].status == "failed"
    assert after.top_ups["t1"].failure_reason == "refunded"
    assert decide(refund(), after) == []
    with pytest.raises(Conflict) as err:
        decide(release(), after)
    assert err.value.code == "hold_already_settled"


def test_a_released_payment_cannot_be_marked_for_refund():
    state = held_over_tolerance()
    state = wallet_decider.fold(state, decide(release(), state))
    with pytest.raises(Conflict) as err:
        decide(refund(), state)
    assert err.value.code == "hold_already_settled"


@pytest.mark.parametrize("command", [release(hold_id="nope"), refund(hold_id="nope")])
def test_an_unknown_hold_is_not_found(command):
    with pytest.raises(NotFound) as err:
        decide(command, held_over_tolerance())
    assert err.value.code == "hold_not_found"


def test_state_with_holds_round_trips_through_a_snapshot():
    state = held_over_tolerance()
    assert load_state(dump_state(state)) == state


def test_a_top_up_credit_names_the_transfer_memo_not_the_top_up_id():
    # The history row of a top-up shows what the customer typed on the transfer.
    paid = decide(pay(100_000), given_(opened(), requested()))
    assert paid[1].reference == "REF-t1"
    released = decide(release(), held_over_tolerance())
    assert released[2].reference == "REF-t1"
