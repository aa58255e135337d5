/** The customer's dashboard: one read, then live over server-sent events. */
import { api, typed, unwrap, type Patch, type Paths, type ReadOp } from "./client";
import type { Transaction } from "./wallet";

// TODO(contract): the gateway answers `dict[str, Any]` for the dashboard; these are the keys its
// parts render today (gateway/src/portal_gateway/dashboard*.py).
export interface Service {
  id: string;
  contract_number: string;
  plan_name: string;
  category: string;
  tier: string;
  ends_on: string;
  status: "active" | "expired";
  days_left: number;
}
export interface SubscriptionNotice {
  subscription_id: string;
  kind: "expiring" | "expired";
  contract_number: string;
  plan_name: string;
  ends_on: string;
  days_left: number;
}
export interface OpenInvoice {
  id: string;
  proforma_number: string;
  plan_name: string;
  total: number;
  amount_due: number;
  currency: string;
  due_at: string;
}
export interface PaymentClaim {
  id: string;
  invoice_id: string;
  reference: string;
  amount: number;
  status: "under_review" | "rejected";
  reason?: string;
}
export interface DashboardTicket {
  id: string;
  number: string;
  title: string;
  status: string;
  priority: string;
  updated_at: string;
}
export interface DashboardRepair {
  id: string;
  number: string;
  model: string;
  step: string;
  since: string;
}
export interface Dashboard {
  account_id: string;
  wallet?: { balance: number; currency: string; total_topped_up: number; top_ups_completed: number };
  recent_transactions?: Transaction[];
  subscription_notices?: SubscriptionNotice[];
  services?: { active: number; items: Service[] };
  open_invoices?: { count: number; amount_due: number; items: OpenInvoice[] };
  payment_claims?: { under_review: PaymentClaim[]; rejected: PaymentClaim[] };
  loyalty?: {
    points: number;
    level: string | null;
    accumulated: number;
    next_level: string | null;
    to_next_level: number;
    progress_percent: number;
  };
  tickets?: { open: number; latest: DashboardTicket[] };
  repairs_in_progress?: DashboardRepair[];
}

type DashboardPaths = Patch<Paths, { "/api/v1/dashboard": { get: ReadOp<Dashboard> } }>;
const client = typed<DashboardPaths>();

export const dashboardApi = {
  get: () => unwrap(client.GET("/api/v1/dashboard")),
};

/**
 * Follows GET /api/v1/dashboard/stream: `onBoard` gets the whole dashboard at once and on
 * every change. The stream needs the bearer token (EventSource cannot send one), so it is read
 * through the typed client as a byte stream; when it ends (the server closes it after a while)
 * or breaks, it is opened again after a pause. Returns a function that stops it.
 */
export function followDashboard(onBoard: (board: Dashboard) => void): () => void {
  return followBoard("/api/v1/dashboard/stream", onBoard);
}

/** The same for any dashboard stream of the gateway (the customer's, the staff's). */
export function followBoard<T>(
  path: "/api/v1/dashboard/stream" | "/api/v1/staff/dashboard/stream",
  onBoard: (board: T) => void,
): () => void {
  const state = { stopped: false };
  const stopped = () => state.stopped; // read afresh after every await
  let controller: AbortController | null = null;

  async function once(): Promise<void> {
    controller = new AbortController();
    const { response, data } = await api.GET(path, {
      parseAs: "stream",
      signal: controller.signal,
      headers: { Accept: "text/event-stream" },
    });
    if (!response.ok || !data) throw new Error(`stream ${response.status}`);
    const reader = data.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n/g, "\n");
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const event = /^event: ?(.*)$/m.exec(block)?.[1];
        const lines = block.split("\n").filter((l) => l.startsWith("data:"));
        if (event === "dashboard" && lines.length > 0) {
          onBoard(JSON.parse(lines.map((l) => l.replace(/^data: ?/, "")).join("\n")) as T);
        }
      }
    }
  }

  void (async () => {
    let pause = 1000;
    while (!stopped()) {
      try {
        await once();
        pause = 1000;
      } catch {
        pause = Math.min(pause * 2, 15_000);
      }
      if (!stopped()) await new Promise((r) => setTimeout(r, pause));
    }
  })();

  return () => {
    state.stopped = true;
    controller?.abort();
  };
}
