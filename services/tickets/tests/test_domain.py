"""Given events / when command / then events for tickets, and the SLA clocks. No I/O."""

from datetime import UTC, datetime, timedelta

import pytest

from portal_chassis.decider import Conflict, DomainError, NotFound
from portal_contracts.events.tickets import (
    TicketOpened,
    TicketRated,
    TicketReplied,
    TicketSlaBreached,
    TicketStatusChanged,
)
from portal_tickets import domain
from portal_tickets.domain import DEFAULT_POLICY, SlaPolicy, Ticket, decide, sla, ticket_decider

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACC = "acc-1"


def at(**delta):
    return T0 + timedelta(**delta)


def open_ticket(priority="normal", title="Cannot log in to cPanel"):
    return domain.OpenTicket(
        actor="cust",
        now=T0,
        ticket_id="t1",
        ticket_number="TK-1",
        account_id=ACC,
        department="technical",
        title=title,
        request_type="incident",
        priority=priority,
        content="help",
    )


def customer_reply(when, content="more info"):
    return domain.ReplyToTicket(
        actor="cust",
        now=when,
        reply_id=f"r{when}",
        author_kind="customer",
        content=content,
        account_id=ACC,
    )


def staff_reply(when, internal=False, then=None):
    return domain.ReplyToTicket(
        actor="agent",
        now=when,
        reply_id=f"s{when}",
        author_kind="staff",
        content="we are on it",
        internal=internal,
        then_status=then,
    )


def status(value, when):
    return domain.ChangeStatus(actor="agent", now=when, status=value)


def run(*commands, state=None):
    state = state or Ticket()
    events = []
    for cmd in commands:
        new = list(decide(cmd, state))
        events += new
        state = ticket_decider.fold(state, new)
    return state, events


def test_open_reply_resolve_close():
    state, events = run(
        open_ticket(),
        staff_reply(at(hours=1)),
        customer_reply(at(hours=2)),
        status("resolved", at(hours=3)),
        status("closed", at(hours=4)),
    )
    assert isinstance(events[0], TicketOpened)
    assert [e.status for e in events if isinstance(e, TicketStatusChanged)] == [
        "in_progress",
        "resolved",
        "closed",
    ]
    assert state.status == "closed"


def test_an_empty_title_is_refused():
    with pytest.raises(DomainError) as err:
        decide(open_ticket(title="   "), Ticket())
    assert err.value.code == "title_required"


def test_closed_tickets_take_no_replies_and_cannot_be_reopened_by_staff():
    state, _ = run(open_ticket(), status("resolved", at(hours=1)), status("closed", at(hours=2)))
    with pytest.raises(Conflict):
        decide(customer_reply(at(hours=3)), state)
    with pytest.raises(Conflict):
        decide(status("open", at(hours=3)), state)


def test_a_customer_reply_within_seven_days_reopens_a_resolved_ticket():
    state, _ = run(open_ticket(), status("resolved", at(hours=1)))
    events = decide(customer_reply(at(days=6)), state)
    assert isinstance(events[0], TicketStatusChanged) and events[0].status == "open"
    assert events[0].reason == "reopened" and isinstance(events[1], TicketReplied)
    with pytest.raises(Conflict) as err:
        decide(customer_reply(at(days=8)), state)
    assert err.value.code == "reopen_window_passed"


def test_another_account_cannot_reply_or_rate():
    state, _ = run(open_ticket(), status("resolved", at(hours=1)))
    other = domain.ReplyToTicket(
        actor="x",
        now=at(hours=2),
        reply_id="x",
        author_kind="customer",
        content="hi",
        account_id="other",
    )
    with pytest.raises(NotFound):
        decide(other, state)
    with pytest.raises(NotFound):
        decide(domain.RateTicket(actor="x", now=at(hours=2), account_id="other", rating=5), state)


def test_customers_cannot_write_internal_notes():
    state, _ = run(open_ticket())
    note = domain.ReplyToTicket(
        actor="cust",
        now=at(hours=1),
        reply_id="n",
        author_kind="customer",
        content="x",
        account_id=ACC,
        internal=True,
    )
    with pytest.raises(DomainError):
        decide(note, state)


