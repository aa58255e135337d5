import { BarChart } from "@mantine/charts";
import "@mantine/charts/styles.css";
import { Skeleton, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { walletApi } from "../../api/wallet";
import { dayjs, money, timeZone } from "../../lib/format";

const MONTHS = 6;

/**
 * Spending and top-ups per month, in the account's time zone, from the wallet's history.
 * TODO(contract): a per-month series from the gateway (as the staff dashboard has for orders)
 * would spare reading up to 100 rows here.
 */
export default function SpendingChart() {
  const { t } = useTranslation();
  const since = dayjs().tz(timeZone()).startOf("month").subtract(MONTHS - 1, "month");
  const query = useQuery({
    queryKey: ["wallet", "transactions", "chart", since.format("YYYY-MM")],
    queryFn: () => walletApi.transactions({ limit: 100, offset: 0, from: since.toISOString() }),
  });
  if (query.isPending) return <Skeleton h={240} />;
  if (query.isError) return <Text c="dimmed">{t("errors.error")}</Text>;

  const months = Array.from({ length: MONTHS }, (_, i) => since.add(i, "month").format("YYYY-MM"));
  const rows = months.map((month) => ({ month: dayjs(month + "-01").format("MM/YYYY"), spent: 0, toppedUp: 0 }));
  for (const row of query.data.items) {
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
      aria-label={t("dashboard.spending")}
    />
  );
}
