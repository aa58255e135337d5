"""Given events / when command / then events for the repair workflow. No I/O."""

from datetime import UTC, date, datetime

import pytest

from portal_chassis.decider import Conflict, DomainError, NotFound
from portal_contracts.events.repairs import (
    Condition,
    QuoteLine,
    RepairCancelled,
    RepairDiagnosisStarted,
    RepairQuoteApproved,
    RepairQuoted,
    RepairQuoteRejected,
    RepairReady,
    RepairReceived,
    RepairRegistered,
    RepairReturned,
    RepairStarted,
    RepairTransferred,
)
from portal_repairs import domain
from portal_repairs.domain import Repair, decide, repair_decider

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
ACC = "acc-1"


def register(**changes):
    fields = dict(
        actor="u1",
        now=NOW,
        repair_id="r1",
        repair_number="RP-2026-000001",
        account_id=ACC,
        branch_id="HCM-Q1",
        model="ThinkPad X1",
        serial="SN123",
        problem="no power",
        adapter_included=True,
        condition=Condition(checklist=["scratch on lid"]),
        delivery_method="drop_off",
        delivery_date=date(2026, 6, 1),
        deliverer_name="Lan",
        deliverer_contact="0912345678",
        return_method="pickup",
    )
    fields.update(changes)
    return domain.RegisterRepair(**fields)


def history(*commands):
    state, events = Repair(), []
    for cmd in commands:
        new = list(decide(cmd, state))
        events += new
        state = repair_decider.fold(state, new)
    return state, events


RECEIVE = domain.ReceiveRepair(
    actor="t1", now=NOW, branch_id="HCM-Q1", condition=Condition(checklist=["dent on corner"])
)
DIAGNOSE = domain.StartDiagnosis(actor="t1", now=NOW, technician_id="tech-7")
QUOTE = domain.QuoteRepair(
    actor="t1",
    now=NOW,
    currency="VND",
    labour=200_000,
    parts=(QuoteLine(description="battery", amount=900_000),),
)
APPROVE = domain.ApproveQuote(actor="u1", now=NOW, account_id=ACC)
START = domain.StartRepair(actor="t1", now=NOW)
READY = domain.MarkReady(actor="t1", now=NOW)
SHIP = domain.ReturnDevice(
    actor="t1", now=NOW, method="shipped", carrier="GHN", tracking_number="GHN123"
)


def test_the_whole_workflow_emits_one_event_per_step():
    state, events = history(register(), RECEIVE, DIAGNOSE, QUOTE, APPROVE, START, READY, SHIP)
    assert [type(e) for e in events] == [
        RepairRegistered,
        RepairReceived,
        RepairDiagnosisStarted,
        RepairQuoted,
        RepairQuoteApproved,
        RepairStarted,
        RepairReady,
        RepairReturned,
    ]
    assert state.status == "returned" and state.approved_amount == 1_100_000
    assert events[3].amount == 1_100_000 and events[1].condition_corrected
    assert all(e.actor and e.branch_id and e.occurred_at for e in events)


def test_registering_twice_is_a_no_op_and_a_serial_is_required():
    state, _ = history(register())
    assert decide(register(), state) == []
    with pytest.raises(DomainError) as err:
        decide(register(serial="  "), Repair())
    assert err.value.code == "serial_required"


def test_shipping_back_needs_an_address():
    with pytest.raises(DomainError) as err:
        decide(register(return_method="shipping"), Repair())
    assert err.value.code == "return_address_required"


def test_warranty_repairs_are_flagged():
    events = decide(register(warranty_of="r0"), Repair())
    assert events[0].warranty and events[0].warranty_of == "r0"


@pytest.mark.parametrize(
    ("done", "command"),
    [
        ((), RECEIVE),
        (("register",), DIAGNOSE),
        (("register", "receive"), QUOTE),
        (("register", "receive", "diagnose"), START),
        (("register", "receive", "diagnose", "quote"), START),
        (("register", "receive", "diagnose", "quote"), READY),
        (("register", "receive", "diagnose", "quote", "approve"), SHIP),
    ],
)
def test_steps_out_of_order_are_refused(done, command):
    steps = {
        "register": register(),
        "receive": RECEIVE,
        "diagnose": DIAGNOSE,
        "quote": QUOTE,
        "approve": APPROVE,
    }
    state, _ = history(*(steps[s] for s in done))
    with pytest.raises((Conflict, NotFound)):
        decide(command, state)


