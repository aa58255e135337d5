"""The repair aggregate (stream `repair-<id>`): intake, workflow, chain of custody.

Pure code. Every command names its actor and time; every event records who, where and
when, so the stream itself is the append-only chain of custody.

Each step's decision lives in a module of its own (intake, quotes, workshop, handover),
`evolve` in another; this module dispatches a command to its decision.
"""

from __future__ import annotations

from collections.abc import Sequence

from portal_chassis.decider import Decider
from portal_contracts.events.repairs import RepairEvent
from portal_repairs.domain.commands import (
    AddPhoto,
    ApproveQuote,
    CancelRepair,
    Command,
    MarkReady,
    QuoteRepair,
    ReceiveRepair,
    RegisterRepair,
    RejectQuote,
    RepairCommand,
    ReturnDevice,
    StartDiagnosis,
    StartRepair,
    TransferRepair,
)
from portal_repairs.domain.evolve import evolve
from portal_repairs.domain.handover import cancel_repair, return_device, transfer_repair
from portal_repairs.domain.intake import add_photo, receive_repair, register_repair
from portal_repairs.domain.quotes import approve_quote, quote_repair, reject_quote
from portal_repairs.domain.state import CANCELLABLE, STEPS, Repair, Status, stream_id
from portal_repairs.domain.workshop import mark_ready, start_diagnosis, start_repair

__all__ = [
    "CANCELLABLE",
    "STEPS",
    "AddPhoto",
    "ApproveQuote",
    "CancelRepair",
    "Command",
    "MarkReady",
    "QuoteRepair",
    "ReceiveRepair",
    "RegisterRepair",
    "RejectQuote",
    "Repair",
    "RepairCommand",
    "ReturnDevice",
    "StartDiagnosis",
    "StartRepair",
    "Status",
    "TransferRepair",
    "decide",
    "evolve",
    "repair_decider",
    "stream_id",
]


def decide(cmd: Command, state: Repair) -> Sequence[RepairEvent]:
    match cmd:
        case RegisterRepair():
            return register_repair(cmd, state)
        case ReceiveRepair():
            return receive_repair(cmd, state)
        case StartDiagnosis():
            return start_diagnosis(cmd, state)
        case QuoteRepair():
            return quote_repair(cmd, state)
        case ApproveQuote():
            return approve_quote(cmd, state)
        case RejectQuote():
            return reject_quote(cmd, state)
        case StartRepair():
            return start_repair(cmd, state)
        case MarkReady():
            return mark_ready(cmd, state)
        case ReturnDevice():
            return return_device(cmd, state)
        case CancelRepair():
            return cancel_repair(cmd, state)
        case TransferRepair():
            return transfer_repair(cmd, state)
        case AddPhoto():
            return add_photo(cmd, state)
    raise TypeError(f"unknown command {cmd!r}")


repair_decider: Decider[Command, Repair, RepairEvent] = Decider(
    initial_state=Repair(),
    decide=decide,
    evolve=evolve,
    dump_state=lambda s: s.model_dump(mode="json"),
    load_state=Repair.model_validate,
)
