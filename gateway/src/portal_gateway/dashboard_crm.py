"""The CRM part of the dashboards.

Customer: points, level and progress to the next level. Staff: care activities due today
(and overdue), leads nobody holds, customers by level.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal_chassis.auth import Principal
from portal_contracts.base import DomainEvent
from portal_contracts.envelope import EventEnvelope
from portal_contracts.events.crm import (
    AccumulatedMoneyChanged,
    CareActivityCancelled,
    CareActivityCompleted,
    CareActivityDeleted,
    CareActivityRestored,
    CareActivityScheduled,
    ContactConvertedToCustomer,
    ContactCreated,
    ContactDeleted,
    ContactRestored,
    CrmEvent,
    CustomerLevelChanged,
    LeadAssigned,
    LevelProgressChanged,
    PointsChanged,
)


class CrmPart:
    name = "crm"
    contexts = frozenset({"crm"})
    staff_reads_doc = False

    async def account_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        if not isinstance(event, CrmEvent) or not event.account_id:
            return None
        match event:
            case PointsChanged():
                return {"$set": {"loyalty.points": event.balance}}
            case AccumulatedMoneyChanged():
                return {
                    "$set": {
                        "loyalty.accumulated": event.total,
                        "loyalty.next_level": event.next_level,
                        "loyalty.next_level_at": event.next_level_at,
                    }
                }
            case LevelProgressChanged():
                return {
                    "$set": {
                        "loyalty.level_from": event.level_from,
                        "loyalty.next_level": event.next_level,
                        "loyalty.next_level_at": event.next_level_at,
                    }
                }
            case CustomerLevelChanged():
                return {
                    "$set": {
                        "loyalty.level": event.to_level,
                        "loyalty.level_from": event.level_from,
                        "loyalty.next_level": event.next_level,
                        "loyalty.next_level_at": event.next_level_at,
                    }
                }
        return None

    async def staff_update(
        self, doc: dict[str, Any], envelope: EventEnvelope, event: DomainEvent
    ) -> dict[str, Any] | None:
        if not isinstance(event, CrmEvent):
            return None
        key = event.contact_id
        match event:
            case ContactCreated():
                lead = event.kind == "contact"
                return {"$set": {f"contacts.{key}": {"lead": lead, "held": False, "on": True}}}
            case ContactConvertedToCustomer():
                return {"$set": {f"contacts.{key}.lead": False}}
            case LeadAssigned():
                return {"$set": {f"contacts.{key}.held": True}}
            case ContactDeleted() | ContactRestored():
                return {"$set": {f"contacts.{key}.on": isinstance(event, ContactRestored)}}
            case CustomerLevelChanged():
                return {"$set": {f"levels.{key}": event.to_level}}
            case CareActivityScheduled():
                return {"$set": {f"open_activities.{event.activity_id}": event.due_at}}
            case CareActivityCompleted() | CareActivityCancelled() | CareActivityDeleted():
                return {"$unset": {f"open_activities.{event.activity_id}": ""}}
            case CareActivityRestored() if event.status == "planned":
                return {"$set": {f"open_activities.{event.activity_id}": event.due_at}}
        return None

    def render(self, doc: dict[str, Any], principal: Principal) -> dict[str, Any] | None:
        loyalty = doc.get("loyalty")
        if not loyalty:
            return None
        accumulated = loyalty.get("accumulated", 0)
        start, goal = loyalty.get("level_from", 0), loyalty.get("next_level_at")
        progress = 100
        if goal is not None and goal > start:
            progress = max(0, min(100, (accumulated - start) * 100 // (goal - start)))
        return {
            "loyalty": {
                "points": loyalty.get("points", 0),
                "level": loyalty.get("level"),
                "accumulated": accumulated,
                "next_level": loyalty.get("next_level"),
                "to_next_level": max(goal - accumulated, 0) if goal is not None else 0,
                "progress_percent": progress,
            }
        }

    def render_staff(self, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
        today = now.date()
        due_today = overdue = 0
        for due in doc.get("open_activities", {}).values():
            if due.date() == today:
                due_today += 1
            elif due < now:
                overdue += 1
        by_level: dict[str, int] = {}
        contacts = doc.get("contacts", {})
        for contact_id, level in doc.get("levels", {}).items():
            if contacts.get(contact_id, {}).get("on", True):
                by_level[level] = by_level.get(level, 0) + 1
        return {
            "care_activities_due_today": due_today,
            "care_activities_overdue": overdue,
            "leads_unassigned": sum(
                1 for c in contacts.values() if c["lead"] and not c["held"] and c["on"]
            ),
            "customers_by_level": by_level,
        }
