import type { TFunction } from "i18next";
import { ApiError } from "../api/client";
import { errorMessage } from "./errors";

/** A problem's `code` translated from an area's own catalogue (`<ns>:errors.<code>`), else as everywhere. */
export function areaError(t: TFunction, ns: string, error: unknown): string {
  if (error instanceof ApiError) {
    const own = t(`${ns}:errors.${error.code}`, { defaultValue: "" });
    if (own) return own;
  }
  return errorMessage(t, error);
}

/** The form field a problem concerns: the area's code-to-field table first, then the problem's `loc`. */
export function problemField(error: unknown, fields: Record<string, string>): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return fields[error.code] ?? error.field();
}
