import type { TFunction } from "i18next";
import { ApiError, NetworkError } from "../api/client";

/**
 * A translated message for a failed call: the problem's `code` first, then its status. The
 * keys name the shared catalogue: an area's `t` (its own namespace) would not find them.
 */
export function errorMessage(t: TFunction, error: unknown): string {
  if (error instanceof ApiError) {
    const fallback = t(`translation:errors.${error.status >= 500 ? "server_error" : "error"}`);
    return t(`translation:errors.${error.code}`, { defaultValue: fallback });
  }
  if (error instanceof NetworkError) return t("translation:errors.network");
  return t("translation:errors.error");
}
