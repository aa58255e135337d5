/** The customer's dashboard: one read, then live over server-sent events. */
import { api, unwrap } from "./client";
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
 * every change. The stream needs the bearer token (EventSource cannot send one), so it is read
 * through the typed client as a byte stream; when it ends (the server closes it after a while)
 * or breaks, it is opened again after a pause. Returns a function that stops it.
 */
export function followDashboard(onBoard: (board: Dashboard) => void): () => void {
  return followBoard("/api/v1/dashboard/stream", onBoard);
}

/** The same for any dashboard stream of the gateway (the customer's, the staff's). */
export function followBoard<P extends keyof Boards>(
  path: P,
  onBoard: (board: Boards[P]) => void,
): () => void {
  const state = { stopped: false };
  const stopped = () => state.stopped; // read afresh after every await
  let controller: AbortController | null = null;

  async function once(): Promise<void> {
    controller = new AbortController();
    // Both streams take no parameters, so one call's typing serves either path.
    const { response, data } = await api.GET(path as "/api/v1/dashboard/stream", {
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
          onBoard(JSON.parse(lines.map((l) => l.replace(/^data: ?/, "")).join("\n")) as Boards[P]);
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
