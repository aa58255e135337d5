"""Given events / when command / then events for contacts, loyalty and care. No I/O."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal_chassis.decider import Conflict, DomainError, NotFound
from portal_contracts.events.crm import (
    AccumulatedMoneyChanged,
    CareActionRecorded,
    CareActivityCompleted,
    CareActivityDeleted,
    CareActivityRestored,
    ContactCreated,
    ContactDetails,
    ContactRestored,
    CustomerLevelChanged,
    LeadAssigned,
    LevelProgressChanged,
    PointsChanged,
)
from portal_crm import domain
from portal_crm.domain import (
    Activity,
    Contact,
    Level,
    activity_decider,
    check_levels,
    contact_decider,
    decide_activity,
    decide_contact,
    level_for,
    next_level,
)

NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)
LEVELS = domain.DEFAULT_LEVELS


def given_contact(*commands: domain.ContactCommandT) -> Contact:
    state = contact_decider.initial_state
    for command in commands:
        state = contact_decider.fold(state, decide_contact(command, state))
    return state


def create(kind: str = "customer") -> domain.CreateContact:
    return domain.CreateContact(
        now=NOW,
        actor="staff-1",
        contact_id="c1",
        kind=kind,  # type: ignore[arg-type]
        details=ContactDetails(name="Acme"),
        account_id="c1" if kind == "customer" else None,
    )


def care(action: str, value: int, action_id: str = "a1") -> domain.RecordCareAction:
    return domain.RecordCareAction(
        now=NOW,
        actor="staff-1",
        action_id=action_id,
        care_type_id=action,
        care_type_name=action,
        action=action,  # type: ignore[arg-type]
        value=value,
    )


def spend(reference: str, amount: int) -> domain.CountSpending:
    return domain.CountSpending(
        now=NOW,
        actor="billing",
        reference=reference,
        amount=amount,
        currency="VND",
        source="invoice_paid" if amount > 0 else "invoice_refunded",
    )


def test_a_new_customer_starts_at_the_first_level_a_contact_has_none() -> None:
    events = decide_contact(create(), Contact())
    assert [type(e) for e in events] == [ContactCreated, CustomerLevelChanged]
    assert given_contact(create()).level == "member"
    assert given_contact(create("contact")).level is None


def test_creating_twice_is_a_no_op() -> None:
    state = given_contact(create())
    assert decide_contact(create(), state) == []


def test_points_are_given_and_deducted_but_never_below_zero() -> None:
    state = given_contact(create(), care("give_points", 100))
    assert state.points == 100
    with pytest.raises(DomainError) as err:
        decide_contact(care("deduct_points", 101, "a2"), state)
    assert err.value.code == "points_insufficient"
    events = decide_contact(care("deduct_points", 100, "a2"), state)
    assert [type(e) for e in events] == [CareActionRecorded, PointsChanged]
    assert contact_decider.fold(state, events).points == 0


def test_a_loyalty_action_needs_a_positive_value_and_a_customer() -> None:
    with pytest.raises(DomainError) as err:
        decide_contact(care("give_points", 0), given_contact(create()))
    assert err.value.code == "value_not_positive"
    with pytest.raises(Conflict):
        decide_contact(care("give_points", 5), given_contact(create("contact")))
    # A call is recorded for a contact too, with no value.
    (recorded,) = decide_contact(care("call", 0), given_contact(create("contact")))
    assert isinstance(recorded, CareActionRecorded) and recorded.value == 0


def test_the_same_care_action_twice_counts_once() -> None:
    state = given_contact(create(), care("give_points", 10))
    assert decide_contact(care("give_points", 10), state) == []


def test_accumulated_money_moves_the_level_and_a_refund_reverses_it() -> None:
    state = given_contact(create(), spend("invoice:1", 4_000_000))
    assert state.level == "member"
    events = decide_contact(spend("invoice:2", 1_000_000), state)
    assert [type(e) for e in events] == [AccumulatedMoneyChanged, CustomerLevelChanged]
    state = contact_decider.fold(state, events)
    assert (state.accumulated, state.level) == (5_000_000, "silver")
    (money, change) = decide_contact(spend("refund:1", -1_000_000), state)
    assert isinstance(change, CustomerLevelChanged) and change.to_level == "member"
    assert isinstance(money, AccumulatedMoneyChanged) and money.total == 4_000_000


def test_a_duplicate_invoice_paid_is_ignored() -> None:
    state = given_contact(create(), spend("invoice:1", 6_000_000))
    assert decide_contact(spend("invoice:1", 6_000_000), state) == []
    assert state.accumulated == 6_000_000


def test_a_refund_never_takes_accumulated_money_below_zero() -> None:
    state = given_contact(create(), spend("invoice:1", 300_000), care("deduct_money", 300_000))
    assert state.accumulated == 0
    assert decide_contact(spend("refund:1", -300_000), state) == []
    with pytest.raises(DomainError) as err:
        decide_contact(care("deduct_money", 1, "a9"), state)
    assert err.value.code == "accumulated_insufficient"


def test_new_thresholds_recompute_the_level() -> None:
    state = given_contact(create(), spend("invoice:1", 6_000_000))
    assert state.level == "silver"
    stricter = check_levels([Level("member", 0), Level("silver", 10_000_000)])
    (change,) = decide_contact(
        domain.RecomputeLevel(now=NOW, actor="admin", levels=stricter), state
    )
    assert isinstance(change, CustomerLevelChanged)
    assert (change.to_level, change.reason) == ("member", "thresholds_changed")
    assert decide_contact(domain.RecomputeLevel(now=NOW, actor="a", levels=LEVELS), state) == []


def test_new_thresholds_that_keep_the_level_still_move_the_progress_bounds() -> None:
    state = given_contact(create(), spend("invoice:1", 6_000_000))
    assert (state.level, state.level_from, state.next_level_at) == ("silver", 5_000_000, 20_000_000)
    closer_gold = check_levels(
        [Level("member", 0), Level("silver", 4_000_000), Level("gold", 8_000_000)]
    )
    (progress,) = decide_contact(
        domain.RecomputeLevel(now=NOW, actor="admin", levels=closer_gold), state
    )
    assert isinstance(progress, LevelProgressChanged)
    assert (progress.level, progress.level_from) == ("silver", 4_000_000)
    assert (progress.next_level, progress.next_level_at) == ("gold", 8_000_000)
    moved = contact_decider.fold(state, [progress])
    # the same thresholds again: nothing left to publish
    assert (
        decide_contact(domain.RecomputeLevel(now=NOW, actor="a", levels=closer_gold), moved) == []
    )


def test_level_thresholds_are_checked() -> None:
    with pytest.raises(DomainError):
        check_levels([Level("silver", 5)])
    with pytest.raises(DomainError):
        check_levels([Level("a", 0), Level("a", 5)])
    with pytest.raises(DomainError):
        check_levels([Level("a", 0), Level("b", 0)])
    assert level_for(19_999_999, LEVELS) == "silver"
    assert level_for(20_000_000, LEVELS) == "gold"
    nxt = next_level(19_999_999, LEVELS)
    assert nxt is not None and nxt.name == "gold"
    assert next_level(60_000_000, LEVELS) is None


def test_a_deleted_contact_is_hidden_until_restored_but_still_counts_spending() -> None:
    state = given_contact(create(), domain.DeleteContact(now=NOW, actor="s"))
    assert state.status == "deleted"
    with pytest.raises(NotFound):
        decide_contact(care("call", 0), state)
    assert decide_contact(spend("invoice:1", 10), state)  # money is never lost
    (restored,) = decide_contact(domain.RestoreContact(now=NOW, actor="admin"), state)
    assert isinstance(restored, ContactRestored)


def test_converting_a_contact_makes_a_customer_with_a_level() -> None:
    state = given_contact(create("contact"))
    after = given_contact(create("contact"), domain.ConvertToCustomer(now=NOW, actor="s"))
    assert (state.kind, after.kind, after.level) == ("contact", "customer", "member")
    with pytest.raises(Conflict):
        decide_contact(domain.ConvertToCustomer(now=NOW, actor="s"), after)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["give_points", "deduct_points", "give_money", "deduct_money", "spend"]
            ),
            st.integers(min_value=-5_000_000, max_value=5_000_000),
        ),
        max_size=20,
    )
)
def test_points_and_money_never_go_negative(steps: list[tuple[str, int]]) -> None:
    state = given_contact(create())
    for n, (what, value) in enumerate(steps):
        command: domain.ContactCommandT = (
            spend(f"ref:{n}", value) if what == "spend" else care(what, abs(value), f"a{n}")
        )
        try:
            events = decide_contact(command, state)
        except DomainError:
            continue
        state = contact_decider.fold(state, events)
        assert state.points >= 0 and state.accumulated >= 0
        assert state.level == level_for(state.accumulated, LEVELS)


def schedule(action: str = "give_points", value: int = 50) -> domain.ScheduleActivity:
    return domain.ScheduleActivity(
        now=NOW,
        actor="s",
        activity_id="act-1",
        contact_id="c1",
        account_id="c1",
        title="Birthday gift",
        care_type_id=action,
        care_type_name=action,
        action=action,  # type: ignore[arg-type]
        due_at=NOW + timedelta(days=1),
        caretaker_id="s",
        value=value,
    )


def test_a_care_activity_is_planned_then_done_or_cancelled_once() -> None:
    state = activity_decider.fold(Activity(), decide_activity(schedule(), Activity()))
    assert state.status == "planned"
    (done,) = decide_activity(domain.CompleteActivity(now=NOW, actor="s"), state)
    assert isinstance(done, CareActivityCompleted)
    finished = activity_decider.fold(state, [done])
    assert decide_activity(domain.CompleteActivity(now=NOW, actor="s"), finished) == []
    with pytest.raises(Conflict):
        decide_activity(domain.CancelActivity(now=NOW, actor="s"), finished)
    with pytest.raises(DomainError):
        decide_activity(schedule(value=0), Activity())
    with pytest.raises(NotFound):
        decide_activity(domain.CompleteActivity(now=NOW, actor="s"), Activity())


def test_a_deleted_activity_changes_only_once_restored_as_it_was() -> None:
    planned = activity_decider.fold(Activity(), decide_activity(schedule(), Activity()))
    delete = domain.DeleteActivity(now=NOW, actor="s")
    (deleted,) = decide_activity(delete, planned)
    assert isinstance(deleted, CareActivityDeleted) and deleted.deleted_by == "s"
    gone = activity_decider.fold(planned, [deleted])
    assert decide_activity(delete, gone) == []  # deleting twice changes nothing
    for change in (
        domain.CompleteActivity(now=NOW, actor="s"),
        domain.CancelActivity(now=NOW, actor="s"),
    ):
        with pytest.raises(Conflict) as refused:
            decide_activity(change, gone)
        assert refused.value.code == "activity_deleted"
    restore = domain.RestoreActivity(now=NOW, actor="admin")
    (restored,) = decide_activity(restore, gone)
    assert isinstance(restored, CareActivityRestored)
    # What it was: planned, due when it was due (the dashboards count it again from these).
    assert (restored.status, restored.due_at) == ("planned", NOW + timedelta(days=1))
    back = activity_decider.fold(gone, [restored])
    assert back == planned and decide_activity(restore, back) == []
    with pytest.raises(NotFound):
        decide_activity(delete, Activity())


def test_round_robin_takes_the_department_staff_in_turn_by_id() -> None:
    members = ["s-carol", "s-alice", "s-bob"]  # the order they come in does not matter
    picks = [domain.caretaker_in_turn(members, turn) for turn in range(7)]
    assert picks == ["s-alice", "s-bob", "s-carol", "s-alice", "s-bob", "s-carol", "s-alice"]
    assert domain.caretaker_in_turn(list(reversed(members)), 4) == "s-bob"
    with pytest.raises(DomainError) as refused:
        domain.caretaker_in_turn([], 0)
    assert refused.value.code == "department_has_no_staff"


def test_a_lead_assigned_in_turn_records_the_method_and_a_repeat_is_a_no_op() -> None:
    lead = given_contact(create("contact"))
    caretaker = domain.caretaker_in_turn(["s-b", "s-a"], 0)
    assign = domain.AssignLead(
        now=NOW, actor="admin", caretaker_id=caretaker, method="round_robin", department="sales"
    )
    (assigned,) = decide_contact(assign, lead)
    assert isinstance(assigned, LeadAssigned)
    assert (assigned.caretaker_id, assigned.method, assigned.department) == (
        "s-a",
        "round_robin",
        "sales",
    )
    held = contact_decider.fold(lead, [assigned])
    assert held.caretaker_id == "s-a"
    assert decide_contact(assign, held) == []


def test_money_in_another_currency_is_not_counted_towards_levels() -> None:
    """Thresholds are in the programme's currency; there is no exchange rate to apply."""
    state = given_contact(create())
    foreign = dataclasses.replace(spend("invoice:usd-1", 500), currency="USD")
    assert decide_contact(foreign, state) == []
    assert decide_contact(spend("invoice:vnd-1", 500), state) != []
