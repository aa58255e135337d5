import { useState } from "react";
import { Alert, Button, Group, Modal, Radio, Stack, Text } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { IdempotentAction } from "../../../api/client";
import { money } from "../../../lib/format";
import type { Invoice } from "../../invoices/api";
import { billingError } from "../../invoices/errors";
import { PayPanel } from "../../invoices/components/PayPanel";
import { InvoicePdfButton } from "../../invoices/components/InvoicePdfButton";
import { servicesApi, type Plan } from "../api";

/** Buy a plan: the period (with its discount), the proforma invoice, then the payment. */
export function BuyModal({ plan, onClose }: { plan: Plan; onClose: () => void }) {
  const { t } = useTranslation("services");
  const queryClient = useQueryClient();
  const [action] = useState(() => new IdempotentAction());
  const longest = plan.periods[plan.periods.length - 1];
  const [months, setMonths] = useState(String(longest?.months ?? 1));
  const [invoice, setInvoice] = useState<Invoice | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function order() {
    setBusy(true);
    setError(null);
    try {
      setInvoice(await servicesApi.order(action, plan.plan_id, Number(months)));
      void queryClient.invalidateQueries({ queryKey: ["invoices"] });
    } catch (err) {
      setError(billingError(t, err));
    } finally {
      setBusy(false);
    }
  }

  function paid(fresh: Invoice) {
    setInvoice(fresh);
    void queryClient.invalidateQueries({ queryKey: ["subscriptions"] });
    void queryClient.invalidateQueries({ queryKey: ["purchases"] });
  }

  return (
    <Modal opened onClose={onClose} closeButtonProps={{ "aria-label": t("close") }} title={t("buyTitle", { name: plan.name })} size="lg">
      {!invoice && (
        <Stack>
          <Radio.Group label={t("period")} value={months} onChange={setMonths}>
            <Stack gap={6} mt={6}>
              {plan.periods.map((p) => (
                <Radio
                  key={p.months}
                  value={String(p.months)}
                  label={
                    <Group gap="xs" wrap="nowrap">
                      <span>{t("months", { count: p.months })}</span>
                      <span className="money">{money(p.price, plan.currency)}</span>
                      {p.discount_percent > 0 && (
                        <Text span c="green.9" size="sm">
                          {t("discount", { percent: p.discount_percent })}
                        </Text>
                      )}
                    </Group>
                  }
                />
              ))}
            </Stack>
          </Radio.Group>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button onClick={() => void order()} loading={busy}>
              {t("continueToPay")}
            </Button>
          </Group>
        </Stack>
      )}
      {invoice && invoice.status === "paid" && (
        <Stack>
          <Alert color="green" title={t("paidTitle")} role="status">
            {t("paidBody", { number: invoice.invoice_number })}
          </Alert>
          <Group justify="flex-end">
            <InvoicePdfButton invoice={invoice} />
            <Button onClick={onClose}>{t("done")}</Button>
          </Group>
        </Stack>
      )}
      {invoice && invoice.status !== "paid" && (
        <Stack>
          <Text size="sm">
            {t("proformaIssued", { number: invoice.proforma_number })}{" "}
            <Link to={`/invoices/${invoice.id}`}>{t("openInvoice")}</Link>
          </Text>
          {invoice.status === "partially_paid" && (
            <Alert color="yellow" role="status">
              {t("partlyPaid", {
                paid: money(invoice.paid, invoice.currency),
                due: money(invoice.amount_due, invoice.currency),
              })}
            </Alert>
          )}
          <PayPanel invoice={invoice} onPaid={paid} key={invoice.paid} />
        </Stack>
      )}
    </Modal>
  );
}
