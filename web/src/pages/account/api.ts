/**
 * The account area: profile, logo, users and roles, password, two-factor, loyalty and the
 * timeline, all typed by the public schema (identity, crm and the gateway's timeline).
 */
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";

type Schemas = components["schemas"];
export type Me = Schemas["MeOut"];
export type ProfilePatch = Schemas["ProfilePatchIn"];
export type AccountUser = Schemas["ActiveUserRowOut"] | Schemas["InvitedUserRowOut"];
export type InvitableRole = NonNullable<Schemas["InvitationIn"]["role"]>;
export type Role = Schemas["RoleChangeIn"]["role"];
export type TwoFactorSetup = Schemas["TwoFactorSetupOut"];
export type Session = Schemas["SessionOut"];
export type Loyalty = Schemas["LoyaltyOut"];
export type TimelineEntry = Schemas["TimelineEntryOut"];
export type TimelinePage = Schemas["Page_TimelineEntryOut_"];
export const CONTEXTS = ["identity", "wallet", "billing", "tickets", "repairs", "crm"] as const;
export type TimelineContext = (typeof CONTEXTS)[number];

export const LOGO_TYPES = ["image/png", "image/jpeg"] as const;

export const accountApi = {
  me: () => unwrap(api.GET("/api/v1/me")),
  updateProfile: (body: ProfilePatch) => unwrap(api.PATCH("/api/v1/me", { body })),
  setTimeZone: (time_zone: string) => unwrap(api.PATCH("/api/v1/me/account", { body: { time_zone } })),
  /** The logo's bytes as they are (PNG or JPEG), not JSON. */
  uploadLogo: (file: File) =>
    unwrap(
      api.PUT("/api/v1/me/logo", {
        body: file as unknown as string,
        bodySerializer: (b: unknown) => b as BodyInit,
        headers: { "Content-Type": file.type },
      }),
    ),
  /** The logo as an object URL (the route wants the bearer token, so no plain <img src>). */
  logo: async (): Promise<string | null> => {
    const { data, response } = await api.GET("/api/v1/me/logo", { parseAs: "blob" });
    if (!response.ok || !(data instanceof Blob)) return null;
    return URL.createObjectURL(data);
  },
  users: () => unwrap(api.GET("/api/v1/account/users")),
  invite: (email: string, role: InvitableRole) =>
    unwrap(api.POST("/api/v1/account/users", { body: { email, role } })),
  changeRole: (user_id: string, role: Role) =>
    unwrap(api.PATCH("/api/v1/account/users/{user_id}", { params: { path: { user_id } }, body: { role, department: null } })),
  removeUser: (user_id: string) =>
    unwrap(api.DELETE("/api/v1/account/users/{user_id}", { params: { path: { user_id } } })),
  changePassword: (current_password: string, new_password: string) =>
    unwrap(api.POST("/api/v1/me/password", { body: { current_password, new_password } })),
  startTwoFactor: () => unwrap(api.POST("/api/v1/me/2fa")),
  confirmTwoFactor: (code: string) => unwrap(api.POST("/api/v1/me/2fa/confirm", { body: { code } })),
  disableTwoFactor: (password: string, code: string) =>
    unwrap(api.POST("/api/v1/me/2fa/disable", { body: { password, code } })),
  sessions: () => unwrap(api.GET("/api/v1/me/sessions")),
  endSession: (session_id: string) =>
    unwrap(api.DELETE("/api/v1/me/sessions/{session_id}", { params: { path: { session_id } } })),
  endOtherSessions: () => unwrap(api.POST("/api/v1/me/sessions/end-others")),
  loyalty: () => unwrap(api.GET("/api/v1/loyalty")),
  timeline: (offset: number, limit: number, context: TimelineContext | null) =>
    unwrap(api.GET("/api/v1/timeline", { params: { query: { offset, limit, context } } })),
  acceptInvitation: (token: string, name: string, password: string) =>
    unwrap(api.POST("/api/v1/auth/invitations/accept", { body: { token, name, password } })),
};
