import { useState } from "react";
import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { money } from "../../../lib/format";
import { invoicesApi, type Invoice } from "../api";
import { billingError } from "../errors";

/** "Dừng thanh toán": what was paid goes back to the wallet, shown before confirming. */
export function StopDialog({ invoice, onClose, onStopped }: { invoice: Invoice; onClose: () => void; onStopped: (i: Invoice) => void }) {
  const { t } = useTranslation("invoices");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function stop() {
    setBusy(true);
    setError(null);
    try {
      onStopped(await invoicesApi.cancel(invoice.id));
    } catch (err) {
      setError(billingError(t, err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal opened onClose={onClose} closeButtonProps={{ "aria-label": t("close") }} title={t("stopTitle")}>
      <Stack>
        <Text>{t("stopBody", { number: invoice.proforma_number })}</Text>
        <Alert color="blue" role="status" data-testid="stop-refund">
          {invoice.paid > 0
            ? t("stopRefund", { amount: money(invoice.paid, invoice.currency) })
            : t("stopNothingPaid")}
        </Alert>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {t("back")}
          </Button>
          <Button color="red" onClick={() => void stop()} loading={busy}>
            {t("stopConfirm")}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
