"""The notifications service's internal HTTP API (reached through the gateway).

Every route is the caller's own: the bell list and the switches of the signed-in user;
only the unsubscribe link is public (the signed token in it says whose and what), and
the delivery log is for platform staff.
"""

from __future__ import annotations

import html
from typing import Annotated

from litestar import Controller, MediaType, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from portal_chassis.auth import Principal, staff_guard
from portal_chassis.contract import PRINCIPAL, Limit, Offset, use_cases
from portal_notifications.handlers import NotificationsService
from portal_notifications.models import (
    Channel,
    DeliveriesPage,
    DeliveryCategory,
    DeliveryStatus,
    MarkedReadOut,
    NotificationOut,
    NotificationsPage,
    PreferencesIn,
    PreferencesOut,
    UnsubscribedOut,
)

Notifications = NamedDependency[NotificationsService]
Caller = NamedDependency[Principal]


class NotificationsController(Controller):
    path = "/v1/notifications"
    tags = ["notifications"]
    dependencies = {"principal": PRINCIPAL, "notifications": use_cases("notifications")}

    @get("/")
    async def list_notifications(
        self,
        principal: Caller,
        notifications: Notifications,
        limit: Limit = 20,
        offset: Offset = 0,
        unread: FromQuery[bool] = False,
    ) -> NotificationsPage:
        page = await notifications.inbox_page(
            principal.user_id, limit=limit, offset=offset, unread_only=unread
        )
        return NotificationsPage.model_validate(page)

    @post("/{notification_id:str}/read", status_code=200)
    async def mark_read(
        self, principal: Caller, notifications: Notifications, notification_id: FromPath[str]
    ) -> NotificationOut:
        entry = await notifications.mark_read(principal.user_id, notification_id)
        return NotificationOut.model_validate(entry)

    @post("/read-all", status_code=200)
    async def mark_all_read(self, principal: Caller, notifications: Notifications) -> MarkedReadOut:
        marked = await notifications.mark_all_read(principal.user_id, principal.account_id)
        page = await notifications.inbox_page(principal.user_id, limit=1, offset=0)
        return MarkedReadOut(marked=marked, unread=page["unread"])


class PreferencesController(Controller):
    path = "/v1/me/notification-preferences"
    tags = ["notifications"]
    dependencies = {"principal": PRINCIPAL, "notifications": use_cases("notifications")}

    @get("/")
    async def get_preferences(
        self, principal: Caller, notifications: Notifications
    ) -> PreferencesOut:
        return PreferencesOut.of(await notifications.preferences(principal.user_id))

    @put("/", status_code=200)
    async def change_preferences(
        self, data: JSONBody[PreferencesIn], principal: Caller, notifications: Notifications
    ) -> PreferencesOut:
        state = await notifications.change_preferences(
            principal.user_id, principal.account_id, data.changes()
        )
        return PreferencesOut.of(state)


Token = Annotated[str, QueryParameter(min_length=1, max_length=512)]

UNSUBSCRIBE_PAGE = """<!doctype html>
<html lang="vi"><meta charset="utf-8"><title>Hủy đăng ký / Unsubscribe</title>
<body><form method="post" action="?token={token}">
<p>Ngừng nhận thư loại này qua email? / Stop these emails?</p>
<button type="submit">Hủy đăng ký / Unsubscribe</button>
</form></body></html>
"""


class UnsubscribeController(Controller):
    """The link in a mail (GET: a page with one button, since mail scanners follow links)
    and RFC 8058 one-click (POST, what the `List-Unsubscribe` header names)."""

    path = "/v1/notifications/unsubscribe"
    tags = ["notifications"]
    dependencies = {"notifications": use_cases("notifications")}

    @get("/", media_type=MediaType.HTML)
    async def unsubscribe_page(self, notifications: Notifications, token: Token) -> str:
        notifications.unsubscribe_token(token)  # a bad link gets a problem, not a page
        return UNSUBSCRIBE_PAGE.format(token=html.escape(token))

    @post("/", status_code=200)
    async def unsubscribe(self, notifications: Notifications, token: Token) -> UnsubscribedOut:
        category, state = await notifications.unsubscribe(token)
        return UnsubscribedOut(category=category, preferences=PreferencesOut.of(state))  # type: ignore[arg-type]


class DeliveriesController(Controller):
    """The staff's delivery log: who was sent what, on which channel, and how it went."""

    path = "/v1/deliveries"
    tags = ["notifications-staff"]
    guards = [staff_guard]
    dependencies = {"notifications": use_cases("notifications")}

    @get("/")
    async def list_deliveries(
        self,
        notifications: Notifications,
        limit: Limit = 20,
        offset: Offset = 0,
        status: FromQuery[DeliveryStatus | None] = None,
        channel: FromQuery[Channel | None] = None,
        category: FromQuery[DeliveryCategory | None] = None,
        template: Annotated[str | None, QueryParameter(max_length=64)] = None,
        recipient: Annotated[
            str | None, QueryParameter(max_length=320, description="An exact address")
        ] = None,
        user_id: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> DeliveriesPage:
        filters = {
            "status": status,
            "channel": channel,
            "category": category,
            "template": template,
            "to": recipient,
            "user_id": user_id,
        }
        page = await notifications.delivery_log(
            {k: v for k, v in filters.items() if v is not None}, limit=limit, offset=offset
        )
        return DeliveriesPage.model_validate(page)
