import { useState } from "react";
import { Alert, Button, Group, Modal, Select, Stack, Table } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ApiError, IdempotentAction } from "../../../api/client";
import { date, money } from "../../../lib/format";
import type { Invoice } from "../../invoices/api";
import { billingError } from "../../invoices/errors";
import { TIERS, servicesApi, type Subscription } from "../api";
import { ChangeResult, PayNowChoice } from "./ChangeResult";

/**
 * Upgrade to a higher tier of the same category: the preview (unused value credited, the
 * charge for the remaining days) is shown, and the charge confirmed is the one sent, so a
 * price that moved since stops the upgrade instead of charging something else.
 */
export function UpgradeModal({ sub, onClose }: { sub: Subscription; onClose: () => void }) {
  const { t } = useTranslation("services");
  const queryClient = useQueryClient();
  const [action] = useState(() => new IdempotentAction());
  const plans = useQuery({ queryKey: ["plans"], queryFn: servicesApi.plans, staleTime: 5 * 60_000 });
  const higher = (plans.data?.items ?? []).filter(
    (p) => p.category === sub.category && p.status === "active" && TIERS.indexOf(p.tier) > TIERS.indexOf(sub.tier),
  );
  const [target, setTarget] = useState<string | null>(null);
  const planId = target ?? higher[0]?.plan_id ?? null;
  const preview = useQuery({
    queryKey: ["upgrade-preview", sub.id, planId],
    queryFn: () => servicesApi.upgradePreview(sub.id, planId ?? ""),
    enabled: planId !== null,
    staleTime: 0,
  });
  const [payNow, setPayNow] = useState(true);
  const [invoice, setInvoice] = useState<Invoice | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function changed(fresh: Invoice) {
    setInvoice(fresh);
    void queryClient.invalidateQueries({ queryKey: ["subscriptions"] });
    void queryClient.invalidateQueries({ queryKey: ["invoices"] });
  }

  async function upgrade() {
    if (!preview.data || !planId) return;
    setBusy(true);
    setError(null);
    try {
      changed(await servicesApi.upgrade(action, sub.id, planId, preview.data.charge, payNow));
    } catch (err) {
      setError(billingError(t, err));
      if (err instanceof ApiError && err.code === "quote_changed") void preview.refetch();
    } finally {
      setBusy(false);
    }
  }

  const q = preview.data;
  return (
    <Modal opened onClose={onClose} closeButtonProps={{ "aria-label": t("close") }} title={t("upgradeTitle", { name: sub.plan_name })}>
      {invoice ? (
        <ChangeResult invoice={invoice} onPaid={changed} onClose={onClose} />
      ) : (
        <Stack>
          <Select
            label={t("upgradeTo")}
            value={planId}
            onChange={setTarget}
            allowDeselect={false}
            data={higher.map((p) => ({ value: p.plan_id, label: `${p.name} (${t(`tier.${p.tier}`)})` }))}
          />
          {preview.isError && (
            <Alert color="red" role="alert">
              {billingError(t, preview.error)}
            </Alert>
          )}
          {q && (
            <Table withRowBorders={false} data-testid="upgrade-preview">
              <Table.Tbody>
                <Table.Tr>
                  <Table.Th>{t("remainingDays")}</Table.Th>
                  <Table.Td>
                    {q.remaining_days} / {q.period_days} · {t("endsOn", { date: date(q.ends_on) })}
                  </Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Th>{t("credit")}</Table.Th>
                  <Table.Td className="money">-{money(q.credit, q.currency)}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Th>{t("charge")}</Table.Th>
                  <Table.Td className="money" fw={700}>
                    {money(q.charge, q.currency)}
                  </Table.Td>
                </Table.Tr>
              </Table.Tbody>
            </Table>
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
            <Button onClick={() => void upgrade()} loading={busy} disabled={!q}>
              {q ? t("confirmUpgrade", { amount: money(q.charge, q.currency) }) : t("upgrade")}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
