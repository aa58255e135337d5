"""The notifications HTTP contract, read from its own OpenAPI (no connection is made)."""

from portal_notifications import main


def test_the_bell_and_the_preferences_are_typed() -> None:
    schema = main.create().openapi_schema.to_schema()
    paths = schema["paths"]
    assert set(paths) >= {
        "/v1/notifications",
        "/v1/notifications/{notification_id}/read",
        "/v1/notifications/read-all",
        "/v1/me/notification-preferences",
    }
    listing = paths["/v1/notifications"]["get"]["responses"]["200"]["content"]
    assert listing["application/json"]["schema"]["$ref"].endswith("/NotificationsPage")
    body = paths["/v1/me/notification-preferences"]["put"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["$ref"].endswith("/PreferencesIn")
    page = schema["components"]["schemas"]["NotificationsPage"]
    assert {"items", "total", "unread", "limit", "offset"} <= set(page["properties"])
