import { Badge, Card, Group, Stack, Table, Text, em } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { useTranslation } from "react-i18next";
import type { DashboardTransaction } from "../../api/dashboard";
import type { Transaction } from "../../api/wallet";
import { Money } from "../../components/Money";
import { dateTime } from "../../lib/format";
import { ScrollTable } from "../../components/ScrollTable";

const KIND_COLOR = { credit: "teal", debit: "orange", held: "yellow" } as const;

/** Below this width the rows stack as cards: five columns do not fit a phone. */
const PHONE = `(max-width: ${em(640)})`;

/** Wallet rows as the hosting portal lists them: time, code, content, amount, balance. */
export function TransactionsTable({ rows }: { rows: (Transaction | DashboardTransaction)[] }) {
  const { t } = useTranslation();
  const phone = useMediaQuery(PHONE, false, { getInitialValueInEffect: false });
  if (rows.length === 0) {
    return (
      <Text c="dimmed" size="sm">
        {t("transactions.none")}
      </Text>
    );
  }
  if (phone) return <TransactionCards rows={rows} />;
  return (
    <ScrollTable minWidth={640} label={t("transactions.title")}>
      <Table striped highlightOnHover verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("transactions.time")}</Table.Th>
            <Table.Th>{t("transactions.kind")}</Table.Th>
            <Table.Th>{t("transactions.content")}</Table.Th>
            <Table.Th style={{ textAlign: "right" }}>{t("transactions.amount")}</Table.Th>
            <Table.Th style={{ textAlign: "right" }}>{t("transactions.balanceAfter")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={`${row.kind}-${row.id}`}>
              <Table.Td style={{ whiteSpace: "nowrap" }}>{dateTime(row.occurred_at)}</Table.Td>
              <Table.Td>
                <Badge variant="light" color={KIND_COLOR[row.kind]}>
                  {t(`transactions.kinds.${row.kind}`)}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{t(`transactions.reasons.${row.reason}`, { defaultValue: row.reason })}</Text>
                <Text size="xs" c="dimmed" style={{ wordBreak: "break-all" }}>
                  {row.reference}
                </Text>
              </Table.Td>
              {/* red.9: orange.9 reads below 4.5:1 on a striped row (axe, a debit on the dashboard) */}
              <Table.Td style={{ textAlign: "right" }} c={row.kind === "debit" ? "red.9" : row.kind === "credit" ? "teal.9" : undefined}>
                <Money amount={row.kind === "debit" ? -row.amount : row.amount} currency={row.currency} signed />
              </Table.Td>
              <Table.Td style={{ textAlign: "right" }}>
                <Money amount={row.balance_after} currency={row.currency} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

/** The same rows on a phone: one card each, the amount beside the content, nothing sideways. */
function TransactionCards({ rows }: { rows: (Transaction | DashboardTransaction)[] }) {
  const { t } = useTranslation();
  return (
    <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: "none" }} aria-label={t("transactions.title")}>
      {rows.map((row) => (
        <Card key={`${row.kind}-${row.id}`} component="li" withBorder padding="sm" data-testid="transaction-card">
          <Group justify="space-between" wrap="nowrap" align="flex-start" gap="xs">
            <Stack gap={2} miw={0}>
              <Text size="sm" fw={500}>
                {t(`transactions.reasons.${row.reason}`, { defaultValue: row.reason })}
              </Text>
              <Text size="xs" c="dimmed" style={{ wordBreak: "break-all" }}>
                {row.reference}
              </Text>
            </Stack>
            <Text
              size="sm"
              fw={600}
              style={{ whiteSpace: "nowrap" }}
              c={row.kind === "debit" ? "red.9" : row.kind === "credit" ? "teal.9" : undefined}
            >
              <Money amount={row.kind === "debit" ? -row.amount : row.amount} currency={row.currency} signed />
            </Text>
          </Group>
          <Group justify="space-between" wrap="wrap" gap="xs" mt={6}>
            <Group gap="xs" wrap="nowrap">
              <Badge variant="light" color={KIND_COLOR[row.kind]}>
                {t(`transactions.kinds.${row.kind}`)}
              </Badge>
              <Text size="xs" c="dimmed">
                {dateTime(row.occurred_at)}
              </Text>
            </Group>
            <Text size="xs" c="dimmed">
              {t("transactions.balanceAfter")}: <Money amount={row.balance_after} currency={row.currency} />
            </Text>
          </Group>
        </Card>
      ))}
    </Stack>
  );
}
