/** The staff dashboard: platform-wide figures the gateway projects from every context. */
import { api, unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";

export type StaffDashboard = components["schemas"]["StaffDashboard"];

export const staffDashboardApi = {
  get: () => unwrap(api.GET("/api/v1/staff/dashboard")),
};
