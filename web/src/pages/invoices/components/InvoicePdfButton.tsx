import { useState } from "react";
import { Button } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconDownload } from "@tabler/icons-react";
import { useTranslation } from "react-i18next";
import { invoicesApi, type Invoice } from "../api";
import { saveFile } from "../download";
import { billingError } from "../errors";

export function InvoicePdfButton({ invoice, compact = false }: { invoice: Pick<Invoice, "id" | "invoice_number" | "proforma_number">; compact?: boolean }) {
  const { t } = useTranslation("invoices");
  const [busy, setBusy] = useState(false);
  const number = invoice.invoice_number ?? invoice.proforma_number;
  async function download() {
    setBusy(true);
    try {
      await saveFile(invoicesApi.pdf(invoice.id), `${number}.pdf`);
    } catch (err) {
      notifications.show({ color: "red", message: billingError(t, err) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <Button
      variant="default"
      size={compact ? "compact-sm" : "sm"}
      leftSection={<IconDownload size={16} />}
      onClick={() => void download()}
      loading={busy}
      aria-label={t("pdfOf", { number })}
    >
      PDF
    </Button>
  );
}
