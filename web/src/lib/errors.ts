import type { TFunction } from "i18next";
import { ApiError, NetworkError } from "../api/client";

/** A translated message for a failed call: the problem's `code` first, then its status. */
export function errorMessage(t: TFunction, error: unknown): string {
  if (error instanceof ApiError) {
    const fallback = t(`errors.${error.status >= 500 ? "server_error" : "error"}`);
    return t(`errors.${error.code}`, { defaultValue: fallback });
  }
  if (error instanceof NetworkError) return t("errors.network");
  return t("errors.error");
}
