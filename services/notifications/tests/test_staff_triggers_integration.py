"""Staff triggers on the real wire server and SMTP catcher: what a ticket's later events
need is merged into what its opening said (stored facts), and the daily care reminder is
sent once per caretaker and day however often it runs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from portal_contracts.events.crm import CareActivityCompleted, CareActivityScheduled
from portal_contracts.events.identity import UserRegistered

from . import samples as s
from .test_delivery_integration import envelope, register

pytestmark = pytest.mark.integration


async def staff(service, user: str, department: str | None, *roles: str) -> str:
    email = f"{user}-{uuid.uuid4().hex[:6]}@portal.local"
    await service.learn_person(
        UserRegistered(
            user_id=user,
            account_id="platform",
            email=email,
            name=user,
            role="staff",
            platform_roles=list(roles),
            department=department,
            occurred_at=s.NOW,
        )
    )
    return email


async def test_a_ticket_tells_its_department_then_its_breach_the_new_department(
    notifications, catcher
):
    service, _ = notifications
    account = f"acc-{uuid.uuid4().hex[:8]}"
    await register(service, account, "u-member", "member@example.com")
    tech = await staff(service, "s-tech", "technical", "technician")
    sales = await staff(service, "s-sales", "sales", "sales")
    opened = s.ticket_opened().model_copy(update={"account_id": account})
    await service.on_event(envelope(opened), opened)
    moved = s.ticket_assigned(None, department="sales").model_copy(update={"account_id": account})
    await service.on_event(envelope(moved), moved)
    breach = s.sla_breached().model_copy(update={"account_id": account})
    await service.on_event(envelope(breach), breach)
    assert await service.send_due() == 2
    [new] = catcher.messages(to=tech)
    assert new.subject == "[T-0001] Yêu cầu hỗ trợ mới: Website down"
    [late] = catcher.messages(to=sales)  # the breach, where the ticket is now
    assert late.subject == "[T-0001] Quá hạn SLA: Website down"
    assert "/staff/tickets/t-1" in late.body
    page = await service.inbox_page("s-sales", limit=5, offset=0)
    assert [e["template"] for e in page["items"]] == ["ticket_sla_breached"]


async def test_care_due_today_is_reminded_once_a_day_after_the_hour(notifications, catcher):
    service, clock = notifications
    zone = ZoneInfo(service.settings.default_time_zone)
    local = clock.now().astimezone(zone)
    # 06:00 on the business day: before the reminder hour (07:00).
    clock.advance(seconds=(local.replace(hour=6, minute=0, second=0) - local).total_seconds())
    today = clock.now().astimezone(zone).replace(hour=15, minute=0, second=0)
    email = await staff(service, "s-care", None, "sales")

    def scheduled(activity: str, due, title: str) -> CareActivityScheduled:
        return CareActivityScheduled(
            contact_id="c-1",
            activity_id=activity,
            title=title,
            care_type_id="call",
            care_type_name="Call",
            action="call",
            due_at=due,
            caretaker_id="s-care",
            scheduled_by="s-boss",
            occurred_at=s.NOW,
        )

    for event in (
        s.contact_created(),
        scheduled("ca-1", today, "Call about the renewal"),
        scheduled("ca-2", today - timedelta(hours=5), "Done already"),
        scheduled("ca-3", today + timedelta(days=1), "Tomorrow's"),
        CareActivityCompleted(
            contact_id="c-1", activity_id="ca-2", completed_by="s-care", occurred_at=s.NOW
        ),
    ):
        await service.on_event(envelope(event), event)
    assert await service.remind_care_due() == 0  # too early
    clock.advance(hours=2)
    assert await service.remind_care_due() == 1
    assert await service.remind_care_due() == 1  # decided again, sent once
    assert await service.send_due() == 1
    [mail] = catcher.messages(to=email)
    assert "1 hoạt động chăm sóc" in mail.subject
    assert "15:00" in mail.body and "Call about the renewal (Công ty An Phát)" in mail.body
    assert "Done already" not in mail.body and "Tomorrow" not in mail.body
    clock.advance(days=1)  # the next day: tomorrow's activity, a new reminder
    assert await service.remind_care_due() == 1
    assert await service.send_due() == 1
    assert "Tomorrow's" in catcher.messages(to=email)[-1].body
