/**
 * The gateway's live streams (server-sent events), one connection per stream and tab, shared
 * by everybody listening: the dashboard page listens for `dashboard`, the header's bell for
 * `notifications`. The stream needs the bearer token (EventSource cannot send one), so it is
 * read through the typed client as a byte stream; when it ends (the server closes it after a
 * while) or breaks, it is opened again after a pause. It closes when the last listener leaves.
 */
import { api } from "./client";

export type StreamPath = "/api/v1/dashboard/stream" | "/api/v1/staff/dashboard/stream";
type Handler = (data: unknown) => void;

interface Connection {
  handlers: Map<string, Set<Handler>>;
  stop: () => void;
}

const connections = new Map<StreamPath, Connection>();

/** Calls `handler` with each `event` of the stream's (parsed JSON); returns a function that stops listening. */
export function listen(path: StreamPath, event: string, handler: Handler): () => void {
  let connection = connections.get(path);
  if (!connection) {
    const handlers = new Map<string, Set<Handler>>();
    connection = { handlers, stop: connect(path, handlers) };
    connections.set(path, connection);
  }
  const own = connection;
  const set = own.handlers.get(event) ?? new Set<Handler>();
  own.handlers.set(event, set);
  set.add(handler);
  return () => {
    set.delete(handler);
    if ([...own.handlers.values()].every((s) => s.size === 0) && connections.get(path) === own) {
      connections.delete(path);
      own.stop();
    }
  };
}

function connect(path: StreamPath, handlers: Map<string, Set<Handler>>): () => void {
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
        if (event && lines.length > 0) {
          const parsed: unknown = JSON.parse(lines.map((l) => l.replace(/^data: ?/, "")).join("\n"));
          handlers.get(event)?.forEach((handler) => { handler(parsed); });
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
