import dayjs from "dayjs";
import utc from "dayjs/plugin/utc";
import timezone from "dayjs/plugin/timezone";
import "dayjs/locale/vi";

dayjs.extend(utc);
dayjs.extend(timezone);

/** The business's time zone unless the account says otherwise. */
export const DEFAULT_TIME_ZONE = "Asia/Ho_Chi_Minh";
let zone = DEFAULT_TIME_ZONE;

/** The account's zone (from the profile, set by its owner or an admin) for every date shown. */
export function setTimeZone(tz: string | null | undefined): void {
  zone = tz && tz.length > 0 ? tz : DEFAULT_TIME_ZONE;
}

export function timeZone(): string {
  return zone;
}

const SYMBOLS: Record<string, string> = { VND: "₫", USD: "$", EUR: "€" };

/**
 * Money in minor units as `1.234.567 ₫` (VND has no minor unit; others show two decimals).
 * Built by hand rather than with Intl so the grouping is the same in both languages.
 */
export function money(amount: number, currency = "VND"): string {
  const sign = amount < 0 ? "-" : "";
  const abs = Math.abs(amount);
  const decimals = currency === "VND" ? 0 : 2;
  const whole = Math.trunc(abs / 10 ** decimals);
  const grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  const fraction = decimals ? "," + String(abs % 10 ** decimals).padStart(decimals, "0") : "";
  return `${sign}${grouped}${fraction} ${SYMBOLS[currency] ?? currency}`;
}

/** An instant (ISO string) in the account's time zone. */
export function dateTime(value: string | Date | null | undefined): string {
  if (!value) return "—";
  return dayjs(value).tz(zone).format("DD/MM/YYYY HH:mm");
}

export function date(value: string | Date | null | undefined): string {
  if (!value) return "—";
  return dayjs(value).tz(zone).format("DD/MM/YYYY");
}

/** The end of a calendar day (YYYY-MM-DD) in the account's zone, as a UTC instant. */
export function endOfDay(day: string): string {
  return dayjs.tz(day, zone).endOf("day").toISOString();
}

export { dayjs };
