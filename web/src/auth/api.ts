/**
 * Browser sign-in calls. They go to the gateway's browser-session routes
 * (/api/v1/auth/session/...), which keep the refresh token in an httpOnly cookie and answer
 * only the access token; mobile apps keep using the JSON token routes.
 */
import { typed, unwrap, type JsonOp, type Patch, type Paths, type ReadOp } from "../api/client";

// TODO(contract): the public schema does not type these bodies yet.
export interface AccessToken {
  access_token: string;
  token_type: string;
  expires_in: number;
}
export interface SecondFactorNeeded {
  mfa_required: true;
  mfa_token: string;
  expires_in: number;
}
export interface Profile {
  user_id: string;
  account_id: string;
  email: string;
  name: string;
  phone: string | null;
  address: string | null;
  language: "vi" | "en" | null;
  role: string;
  platform_roles: string[];
  logo_url: string | null;
  email_verified: boolean;
  two_factor: boolean;
  time_zone?: string | null;
}
export interface RegisterBody {
  email: string;
  password: string;
  name: string;
  account_name?: string;
  kind: "organisation" | "person";
}
export interface QrChallenge {
  id: string;
  poll_token: string;
  expires_at: string;
  qr_payload: string;
  status: "pending";
}
export type QrStatus =
  | { id: string; status: "pending" | "approved" | "expired" | "rejected" | "completed" }
  | ({ id: string; status: "completed" } & AccessToken);

type QrPath = {
  query?: { wait?: number };
  header: { "Qr-Poll-Token": string; "X-Portal-Session": "1" };
  path: { challenge_id: string };
  cookie?: never;
};
type CsrfHeader = { query?: never; header: { "X-Portal-Session": "1" }; path?: never; cookie?: never };

type AuthPaths = Patch<
  Paths,
  {
    "/api/v1/auth/register": { post: JsonOp<RegisterBody, { user_id: string; account_id: string }, 201> };
    "/api/v1/auth/session/login": {
      post: JsonOp<{ email: string; password: string }, AccessToken | SecondFactorNeeded, 200, CsrfHeader>;
    };
    "/api/v1/auth/session/login/2fa": { post: JsonOp<{ mfa_token: string; code: string }, AccessToken, 200, CsrfHeader> };
    "/api/v1/auth/session/refresh": { post: JsonOp<Record<string, never>, AccessToken, 200, CsrfHeader> };
    "/api/v1/auth/session/logout": { post: JsonOp<Record<string, never>, null, 200, CsrfHeader> };
    "/api/v1/auth/qr": { post: JsonOp<Record<string, never>, QrChallenge, 201> };
    "/api/v1/auth/session/qr/{challenge_id}": { get: ReadOp<QrStatus, QrPath> };
    "/api/v1/me": { get: ReadOp<Profile>; patch: JsonOp<{ language: "vi" | "en" }, Profile> };
  }
>;

const client = typed<AuthPaths>();
// The browser-session routes refuse a call without it: a cross-site form cannot send it.
const CSRF = { "X-Portal-Session": "1" } as const;

export const authApi = {
  register: (body: RegisterBody) => unwrap(client.POST("/api/v1/auth/register", { body })),
  login: (email: string, password: string) =>
    unwrap(client.POST("/api/v1/auth/session/login", { body: { email, password }, params: { header: CSRF } })),
  secondFactor: (mfa_token: string, code: string) =>
    unwrap(client.POST("/api/v1/auth/session/login/2fa", { body: { mfa_token, code }, params: { header: CSRF } })),
  refresh: () => unwrap(client.POST("/api/v1/auth/session/refresh", { body: {}, params: { header: CSRF } })),
  logout: () => unwrap(client.POST("/api/v1/auth/session/logout", { body: {}, params: { header: CSRF } })),
  startQr: () => unwrap(client.POST("/api/v1/auth/qr", { body: {} })),
  pollQr: (id: string, pollToken: string, wait: number) =>
    unwrap(
      client.GET("/api/v1/auth/session/qr/{challenge_id}", {
        params: { path: { challenge_id: id }, query: { wait }, header: { "Qr-Poll-Token": pollToken, ...CSRF } },
      }),
    ),
  me: () => unwrap(client.GET("/api/v1/me")),
  /** The language follows the user (mails and documents too), not only this browser. */
  saveLanguage: (language: "vi" | "en") => unwrap(client.PATCH("/api/v1/me", { body: { language } })),
};
