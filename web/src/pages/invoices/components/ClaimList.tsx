import { Alert, Stack, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../../../layout/AppLayout";
import { dateTime, money } from "../../../lib/format";
import { invoicesApi, type Claim } from "../api";
import { billingError } from "../errors";
import { ClaimStatusBadge } from "./StatusBadge";

/** Payment claims: documents under review (with the 24-hour promise) or rejected (with why). */
export function ClaimList({ status }: { status: Claim["status"] }) {
  const { t } = useTranslation("invoices");
  const claims = useQuery({ queryKey: ["claims", status], queryFn: () => invoicesApi.claims({ status, limit: 100 }) });
  if (claims.isPending) return <PageLoader />;
  if (claims.isError)
    return (
      <Alert color="red" role="alert">
        {billingError(t, claims.error)}
      </Alert>
    );
  if (claims.data.items.length === 0) return <Text c="gray.7">{t("noClaims")}</Text>;
  return <ClaimTable claims={claims.data.items} />;
}

export function ClaimTable({ claims }: { claims: Claim[] }) {
  const { t } = useTranslation("invoices");
  return (
    <Stack>
      <Table.ScrollContainer minWidth={700}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("filedAt")}</Table.Th>
              <Table.Th>{t("invoice")}</Table.Th>
              <Table.Th>{t("reference")}</Table.Th>
              <Table.Th ta="right">{t("amount")}</Table.Th>
              <Table.Th>{t("statusHead")}</Table.Th>
              <Table.Th>{t("note")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {claims.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>{dateTime(c.filed_at)}</Table.Td>
                <Table.Td>
                  <Link to={`/invoices/${c.invoice_id}`}>{c.invoice_proforma ?? c.invoice_id}</Link>
                </Table.Td>
                <Table.Td ff="monospace">{c.reference}</Table.Td>
                <Table.Td ta="right" className="money">
                  {money(c.amount, c.currency)}
                </Table.Td>
                <Table.Td>
                  <ClaimStatusBadge status={c.status} />
                </Table.Td>
                <Table.Td>
                  {c.status === "rejected" && (
                    <Text size="sm" c="red.9">
                      {t("rejectedBecause", { reason: c.rejection_reason })}
                    </Text>
                  )}
                  {c.status === "under_review" && (
                    <Text size="sm">{t(c.overdue ? "reviewLate" : "reviewBy", { due: dateTime(c.review_due_at) })}</Text>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
