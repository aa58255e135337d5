/**
 * Who is platform staff: the same roles the chassis checks (portal_chassis.auth.STAFF_ROLES).
 * The screen only follows the API here; the API refuses a customer whatever the screen shows.
 */
import type { Profile } from "../auth/api";

export const STAFF_ROLES = ["support_agent", "technician", "sales", "billing_admin", "platform_admin"] as const;

export function isStaff(profile: Pick<Profile, "platform_roles"> | null | undefined): boolean {
  return (profile?.platform_roles ?? []).some((role) => (STAFF_ROLES as readonly string[]).includes(role));
}
