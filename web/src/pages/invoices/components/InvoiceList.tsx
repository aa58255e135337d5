import { useState } from "react";
import { Alert, Group, Pagination, Stack, Table, Text, VisuallyHidden } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../../../layout/AppLayout";
import { date, money } from "../../../lib/format";
import { invoicesApi, type InvoiceRow, type InvoiceStatus } from "../api";
import { billingError } from "../errors";
import { InvoicePdfButton } from "./InvoicePdfButton";
import { InvoiceStatusBadge } from "./StatusBadge";

const PAGE = 20;

/** Invoices of some statuses, newest first (open ones are few: one page each). */
export function InvoiceList({ statuses, proforma }: { statuses: InvoiceStatus[]; proforma: boolean }) {
  const { t } = useTranslation("invoices");
  const [page, setPage] = useState(1);
  const lists = useQuery({
    queryKey: ["invoices", statuses, page],
    queryFn: async () => {
      const pages = await Promise.all(
        statuses.map((status) => invoicesApi.list({ status, limit: PAGE, offset: (page - 1) * PAGE })),
      );
      const items = pages.flatMap((p) => p.items).sort((a, b) => b.issued_at.localeCompare(a.issued_at));
      return { items, total: Math.max(...pages.map((p) => p.total)) };
    },
  });
  if (lists.isPending) return <PageLoader />;
  if (lists.isError)
    return (
      <Alert color="red" role="alert">
        {billingError(t, lists.error)}
      </Alert>
    );
  const { items, total } = lists.data;
  if (items.length === 0) return <Text c="gray.7">{t("none")}</Text>;
  const number = (inv: InvoiceRow) => (proforma ? inv.proforma_number : (inv.invoice_number ?? inv.proforma_number));
  return (
    <Stack>
      <Table.ScrollContainer minWidth={700}>
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("number")}</Table.Th>
              <Table.Th>{t("issuedAt")}</Table.Th>
              <Table.Th>{t("service")}</Table.Th>
              <Table.Th ta="right">{t("total")}</Table.Th>
              <Table.Th ta="right">{proforma ? t("amountDue") : t("paid")}</Table.Th>
              <Table.Th>{t("statusHead")}</Table.Th>
              <Table.Th>
                <VisuallyHidden>{t("files")}</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((inv) => (
              <Table.Tr key={inv.id} data-testid={`invoice-row-${inv.proforma_number}`}>
                <Table.Td>
                  <Link to={`/invoices/${inv.id}`}>{number(inv)}</Link>
                </Table.Td>
                <Table.Td>{date(inv.issued_at)}</Table.Td>
                <Table.Td>
                  {inv.plan_name} · {t("services:months", { count: inv.months })}
                </Table.Td>
                <Table.Td ta="right" className="money">
                  {money(inv.total, inv.currency)}
                </Table.Td>
                <Table.Td ta="right" className="money">
                  {money(proforma ? inv.amount_due : inv.paid, inv.currency)}
                </Table.Td>
                <Table.Td>
                  <InvoiceStatusBadge status={inv.status} />
                </Table.Td>
                <Table.Td>
                  <InvoicePdfButton invoice={inv} compact />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {total > PAGE && (
        <Group justify="center">
          <Pagination total={Math.ceil(total / PAGE)} value={page} onChange={setPage} />
        </Group>
      )}
    </Stack>
  );
}
