import { useState } from "react";
import { Alert, Anchor, Button, Card, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { IconArrowLeft } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../../layout/AppLayout";
import { date, dateTime, money } from "../../lib/format";
import { OPEN, invoicesApi, type Invoice } from "./api";
import { ClaimDialog } from "./components/ClaimDialog";
import { ClaimTable } from "./components/ClaimList";
import { InvoicePdfButton } from "./components/InvoicePdfButton";
import { PayPanel } from "./components/PayPanel";
import { InvoiceStatusBadge } from "./components/StatusBadge";
import { StopDialog } from "./components/StopDialog";
import { billingError } from "./errors";

function Summary({ invoice }: { invoice: Invoice }) {
  const { t } = useTranslation("invoices");
  const rows: [string, string][] = [
    [t("total"), money(invoice.total, invoice.currency)],
    [t("paid"), money(invoice.paid, invoice.currency)],
    [t("amountDue"), money(invoice.amount_due, invoice.currency)],
  ];
  if (invoice.status === "cancelled" && invoice.refunded_to_wallet)
    rows.push([t("refundedToWallet"), money(invoice.refunded_to_wallet, invoice.currency)]);
  return (
    <Table withRowBorders={false} data-testid="invoice-summary">
      <Table.Tbody>
        {rows.map(([label, value]) => (
          <Table.Tr key={label}>
            <Table.Th>{label}</Table.Th>
            <Table.Td ta="right" className="money">
              {value}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** One invoice: lines, payments, claims; pay, continue or stop, PDF, "I paid but…". */
export default function InvoiceDetail() {
  const { t } = useTranslation("invoices");
  const { invoiceId = "" } = useParams();
  const queryClient = useQueryClient();
  const invoice = useQuery({ queryKey: ["invoice", invoiceId], queryFn: () => invoicesApi.get(invoiceId) });
  const [paying, setPaying] = useState(false);
  const [stopping, setStopping] = useState(false);
  const [claiming, setClaiming] = useState(false);

  if (invoice.isPending) return <PageLoader />;
  if (invoice.isError)
    return (
      <Alert color="red" role="alert">
        {billingError(t, invoice.error)}
      </Alert>
    );
  const inv = invoice.data;
  const open = OPEN.includes(inv.status);
  const partly = inv.status === "partially_paid";

  function fresh(next: Invoice) {
    queryClient.setQueryData(["invoice", invoiceId], next);
    void queryClient.invalidateQueries({ queryKey: ["invoices"] });
    void queryClient.invalidateQueries({ queryKey: ["subscriptions"] });
    setPaying(false);
  }

  return (
    <Stack>
      <Anchor component={Link} to="/invoices" size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} />
          {t("backToList")}
        </Group>
      </Anchor>
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={2}>
            {inv.invoice_number ? t("invoiceTitle", { number: inv.invoice_number }) : t("proformaTitle", { number: inv.proforma_number })}
          </Title>
          <Text c="gray.7" size="sm">
            {inv.plan_name} · {t("services:months", { count: inv.months })} · {t(`services:orderKind.${inv.order_kind}`)} ·{" "}
            {t("issuedOn", { date: dateTime(inv.issued_at) })}
            {inv.due_at ? ` · ${t("dueOn", { date: date(inv.due_at) })}` : ""}
          </Text>
        </div>
        <Group gap="xs">
          <InvoiceStatusBadge status={inv.status} />
          <InvoicePdfButton invoice={inv} />
        </Group>
      </Group>

      {partly && !paying && (
        <Alert
          color="yellow"
          role="status"
          title={t("partlyTitle")}
          // Mantine's yellow title is below 4.5:1 on its light background.
          styles={{ title: { color: "var(--mantine-color-dark-7)" } }}
        >
          <Stack gap="xs">
            <Text size="sm">
              {t("partlyBody", { paid: money(inv.paid, inv.currency), due: money(inv.amount_due, inv.currency) })}
            </Text>
            <Group gap="xs">
              <Button size="compact-sm" onClick={() => { setPaying(true); }}>
                {t("continuePaying")}
              </Button>
              <Button size="compact-sm" color="red" variant="light" onClick={() => { setStopping(true); }}>
                {t("stopPaying")}
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {inv.status === "cancelled" && (
        <Alert color="gray" role="status">
          {t("cancelledBody", { amount: money(inv.refunded_to_wallet ?? 0, inv.currency) })}
        </Alert>
      )}

      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card>
          <Title order={3} size="h5" mb="xs">
            {t("lines")}
          </Title>
          <Table>
            <Table.Tbody>
              {inv.lines.map((line, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{line.description}</Table.Td>
                  <Table.Td ta="right" className="money">
                    {money(line.amount, inv.currency)}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Summary invoice={inv} />
        </Card>
        {open && (partly ? paying : true) && (
          <Card>
            <Title order={3} size="h5" mb="xs">
              {t("payTitle")}
            </Title>
            <PayPanel invoice={inv} onPaid={fresh} key={inv.paid} />
            <Group justify="space-between" mt="md" gap="xs">
              <Anchor component="button" type="button" size="sm" onClick={() => { setClaiming(true); }}>
                {t("claimLink")}
              </Anchor>
              {!partly && (
                <Button size="compact-sm" variant="subtle" color="red" onClick={() => { setStopping(true); }}>
                  {t("cancelOrder")}
                </Button>
              )}
            </Group>
          </Card>
        )}
      </SimpleGrid>

      {inv.payments.length > 0 && (
        <Card>
          <Title order={3} size="h5" mb="xs">
            {t("payments")}
          </Title>
          <Table.ScrollContainer minWidth={500}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("paidAt")}</Table.Th>
                  <Table.Th>{t("channel")}</Table.Th>
                  <Table.Th>{t("reference")}</Table.Th>
                  <Table.Th ta="right">{t("amount")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {inv.payments.map((p) => (
                  <Table.Tr key={p.payment_id}>
                    <Table.Td>{dateTime(p.at)}</Table.Td>
                    <Table.Td>{t(`channels.${p.channel}`, { defaultValue: p.channel })}</Table.Td>
                    <Table.Td ff="monospace">{p.reference || "—"}</Table.Td>
                    <Table.Td ta="right" className="money">
                      {money(p.applied, inv.currency)}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}

      {inv.claims.length > 0 && (
        <Card>
          <Title order={3} size="h5" mb="xs">
            {t("claims")}
          </Title>
          <ClaimTable claims={inv.claims} />
        </Card>
      )}

      {stopping && (
        <StopDialog
          invoice={inv}
          onClose={() => { setStopping(false); }}
          onStopped={(next) => {
            fresh(next);
            setStopping(false);
          }}
        />
      )}
      {claiming && <ClaimDialog invoice={inv} onClose={() => { setClaiming(false); }} />}
    </Stack>
  );
}
