import { Badge, Table, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import type { DashboardTransaction } from "../../api/dashboard";
import type { Transaction } from "../../api/wallet";
import { Money } from "../../components/Money";
import { dateTime } from "../../lib/format";
import { ScrollTable } from "../../components/ScrollTable";

const KIND_COLOR = { credit: "teal", debit: "orange", held: "yellow" } as const;

/** Wallet rows as the hosting portal lists them: time, code, content, amount, balance. */
export function TransactionsTable({ rows }: { rows: (Transaction | DashboardTransaction)[] }) {
  const { t } = useTranslation();
  if (rows.length === 0) {
    return (
      <Text c="dimmed" size="sm">
        {t("transactions.none")}
      </Text>
    );
  }
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
              <Table.Td style={{ textAlign: "right" }} c={row.kind === "debit" ? "orange.9" : row.kind === "credit" ? "teal.9" : undefined}>
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
