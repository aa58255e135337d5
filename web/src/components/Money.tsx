import { money } from "../lib/format";

export function Money({ amount, currency = "VND", signed = false }: { amount: number; currency?: string; signed?: boolean }) {
  const text = money(amount, currency);
  return <span className="money">{signed && amount > 0 ? `+${text}` : text}</span>;
}
