/** The bell's calls: the signed-in user's in-app messages (services/notifications). */
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";

export type BellEntry = components["schemas"]["NotificationOut"];

/** How many entries the dropdown shows (newest first); the count is of all unread ones. */
export const BELL_SIZE = 10;
export const BELL_KEY = ["notifications", "bell"] as const;

export const bellApi = {
  list: () => unwrap(api.GET("/api/v1/notifications", { params: { query: { limit: BELL_SIZE } } })),
  markRead: (id: string) =>
    unwrap(api.POST("/api/v1/notifications/{notification_id}/read", { params: { path: { notification_id: id } } })),
  markAllRead: () => unwrap(api.POST("/api/v1/notifications/read-all")),
};
