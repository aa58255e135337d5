import { lazy, Suspense, useEffect } from "react";
import { Alert, Anchor, Badge, Button, Card, Group, Progress, SimpleGrid, Skeleton, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { dashboardApi, followDashboard, type Dashboard as Board } from "../../api/dashboard";
import { Money } from "../../components/Money";
import { ScrollTable } from "../../components/ScrollTable";
import { date, dateTime } from "../../lib/format";
import { errorMessage } from "../../lib/errors";
import { TransactionsTable } from "../transactions/TransactionsTable";
import { Orders } from "./Orders";

// recharts is large: the chart is its own chunk, loaded after the figures are on screen.
const SpendingChart = lazy(() => import("./SpendingChart"));

/** A service ends within this many days: the notice with its renew button (seed 002). */
const EXPIRY_NOTICE_DAYS = 15;

export default function Dashboard() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const query = useQuery({ queryKey: ["dashboard"], queryFn: dashboardApi.get });

  useEffect(
    () =>
      followDashboard((board) => {
        queryClient.setQueryData(["dashboard"], board);
        void queryClient.invalidateQueries({ queryKey: ["wallet"] });
      }),
    [queryClient],
  );

  if (query.isPending) return <Skeleton h={320} />;
  if (query.isError) {
    return (
      <Alert color="red" role="alert">
        {errorMessage(t, query.error)}
      </Alert>
    );
  }
  const board: Board = query.data;
  const currency = board.wallet?.currency ?? "VND";
  const notices = (board.services?.items ?? []).filter((s) => s.status === "expired" || s.days_left <= EXPIRY_NOTICE_DAYS);

  return (
    <Stack gap="lg">
      <Title order={2}>{t("dashboard.title")}</Title>

      {notices.map((s) => (
        <Alert key={s.id} color={s.status === "expired" ? "red" : "orange"} title={t(s.status === "expired" ? "dashboard.expiredTitle" : "dashboard.expiringTitle")}>
          <Group justify="space-between" wrap="wrap">
            <Text size="sm">
              {s.status === "expired"
                ? t("dashboard.expired", { plan: s.plan_name, contract: s.contract_number })
                : t("dashboard.expiring", { plan: s.plan_name, contract: s.contract_number, count: s.days_left, date: date(s.ends_on) })}
            </Text>
            <Button size="xs" component={Link} to={`/services?renew=${encodeURIComponent(s.id)}`}>
              {t("dashboard.renew")}
            </Button>
          </Group>
        </Alert>
      ))}

      <SimpleGrid cols={{ base: 1, xs: 2, lg: 4 }}>
        <Card>
          <Text size="sm" c="dimmed">
            {t("dashboard.balance")}
          </Text>
          <Text fz={26} fw={700} data-testid="balance">
            <Money amount={board.wallet?.balance ?? 0} currency={currency} />
          </Text>
          <Button mt="sm" size="xs" variant="light" component={Link} to="/top-up">
            {t("nav.topUp")}
          </Button>
        </Card>
        <Card>
          <Text size="sm" c="dimmed">
            {t("dashboard.totalTopUp")}
          </Text>
          <Text fz={26} fw={700} data-testid="total-topped-up">
            <Money amount={board.wallet?.total_topped_up ?? 0} currency={currency} />
          </Text>
        </Card>
        <Card>
          <Text size="sm" c="dimmed">
            {t("dashboard.openInvoices")}
          </Text>
          <Text fz={26} fw={700}>
            {board.open_invoices?.count ?? 0}
          </Text>
          <Text size="sm">
            {t("dashboard.amountDue")}: <Money amount={board.open_invoices?.amount_due ?? 0} currency={currency} />
          </Text>
        </Card>
        <Card>
          <Text size="sm" c="dimmed">
            {t("dashboard.loyalty")}
          </Text>
          <Text fz={22} fw={700}>
            {board.loyalty?.level ?? t("dashboard.noLevel")}
          </Text>
          {board.loyalty && (
            <>
              <Progress value={board.loyalty.progress_percent} mt="xs" aria-label={t("dashboard.toNextLevel")} />
              <Text size="xs" c="dimmed" mt={4}>
                {board.loyalty.next_level
                  ? t("dashboard.nextLevel", { level: board.loyalty.next_level })
                  : t("dashboard.topLevel")}
                {board.loyalty.next_level ? ": " : ""}
                {board.loyalty.next_level && <Money amount={board.loyalty.to_next_level} currency={currency} />}
              </Text>
            </>
          )}
        </Card>
      </SimpleGrid>

      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card>
          <Title order={3} size="h4" mb="sm">
            {t("dashboard.services")}
          </Title>
          {(board.services?.items.length ?? 0) === 0 ? (
            <Text c="dimmed" size="sm">
              {t("dashboard.noServices")}
            </Text>
          ) : (
            <ScrollTable minWidth={360} label={t("dashboard.services")}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t("dashboard.service")}</Table.Th>
                    <Table.Th>{t("dashboard.endsOn")}</Table.Th>
                    <Table.Th>{t("dashboard.daysLeft")}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {board.services?.items.map((s) => (
                    <Table.Tr key={s.id}>
                      <Table.Td>
                        <Text size="sm" fw={600}>
                          {s.plan_name}
                        </Text>
                        <Text size="xs" c="dimmed">
                          {s.contract_number}
                        </Text>
                      </Table.Td>
                      <Table.Td>{date(s.ends_on)}</Table.Td>
                      <Table.Td>
                        <Badge color={s.status === "expired" ? "red" : s.days_left <= EXPIRY_NOTICE_DAYS ? "orange" : "teal"} variant="light">
                          {s.status === "expired" ? t("dashboard.expiredBadge") : t("dashboard.days", { count: s.days_left })}
                        </Badge>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollTable>
          )}
        </Card>

        <Card>
          <Title order={3} size="h4" mb="sm">
            {t("dashboard.inProgress")}
          </Title>
          <Stack gap="xs">
            {(board.tickets?.latest ?? [])
              .filter((ticket) => !["resolved", "closed"].includes(ticket.status ?? ""))
              .slice(0, 5)
              .map((ticket) => (
                <Group key={ticket.id} justify="space-between" wrap="nowrap">
                  <Text size="sm" truncate>
                    {t("dashboard.ticket")} {ticket.number}: {ticket.title}
                  </Text>
                  {ticket.status && (
                    <Badge variant="light">{t(`status.ticket.${ticket.status}`, { defaultValue: ticket.status })}</Badge>
                  )}
                </Group>
              ))}
            {(board.repairs_in_progress ?? []).slice(0, 5).map((repair) => (
              <Group key={repair.id} justify="space-between" wrap="nowrap">
                <Text size="sm" truncate>
                  {t("dashboard.repair")} {repair.number}: {repair.model}
                </Text>
                {repair.step && (
                  <Badge variant="light" color="grape">
                    {t(`status.repair.${repair.step}`, { defaultValue: repair.step })}
                  </Badge>
                )}
              </Group>
            ))}
            {(board.payment_claims?.under_review ?? []).map((claim) => (
              <Group key={claim.id} justify="space-between" wrap="nowrap">
                <Text size="sm" truncate>
                  {t("dashboard.claim")} {claim.reference}
                </Text>
                <Badge variant="light" color="yellow">
                  {t("dashboard.underReview")}
                </Badge>
              </Group>
            ))}
            {(board.payment_claims?.rejected ?? []).map((claim) => (
              <Group key={claim.id} justify="space-between" wrap="nowrap">
                <Text size="sm" truncate>
                  {t("dashboard.claim")} {claim.reference}
                  {claim.reason ? `: ${claim.reason}` : ""}
                </Text>
                <Badge variant="light" color="red">
                  {t("dashboard.rejected")}
                </Badge>
              </Group>
            ))}
            {(board.tickets?.open ?? 0) === 0 && (board.repairs_in_progress ?? []).length === 0 &&
              (board.payment_claims?.under_review ?? []).length === 0 && (board.payment_claims?.rejected ?? []).length === 0 && (
                <Text size="sm" c="dimmed">
                  {t("dashboard.nothingInProgress")}
                </Text>
              )}
            <Group gap="md">
              <Anchor component={Link} to="/support" size="sm">
                {t("nav.support")}
              </Anchor>
              <Anchor component={Link} to="/repairs" size="sm">
                {t("nav.repairs")}
              </Anchor>
            </Group>
          </Stack>
        </Card>
      </SimpleGrid>

      <Orders />

      <Card>
        <Group justify="space-between" mb="sm">
          <Title order={3} size="h4">
            {t("dashboard.recent")}
          </Title>
          <Anchor component={Link} to="/transactions" size="sm">
            {t("dashboard.allTransactions")}
          </Anchor>
        </Group>
        <TransactionsTable rows={(board.recent_transactions ?? []).slice(0, 8)} />
      </Card>

      <Card>
        <Title order={3} size="h4" mb="sm">
          {t("dashboard.spending")}
        </Title>
        <Suspense fallback={<Skeleton h={240} />}>
          <SpendingChart />
        </Suspense>
      </Card>

      <Text size="xs" c="dimmed">
        {t("dashboard.updated", { time: dateTime(new Date()) })}
      </Text>
    </Stack>
  );
}
