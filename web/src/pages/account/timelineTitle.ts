import type { TFunction } from "i18next";
import { date, money } from "../../lib/format";

/** Values that are amounts of money, in the entry's `currency` (as the CRM names them). */
const MONEY = new Set(["amount", "amount_received", "total", "amount_spent", "applied"]);

export interface Worded {
  title: string;
  key?: string | null;
  params?: Record<string, string | number | boolean | null> | null;
}

/**
 * A timeline entry's title in the reader's language: its wording (`key`) from the catalogue,
 * filled with its values formatted here (money, dates, statuses). Entries recorded before the
 * CRM kept wordings, and wordings this catalogue lacks, show the CRM's English title.
 */
export function timelineTitle(t: TFunction, entry: Worded): string {
  if (!entry.key) return entry.title;
  const params = entry.params ?? {};
  const currency = typeof params.currency === "string" ? params.currency : "VND";
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const text = value === null ? "" : String(value);
    if (MONEY.has(name) && typeof value === "number") values[name] = money(value, currency);
    else if (name === "ends_on") values[name] = date(text);
    else if (name === "role") values[name] = t(`account:roles.${text}`, { defaultValue: text });
    else if (name === "status") values[name] = t(`support:status.${text}`, { defaultValue: text });
    else if (name === "reason") values[name] = t(`translation:transactions.reasons.${text}`, { defaultValue: text });
    else if (name === "channel") values[name] = t(`invoices:channels.${text}`, { defaultValue: text });
    else values[name] = text;
  }
  // "AutoRenewChanged.off" is a variant: the catalogue keeps it as AutoRenewChanged_off.
  return t(`account:timeline.events.${entry.key.replace(".", "_")}`, { ...values, defaultValue: entry.title });
}