def test_rating_once_after_resolution():
    rate = domain.RateTicket(actor="cust", now=at(hours=2), account_id=ACC, rating=5)
    state, _ = run(open_ticket())
    with pytest.raises(Conflict):
        decide(rate, state)
    state, events = run(open_ticket(), status("resolved", at(hours=1)), rate)
    assert isinstance(events[-1], TicketRated)
    with pytest.raises(Conflict):
        decide(rate, state)
    with pytest.raises(DomainError):
        decide(
            domain.RateTicket(actor="c", now=at(hours=2), account_id=ACC, rating=6),
            run(open_ticket(), status("resolved", at(hours=1)))[0],
        )


def test_auto_close_after_the_quiet_period_only():
    state, _ = run(open_ticket(), status("resolved", at(hours=1)))
    quiet = timedelta(days=3)
    assert decide(domain.CloseIfQuiet(actor="sys", now=at(days=2), quiet_period=quiet), state) == []
    events = decide(
        domain.CloseIfQuiet(actor="sys", now=at(days=3, hours=1), quiet_period=quiet), state
    )
    assert events[0].status == "closed" and events[0].reason == "auto_close"


def test_first_response_is_met_only_by_a_public_staff_reply():
    # Zammad #3140: internal notes do not answer the customer; follow-ups do not reset.
    state, _ = run(
        open_ticket(priority="high"),
        staff_reply(at(hours=1), internal=True),
        customer_reply(at(hours=2)),
    )
    view = sla(state, DEFAULT_POLICY, at(hours=3))
    assert view.first_response_at is None and not view.first_response_breached
    state, _ = run(staff_reply(at(hours=3, minutes=30)), state=state)
    view = sla(state, DEFAULT_POLICY, at(hours=10))
    assert view.first_response_at == at(hours=3, minutes=30)
    assert not view.first_response_breached  # 3.5 h < 4 h target for high


def test_resolution_clock_pauses_while_waiting_and_resumes_on_the_customer_reply():
    # Zammad #1322: the clock stops while we wait for the customer, and restarts when
    # the customer answers, counting only the time the ball was in our court.
    state, _ = run(open_ticket(), staff_reply(at(hours=2), then="waiting_for_customer"))
    assert sla(state, DEFAULT_POLICY, at(hours=50)).resolution_elapsed == timedelta(hours=2)
    assert sla(state, DEFAULT_POLICY, at(hours=50)).paused
    state, events = run(customer_reply(at(hours=50)), state=state)
    assert events[-1].status == "open" and events[-1].reason == "customer_reply"
    view = sla(state, DEFAULT_POLICY, at(hours=51))
    assert view.resolution_elapsed == timedelta(hours=3) and not view.paused
    assert view.resolution_due == at(hours=51) + timedelta(hours=69)


def test_breaches_are_emitted_once_per_target():
    state, _ = run(open_ticket(priority="urgent"))
    check = domain.CheckSla(actor="sys", now=at(hours=2))
    events = decide(check, state)
    assert [e.target for e in events] == ["first_response"]
    assert isinstance(events[0], TicketSlaBreached) and events[0].due_at == at(hours=1)
    state = ticket_decider.fold(state, events)
    assert decide(check, state) == []
    late = decide(domain.CheckSla(actor="sys", now=at(hours=9)), state)
    assert [e.target for e in late] == ["resolution"] and late[0].due_at == at(hours=8)


def test_a_new_policy_is_recomputed_from_history():
    state, _ = run(open_ticket(), staff_reply(at(hours=5)))
    strict = SlaPolicy(
        first_response={**DEFAULT_POLICY.first_response, "normal": timedelta(hours=4)},
        resolution=DEFAULT_POLICY.resolution,
    )
    assert not sla(state, DEFAULT_POLICY, at(hours=6)).first_response_breached
    assert sla(state, strict, at(hours=6)).first_response_breached


def test_priority_changes_move_the_targets():
    state, _ = run(
        open_ticket(), domain.ChangePriority(actor="a", now=at(hours=1), priority="urgent")
    )
    assert sla(state, DEFAULT_POLICY, at(hours=2)).first_response_breached


def test_invalid_status_changes_are_refused():
    state, _ = run(open_ticket())
    with pytest.raises(Conflict):
        decide(status("closed", at(hours=1)), state)


def test_state_round_trips_through_a_snapshot():
    state, _ = run(open_ticket(), staff_reply(at(hours=1), then="waiting_for_customer"))
    assert ticket_decider.load_state(ticket_decider.dump_state(state)) == state
