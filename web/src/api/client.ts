/**
 * The one HTTP client of the portal: openapi-fetch over the gateway's generated schema.
 *
 * - same origin (the gateway serves this app), so no CORS and the session cookie is first-party;
 * - the access token lives in memory only (src/auth/tokens.ts) and is sent as a bearer token;
 *   on a 401 the browser session is refreshed once (httpOnly cookie) and the call repeated;
 * - a problem+json answer becomes an ApiError carrying its stable `code`;
 * - money writes carry an Idempotency-Key that survives a retry of the same action.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { tokens } from "../auth/tokens";

/** One field error of a 400 (`errors` of the problem body). */
export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type?: string;
}

/** RFC 9457 problem body as the gateway answers it. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code: string;
  errors?: FieldError[];
  retry_after?: number;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ?? problem.code);
    this.name = "ApiError";
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
  }

  /** The field a problem concerns (the last `loc` part of its first field error). */
  field(): string | undefined {
    const loc = this.problem.errors?.[0]?.loc;
    const last = loc?.[loc.length - 1];
    return typeof last === "string" ? last : undefined;
  }
}

/** A network failure or a lost answer: the action may or may not have happened. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super("network", { cause });
    this.name = "NetworkError";
  }
}

function asProblem(status: number, body: unknown): Problem {
  if (body && typeof body === "object" && "code" in body) {
    return { ...(body as Problem), status };
  }
  return { status, code: status >= 500 ? "server_error" : "error" };
}

/** Set by the session module: refreshes the access token from the cookie, or fails. */
let refresher: (() => Promise<boolean>) | null = null;
export function setRefresher(fn: () => Promise<boolean>): void {
  refresher = fn;
}

const NO_REFRESH = /\/api\/v1\/auth\//;
const retryable = new Map<string, Request>();

const auth: Middleware = {
  onRequest({ request, id }) {
    const token = tokens.access();
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    if (!NO_REFRESH.test(new URL(request.url).pathname)) retryable.set(id, request.clone());
    return request;
  },
  async onResponse({ response, id }) {
    const original = retryable.get(id);
    retryable.delete(id);
    if (response.status !== 401 || !original || !refresher) return response;
    if (!(await refresher())) return response;
    const again = new Request(original);
    again.headers.set("Authorization", `Bearer ${tokens.access() ?? ""}`);
    return globalThis.fetch(again);
  },
  onError({ id, error }) {
    retryable.delete(id);
    return error instanceof Error ? new NetworkError(error) : undefined;
  },
};

export const api: Client<paths> = createClient<paths>({ baseUrl: globalThis.location.origin });
api.use(auth);

/** Data of a call, or an ApiError thrown with the problem's code. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(asProblem(response.status, error));
  return data as T;
}

/**
 * Idempotency keys of one money action (a top-up, a payment): the key is kept while the same
 * body is retried after a lost answer, and renewed once an answer arrived or the body changed,
 * so the server charges once however often the user (or we) retry.
 */
export class IdempotentAction {
  private key: string | null = null;
  private body: string | null = null;

  keyFor(body: unknown): string {
    const json = JSON.stringify(body);
    if (this.key === null || this.body !== json) {
      this.key = crypto.randomUUID();
      this.body = json;
    }
    return this.key;
  }

  /** The server answered (success or a definite refusal): the next action is a new one. */
  settled(): void {
    this.key = null;
    this.body = null;
  }

  /**
   * Runs `send(key)`, retrying a lost answer (network error, 502/503/504) with the same key
   * a few times; the answer is definite afterwards either way.
   */
  async run<T>(body: unknown, send: (key: string) => Promise<T>, attempts = 3): Promise<T> {
    const key = this.keyFor(body);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await send(key);
        this.settled();
        return result;
      } catch (err) {
        const lost =
          err instanceof NetworkError || (err instanceof ApiError && [502, 503, 504].includes(err.status));
        if (!lost) this.settled();
        if (!lost || attempt >= attempts) throw err;
        await new Promise((r) => setTimeout(r, 400 * attempt));
      }
    }
  }
}
