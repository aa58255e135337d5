import { Alert, Button, Group, Radio, Stack, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import type { Invoice } from "../../invoices/api";
import { InvoicePdfButton } from "../../invoices/components/InvoicePdfButton";
import { PayPanel } from "../../invoices/components/PayPanel";

/** After a renewal or an upgrade: paid, or the invoice to pay (transfer or in parts). */
export function ChangeResult({ invoice, onPaid, onClose }: { invoice: Invoice; onPaid: (i: Invoice) => void; onClose: () => void }) {
  const { t } = useTranslation("services");
  if (invoice.status === "paid")
    return (
      <Stack>
        <Alert color="green" title={t("paidTitle")} role="status">
          {t("paidBody", { number: invoice.invoice_number })}
        </Alert>
        <Group justify="flex-end">
          <InvoicePdfButton invoice={invoice} />
          <Button onClick={onClose}>{t("done")}</Button>
        </Group>
      </Stack>
    );
  return (
    <Stack>
      <Text size="sm">
        {t("proformaIssued", { number: invoice.proforma_number })}{" "}
        <Link to={`/invoices/${invoice.id}`}>{t("openInvoice")}</Link>
      </Text>
      <PayPanel invoice={invoice} onPaid={onPaid} key={invoice.paid} />
    </Stack>
  );
}

export function PayNowChoice({ value, onChange }: { value: boolean; onChange: (v: boolean) => void }) {
  const { t } = useTranslation("services");
  return (
    <Radio.Group label={t("payment")} value={value ? "now" : "later"} onChange={(v) => { onChange(v === "now"); }}>
      <Stack gap={6} mt={6}>
        <Radio value="now" label={t("payNowWallet")} />
        <Radio value="later" label={t("payLater")} />
      </Stack>
    </Radio.Group>
  );
}
