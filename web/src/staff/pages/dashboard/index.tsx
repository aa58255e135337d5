import { BarChart, DonutChart } from "@mantine/charts";
import "@mantine/charts/styles.css";
import { Alert, Anchor, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useEffect } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { followBoard } from "../../../api/dashboard";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../../../layout/AppLayout";
import { dateTime, money } from "../../../lib/format";
import { errorMessage } from "../../../lib/errors";
import { staffDashboardApi } from "./api";

/** Once, then live over the staff stream (as the customer's dashboard). */
function useStaffBoard() {
  const queryClient = useQueryClient();
  useEffect(
    () =>
      followBoard("/api/v1/staff/dashboard/stream", (board) => {
        queryClient.setQueryData(["staff", "dashboard"], board);
      }),
    [queryClient],
  );
  return useQuery({ queryKey: ["staff", "dashboard"], queryFn: staffDashboardApi.get });
}

function rows(counts: Record<string, number> | undefined, label: (key: string) => string) {
  return Object.entries(counts ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, count]) => ({ name: label(key), count }));
}

function Figure({ label, value, alert = false, to }: { label: string; value: number | string; alert?: boolean; to?: string }) {
  const number = (
    <Text fz={28} fw={700} c={alert ? "red.9" : "dark.7"} className="money">
      {value}
    </Text>
  );
  return (
    <Card withBorder padding="md" data-testid={`figure-${label}`}>
      <Text size="sm" c="gray.7">
        {label}
      </Text>
      {to ? (
        <Anchor component={Link} to={to} underline="hover" aria-label={`${label}: ${value}`}>
          {number}
        </Anchor>
      ) : (
        number
      )}
    </Card>
  );
}

function Chart({ title, data, color }: { title: string; data: { name: string; count: number }[]; color: string }) {
  const { t } = useTranslation("staff");
  return (
    <Card withBorder padding="md">
      <Title order={3} size="h5" mb="sm">
        {title}
      </Title>
      {data.length === 0 ? (
        <Text c="gray.7" size="sm">
          {t("dashboard.nothing")}
        </Text>
      ) : (
        <BarChart
          h={220}
          data={data}
          dataKey="name"
          series={[{ name: "count", label: t("dashboard.count"), color }]}
          tickLine="y"
        />
      )}
    </Card>
  );
}

export default function StaffDashboardPage() {
  const { t } = useTranslation("staff");
  const board = useStaffBoard();
  if (board.isPending) return <PageLoader />;
  if (board.isError)
    return (
      <Alert color="red" role="alert">
        {errorMessage(t, board.error)}
      </Alert>
    );
  const { tickets, repairs, billing, crm, wallet, projection } = board.data;
  const breaches = (tickets.sla_breaches.first_response ?? 0) + (tickets.sla_breaches.resolution ?? 0);
  const levels = Object.entries(crm.customers_by_level);
  const palette = ["blue.6", "teal.6", "grape.6", "orange.6", "cyan.6", "pink.6"];
  return (
    <Stack>
      <Group justify="space-between" align="baseline">
        <Title order={2}>{t("dashboard.title")}</Title>
        <Text size="sm" c="gray.7">
          {t("dashboard.asOf", { at: dateTime(projection.as_of) })}
        </Text>
      </Group>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
        <Figure label={t("dashboard.slaBreaches")} value={breaches} alert={breaches > 0} to="/staff/tickets" />
        <Figure
          label={t("dashboard.claimsPending")}
          value={billing.payment_claims_open}
          to="/staff/billing"
        />
        <Figure
          label={t("dashboard.claimsOverdue")}
          value={billing.payment_claims_overdue}
          alert={(billing.payment_claims_overdue) > 0}
          to="/staff/billing?overdue=1"
        />
        <Figure label={t("dashboard.repairsWaiting")} value={repairs.waiting_for_quote_approval} to="/staff/repairs?status=quoted" />
        <Figure label={t("dashboard.repairsOverdue")} value={repairs.overdue} alert={(repairs.overdue) > 0} />
        <Figure label={t("dashboard.careToday")} value={crm.care_activities_due_today} />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Chart title={t("dashboard.ticketsByStatus")} data={rows(tickets.by_status, (s) => t(`ticketStatus.${s}`, { defaultValue: s }))} color="blue.6" />
        <Chart title={t("dashboard.ticketsByDepartment")} data={rows(tickets.by_department, (d) => d)} color="teal.6" />
        <Chart title={t("dashboard.repairsByStep")} data={rows(repairs.by_step, (s) => t(`repairStatus.${s}`, { defaultValue: s }))} color="grape.6" />
        <Chart title={t("dashboard.repairsByBranch")} data={rows(repairs.by_branch, (b) => b)} color="orange.6" />
        <Card withBorder padding="md">
          <Title order={3} size="h5" mb="sm">
            {t("dashboard.customersByLevel")}
          </Title>
          {levels.length === 0 ? (
            <Text c="gray.7" size="sm">
              {t("dashboard.nothing")}
            </Text>
          ) : (
            <DonutChart
              h={200}
              withLabels
              withLabelsLine
              data={levels.map(([name, value], i) => ({ name, value, color: palette[i % palette.length] ?? "blue.6" }))}
            />
          )}
        </Card>
        <Card withBorder padding="md">
          <Title order={3} size="h5" mb="sm">
            {t("dashboard.ordersPerMonth")}
          </Title>
          <BarChart
            h={200}
            data={billing.orders_per_month.map((row) => ({ month: row.month, orders: row.orders }))}
            dataKey="month"
            series={[{ name: "orders", label: t("dashboard.orders"), color: "indigo.6" }]}
          />
        </Card>
      </SimpleGrid>
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Figure label={t("dashboard.topUps")} value={wallet.top_ups_completed} />
        {Object.entries(Object.keys(wallet.topped_up).length ? wallet.topped_up : { VND: 0 }).map(([currency, amount]) => (
          <Figure key={currency} label={t("dashboard.toppedUp", { currency })} value={money(amount, currency)} />
        ))}
        <Figure label={t("dashboard.careOverdue")} value={crm.care_activities_overdue} />
        <Figure label={t("dashboard.leadsUnassigned")} value={crm.leads_unassigned} />
      </SimpleGrid>
    </Stack>
  );
}
