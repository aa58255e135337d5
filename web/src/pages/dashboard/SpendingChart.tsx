import { BarChart } from "@mantine/charts";
import "@mantine/charts/styles.css";
import { Skeleton, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { walletApi, type Transaction } from "../../api/wallet";
import { dayjs, money, timeZone } from "../../lib/format";

const MONTHS = 6;
const PAGE = 100; // the most the wallet answers at once

/**
 * Every wallet row from `from` on (a busy account has more than one page in six months). A row
 * written meanwhile shifts the pages: rows are kept by id, so none is counted twice.
 */
async function rowsSince(from: string): Promise<Transaction[]> {
  const rows = new Map<string, Transaction>();
  for (let offset = 0; ; offset += PAGE) {
    const page = await walletApi.transactions({ limit: PAGE, offset, from });
    for (const row of page.items) rows.set(`${row.kind}-${row.id}`, row);
    if (page.items.length < PAGE || offset + PAGE >= page.total) return [...rows.values()];
  }
}

/**
 * Spending and top-ups per month, in the account's time zone. The API has no per-month series
 * for a customer (only the staff dashboard has one, for orders), so the months are summed here
 * from the wallet's history since the first of them, read a page at a time.
 */
export default function SpendingChart() {
  const { t } = useTranslation();
  const since = dayjs().tz(timeZone()).startOf("month").subtract(MONTHS - 1, "month");
  const query = useQuery({
    queryKey: ["wallet", "transactions", "chart", since.format("YYYY-MM")],
    queryFn: () => rowsSince(since.toISOString()),
  });
  if (query.isPending) return <Skeleton h={240} />;
  if (query.isError) return <Text c="dimmed">{t("errors.error")}</Text>;

  const months = Array.from({ length: MONTHS }, (_, i) => since.add(i, "month").format("YYYY-MM"));
  const rows = months.map((month) => ({ month: dayjs(month + "-01").format("MM/YYYY"), spent: 0, toppedUp: 0 }));
  for (const row of query.data) {
    const index = months.indexOf(dayjs(row.occurred_at).tz(timeZone()).format("YYYY-MM"));
    const target = rows[index];
    if (!target) continue;
    if (row.kind === "debit") target.spent += row.amount;
    else if (row.kind === "credit" && row.reason === "top_up") target.toppedUp += row.amount;
  }
  return (
    <BarChart
      h={240}
      data={rows}
      dataKey="month"
      valueFormatter={(value) => money(value)}
      withLegend
      series={[
        { name: "spent", label: t("dashboard.spent"), color: "orange.6" },
        { name: "toppedUp", label: t("dashboard.toppedUp"), color: "blue.6" },
      ]}
      // A bare div may not carry a label (axe: aria-prohibited-attr); as a figure it may.
      role="figure"
      aria-label={t("dashboard.spending")}
    />
  );
}
