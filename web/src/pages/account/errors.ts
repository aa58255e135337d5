import type { TFunction } from "i18next";
import { ApiError } from "../../api/client";
import { errorMessage } from "../../lib/errors";

/** Identity's problem codes, translated in this area's catalogue; the rest as everywhere. */
export function accountError(t: TFunction, error: unknown): string {
  if (error instanceof ApiError) {
    const own = t(`account:errors.${error.code}`, { defaultValue: "" });
    if (own) return own;
  }
  return errorMessage(t, error);
}