def test_repairing_an_unapproved_quote_is_refused():
    state, _ = history(register(), RECEIVE, DIAGNOSE, QUOTE)
    with pytest.raises(Conflict) as err:
        decide(START, state)
    assert err.value.code == "invalid_transition"


def test_rejected_quote_means_return_without_repair():
    reject = domain.RejectQuote(actor="u1", now=NOW, account_id=ACC, reason="too expensive")
    _, events = history(register(), RECEIVE, DIAGNOSE, QUOTE, reject, READY)
    assert isinstance(events[4], RepairQuoteRejected)
    assert isinstance(events[5], RepairReady) and not events[5].repaired
    with pytest.raises(Conflict):
        decide(START, history(register(), RECEIVE, DIAGNOSE, QUOTE, reject)[0])


def test_another_account_cannot_approve_or_cancel():
    state, _ = history(register(), RECEIVE, DIAGNOSE, QUOTE)
    with pytest.raises(NotFound):
        decide(domain.ApproveQuote(actor="x", now=NOW, account_id="other"), state)
    with pytest.raises(NotFound):
        decide(domain.CancelRepair(actor="x", now=NOW, account_id="other"), state)


def test_cancel_only_before_repairing():
    cancel = domain.CancelRepair(actor="u1", now=NOW, account_id=ACC)
    state, _ = history(register(), RECEIVE, DIAGNOSE, QUOTE, APPROVE)
    assert isinstance(decide(cancel, state)[0], RepairCancelled)
    state, _ = history(register(), RECEIVE, DIAGNOSE, QUOTE, APPROVE, START)
    with pytest.raises(Conflict):
        decide(cancel, state)


def test_shipping_needs_carrier_and_tracking():
    state, _ = history(register(), RECEIVE, DIAGNOSE, QUOTE, APPROVE, START, READY)
    with pytest.raises(DomainError) as err:
        decide(domain.ReturnDevice(actor="t", now=NOW, method="shipped"), state)
    assert err.value.code == "tracking_required"
    counter = decide(domain.ReturnDevice(actor="t", now=NOW, method="counter"), state)
    assert counter[0].method == "counter"


def test_transfers_move_the_device_and_are_recorded():
    state, _ = history(register(), RECEIVE)
    events = decide(domain.TransferRepair(actor="t", now=NOW, to_branch_id="HN-CG"), state)
    assert isinstance(events[0], RepairTransferred)
    assert (events[0].from_branch_id, events[0].branch_id) == ("HCM-Q1", "HN-CG")
    assert repair_decider.fold(state, events).branch_id == "HN-CG"
    assert decide(domain.TransferRepair(actor="t", now=NOW, to_branch_id="HCM-Q1"), state) == []


def test_negative_quotes_are_refused():
    state, _ = history(register(), RECEIVE, DIAGNOSE)
    with pytest.raises(DomainError):
        decide(domain.QuoteRepair(actor="t", now=NOW, currency="VND", labour=-1, parts=()), state)


def test_state_round_trips_through_a_snapshot():
    state, _ = history(register(), RECEIVE, DIAGNOSE, QUOTE)
    assert repair_decider.load_state(repair_decider.dump_state(state)) == state


def photo(stage="intake", account_id=ACC):
    return domain.AddPhoto(
        actor="u1",
        now=NOW,
        account_id=account_id,
        file_id="f1",
        content_type="image/png",
        size=10,
        stage=stage,
    )


def test_photos_join_the_chain_of_custody():
    state, _ = history(register())
    events = decide(photo(), state)
    assert events[0].event_type == "RepairPhotoAdded" and events[0].file_id == "f1"
    staff = decide(photo(stage="receive", account_id=None), state)
    assert staff[0].stage == "receive"


def test_customers_add_intake_photos_only_and_only_to_their_repairs():
    state, _ = history(register())
    with pytest.raises(DomainError) as err:
        decide(photo(stage="receive"), state)
    assert err.value.code == "stage_not_allowed"
    with pytest.raises(NotFound):
        decide(photo(account_id="other"), state)
    returned, _ = history(register(), RECEIVE, DIAGNOSE, QUOTE, APPROVE, START, READY, SHIP)
    with pytest.raises(Conflict):
        decide(photo(account_id=None, stage="return"), returned)
