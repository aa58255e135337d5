/** The customer's dashboard: one read, then live over server-sent events. */
import { api, unwrap } from "./client";
import { listen } from "./live";
import type { components } from "./schema";

export type Dashboard = components["schemas"]["CustomerDashboard"];
/** A row of the dashboard's recent transactions (money that moved; held payments are not listed). */
export type DashboardTransaction = components["schemas"]["DashboardTransaction"];

/** What each live stream sends as its `dashboard` event. */
interface Boards {
  "/api/v1/dashboard/stream": Dashboard;
  "/api/v1/staff/dashboard/stream": components["schemas"]["StaffDashboard"];
}

export const dashboardApi = {
  get: () => unwrap(api.GET("/api/v1/dashboard")),
};

/**
 * Follows GET /api/v1/dashboard/stream: `onBoard` gets the whole dashboard at once and on
 * every change (over the tab's one shared connection, see live.ts). Returns a function that stops it.
 */
export function followDashboard(onBoard: (board: Dashboard) => void): () => void {
  return followBoard("/api/v1/dashboard/stream", onBoard);
}

/** The same for any dashboard stream of the gateway (the customer's, the staff's). */
export function followBoard<P extends keyof Boards>(
  path: P,
  onBoard: (board: Boards[P]) => void,
): () => void {
  return listen(path, "dashboard", (board) => { onBoard(board as Boards[P]); });
}
