import { useState } from "react";
import { Alert, Button, Group, Modal, Select, Stack, Text } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { IdempotentAction } from "../../../api/client";
import { date, money } from "../../../lib/format";
import type { Invoice } from "../../invoices/api";
import { billingError } from "../../invoices/errors";
import { servicesApi, type Subscription } from "../api";
import { ChangeResult, PayNowChoice } from "./ChangeResult";

/** Renew N months from the current end date, at the plan's period price. */
export function RenewModal({ sub, onClose }: { sub: Subscription; onClose: () => void }) {
  const { t } = useTranslation("services");
  const queryClient = useQueryClient();
  const [action] = useState(() => new IdempotentAction());
  const plans = useQuery({ queryKey: ["plans"], queryFn: servicesApi.plans, staleTime: 5 * 60_000 });
  const plan = plans.data?.items.find((p) => p.plan_id === sub.plan_id);
  const [months, setMonths] = useState<string | null>(null);
  const [payNow, setPayNow] = useState(true);
  const [invoice, setInvoice] = useState<Invoice | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = months ?? String(sub.auto_renew_months ?? plan?.periods[0]?.months ?? 1);
  const period = plan?.periods.find((p) => String(p.months) === chosen);

  function changed(fresh: Invoice) {
    setInvoice(fresh);
    void queryClient.invalidateQueries({ queryKey: ["subscriptions"] });
    void queryClient.invalidateQueries({ queryKey: ["invoices"] });
    void queryClient.invalidateQueries({ queryKey: ["purchases"] });
  }

  async function renew() {
    setBusy(true);
    setError(null);
    try {
      changed(await servicesApi.renew(action, sub.id, Number(chosen), payNow));
    } catch (err) {
      setError(billingError(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal opened onClose={onClose} closeButtonProps={{ "aria-label": t("close") }} title={t("renewTitle", { name: sub.plan_name })}>
      {invoice ? (
        <ChangeResult invoice={invoice} onPaid={changed} onClose={onClose} />
      ) : (
        <Stack>
          <Text size="sm">
            {t("contract")} {sub.contract_number} · {t("endsOn", { date: date(sub.ends_on) })}
          </Text>
          <Select
            label={t("period")}
            value={chosen}
            onChange={setMonths}
            allowDeselect={false}
            data={(plan?.periods ?? []).map((p) => ({
              value: String(p.months),
              label: `${t("months", { count: p.months })} · ${money(p.price, plan?.currency)}${p.discount_percent ? ` (-${p.discount_percent}%)` : ""}`,
            }))}
          />
          {period && (
            <Text>
              {t("toPay")}:{" "}
              <Text span fw={700} className="money">
                {money(period.price, plan?.currency)}
              </Text>
            </Text>
          )}
          <PayNowChoice value={payNow} onChange={setPayNow} />
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t("cancel")}
            </Button>
            <Button onClick={() => void renew()} loading={busy} disabled={!period}>
              {t("confirmRenew")}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
