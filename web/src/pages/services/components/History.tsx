import { useState } from "react";
import { Alert, Badge, Group, Pagination, Stack, Table, Text, VisuallyHidden } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../../../layout/AppLayout";
import { dateTime, money } from "../../../lib/format";
import { InvoicePdfButton } from "../../invoices/components/InvoicePdfButton";
import { billingError } from "../../invoices/errors";
import { servicesApi } from "../api";

const PAGE = 20;

/** Purchase history: every paid order, newest first. */
export function History() {
  const { t } = useTranslation("services");
  const [page, setPage] = useState(1);
  const purchases = useQuery({
    queryKey: ["purchases", page],
    queryFn: () => servicesApi.purchases((page - 1) * PAGE, PAGE),
  });
  if (purchases.isPending) return <PageLoader />;
  if (purchases.isError)
    return (
      <Alert color="red" role="alert">
        {billingError(t, purchases.error)}
      </Alert>
    );
  const { items, total } = purchases.data;
  if (items.length === 0) return <Text c="gray.7">{t("noPurchases")}</Text>;
  return (
    <Stack>
      <Table.ScrollContainer minWidth={640}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("paidAt")}</Table.Th>
              <Table.Th>{t("invoiceNumber")}</Table.Th>
              <Table.Th>{t("plan")}</Table.Th>
              <Table.Th>{t("kind")}</Table.Th>
              <Table.Th ta="right">{t("total")}</Table.Th>
              <Table.Th>
                <VisuallyHidden>{t("files")}</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((inv) => (
              <Table.Tr key={inv.id}>
                <Table.Td>{dateTime(inv.paid_at)}</Table.Td>
                <Table.Td>
                  <Link to={`/invoices/${inv.id}`}>{inv.invoice_number}</Link>
                </Table.Td>
                <Table.Td>
                  {inv.plan_name} · {t("months", { count: inv.months })}
                </Table.Td>
                <Table.Td>
                  <Badge variant="outline" color="gray" c="dark.7">
                    {t(`orderKind.${inv.order_kind}`)}
                  </Badge>
                </Table.Td>
                <Table.Td ta="right" className="money">
                  {money(inv.total, inv.currency)}
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
