"""Ticket attachments in-process on the real wire server: shown under the name they were sent
as, stored under a name the server makes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from portal_chassis.auth import Principal
from portal_chassis.clock import ManualClock
from portal_chassis.contract import FileIn
from portal_chassis.eventstore import EventStore
from portal_tests.use_cases import UseCases
from portal_tickets import conversation, opening, queries, routing, sweeps
from portal_tickets.api import content_disposition
from portal_tickets.deps import build_deps, setup
from portal_tickets.queries import AttachmentFile
from portal_tickets.schemas import OpenTicketIn, ReplyIn
from portal_tickets.settings import TicketsSettings

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n%%EOF\n"


def file(name: str, data: bytes) -> FileIn:
    return FileIn(filename=name, content_base64=base64.b64encode(data).decode())


@pytest.fixture
async def tickets(mongo_db) -> UseCases:
    store = EventStore(mongo_db)
    await store.setup()
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    deps = build_deps(store, mongo_db, TicketsSettings(), clock)
    await setup(deps)
    return UseCases(deps, (opening, conversation, routing, sweeps, queries))


async def test_attachments_keep_the_name_they_were_sent_as(tickets, unique) -> None:
    customer = Principal("u1", unique, frozenset({"owner"}), "s1", "token")
    ticket = await tickets.open(
        customer,
        OpenTicketIn(
            department="technical",
            title="Broken page",
            content="See the screenshot.",
            attachments=[file("screenshot.png", PNG), file('Hóa đơn "tháng" 11.pdf', PDF)],
        ),
        None,
    )
    shot, invoice = ticket.messages[0].attachments
    assert (shot.display_name, invoice.display_name) == (
        "screenshot.png",
        'Hóa đơn "tháng" 11.pdf',
    )
    # Still stored under a server-made name, never the one sent.
    assert shot.filename == f"{shot.file_id}.png" and invoice.filename == f"{invoice.file_id}.pdf"
    stored = await tickets.blobs.get(shot.file_id, unique)
    assert stored is not None and stored[0].filename == shot.filename

    got = await tickets.attachment(customer, ticket.id, shot.file_id)
    assert got == AttachmentFile("image/png", "screenshot.png", PNG)

    after = await tickets.reply(
        customer,
        ticket.id,
        ReplyIn(content="And the log", attachments=[file("log\u202egnp.pdf", PDF)]),
    )
    (log,) = after.messages[1].attachments
    # A bidirectional override would show this PDF as "log...pdf.png"-looking; it is defused.
    assert log.display_name == "log_gnp.pdf"
    replies = await tickets.replies(customer, ticket.id)
    assert replies.items[0].attachments[0].display_name == "log_gnp.pdf"


def test_the_download_is_named_as_sent_in_a_safe_header() -> None:
    assert content_disposition(AttachmentFile("image/png", "screenshot.png", b"")) == (
        "attachment; filename=\"screenshot.png\"; filename*=UTF-8''screenshot.png"
    )
    header = content_disposition(AttachmentFile("application/pdf", 'Hóa "đơn"; x.pdf', b""))
    assert header == (
        'attachment; filename="H_a ___n_; x.pdf"; '
        "filename*=UTF-8''H%C3%B3a%20%22%C4%91%C6%A1n%22%3B%20x.pdf"
    )
