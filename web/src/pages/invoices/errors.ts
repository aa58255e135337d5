import type { TFunction } from "i18next";
import { ApiError } from "../../api/client";
import { errorMessage } from "../../lib/errors";

/** Billing's problem codes, translated in this area's catalogue; the rest as everywhere. */
export function billingError(t: TFunction, error: unknown): string {
  if (error instanceof ApiError) {
    const own = t(`invoices:errors.${error.code}`, { defaultValue: "" });
    if (own) return own;
  }
  return errorMessage(t, error);
}
