/**
 * Browser sign-in calls. They go to the gateway's browser-session routes
 * (/api/v1/auth/session/...), which keep the refresh token in an httpOnly cookie and answer
 * only the access token; mobile apps keep using the JSON token routes.
 */
import { api, unwrap } from "../api/client";
import type { components } from "../api/schema";

type Schemas = components["schemas"];
/** What a sign-in answers that the page keeps: the access token (the refresh token is the cookie's). */
export type AccessToken = Pick<Schemas["BrowserTokensOut"], "access_token" | "expires_in">;
export type Profile = Schemas["MeOut"];
export type RegisterBody = Schemas["RegisterIn"];

// The browser-session routes refuse a call without it: a cross-site form cannot send it.
const CSRF = { header: { "X-Portal-Session": "1" } } as const;

export const authApi = {
  register: (body: RegisterBody) => unwrap(api.POST("/api/v1/auth/register", { body })),
  login: (email: string, password: string) =>
    unwrap(api.POST("/api/v1/auth/session/login", { body: { email, password }, params: CSRF })),
  secondFactor: (mfa_token: string, code: string) =>
    unwrap(api.POST("/api/v1/auth/session/login/2fa", { body: { mfa_token, code }, params: CSRF })),
  refresh: () => unwrap(api.POST("/api/v1/auth/session/refresh", { params: CSRF })),
  logout: () => unwrap(api.POST("/api/v1/auth/session/logout", { params: CSRF })),
  startQr: () => unwrap(api.POST("/api/v1/auth/qr")),
  pollQr: (id: string, pollToken: string, wait: number) =>
    unwrap(
      api.GET("/api/v1/auth/session/qr/{challenge_id}", {
        params: {
          path: { challenge_id: id },
          query: { wait },
          header: { "qr-poll-token": pollToken, ...CSRF.header },
        },
      }),
    ),
  me: () => unwrap(api.GET("/api/v1/me")),
  /** The language follows the user (mails and documents too), not only this browser. */
  saveLanguage: (language: "vi" | "en") => unwrap(api.PATCH("/api/v1/me", { body: { language } })),
};
