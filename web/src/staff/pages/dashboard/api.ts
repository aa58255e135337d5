/** The staff dashboard: platform-wide figures the gateway projects from every context. */
import { typed, unwrap, type Patch, type Paths, type ReadOp } from "../../../api/client";

// TODO(contract): the gateway answers `dict[str, Any]` for the staff dashboard; these are the
// keys each part's render_staff() returns (gateway/src/portal_gateway/dashboard*.py).
export interface StaffDashboard {
  wallet?: { top_ups_completed: number; top_ups_failed: number; topped_up: Record<string, number> };
  billing?: {
    active_subscriptions: number;
    active_by_category_and_tier: Record<string, Record<string, number>>;
    expiring_soon: number;
    orders_per_month: { month: string; orders: number }[];
    payment_claims_open: number;
    payment_claims_overdue: number;
  };
  crm?: {
    care_activities_due_today: number;
    care_activities_overdue: number;
    leads_unassigned: number;
    customers_by_level: Record<string, number>;
  };
  tickets?: {
    by_status: Record<string, number>;
    by_department: Record<string, number>;
    sla_breaches: Partial<Record<"first_response" | "resolution", number>>;
    oldest_waiting: { id: string; waiting_seconds: number } | null;
  };
  repairs?: {
    open: number;
    by_step: Record<string, number>;
    by_branch: Record<string, number>;
    waiting_for_quote_approval: number;
    overdue: number;
  };
  projection?: { lag_seconds: number | null; as_of: string };
}

type StaffPaths = Patch<Paths, { "/api/v1/staff/dashboard": { get: ReadOp<StaffDashboard> } }>;
const client = typed<StaffPaths>();

export const staffDashboardApi = {
  get: () => unwrap(client.GET("/api/v1/staff/dashboard")),
};
