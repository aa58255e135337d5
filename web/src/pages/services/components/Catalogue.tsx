import { useMemo, useState } from "react";
import { notifications } from "@mantine/notifications";
import { useSearchParams } from "react-router-dom";
import { IdempotentAction } from "../../../api/client";
import { Alert, Badge, Button, Card, Group, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../../../layout/AppLayout";
import { money } from "../../../lib/format";
import { billingError } from "../../invoices/errors";
import { SECTORS, TIERS, servicesApi, type Plan, type Sector } from "../api";
import { BuyModal } from "./BuyModal";

/** The hosting portal's order (seed 000); a category the API adds later comes after these. */
const CATEGORY_ORDER = ["hosting", "software", "domain"];
const rank = (c: string) => (CATEGORY_ORDER.includes(c) ? CATEGORY_ORDER.indexOf(c) : CATEGORY_ORDER.length);

export const TIER_COLOURS = { support: "gray", professional: "blue", premium: "grape" } as const;

/** "Dùng thử": the plan free for its trial days, nothing to pay; then "Dịch vụ của tôi". */
function TrialButton({ plan }: { plan: Plan }) {
  const { t } = useTranslation("services");
  const queryClient = useQueryClient();
  const [, setParams] = useSearchParams();
  const [action] = useState(() => new IdempotentAction());
  const trial = useMutation({
    mutationFn: () => servicesApi.trial(action, plan.plan_id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["subscriptions"] });
      notifications.show({ color: "green", message: t("trialStarted", { name: plan.name }) });
      setParams({ tab: "mine" }, { replace: true });
    },
    onError: (err) => notifications.show({ color: "red", message: billingError(t, err) }),
  });
  return (
    <Button variant="light" onClick={() => { trial.mutate(); }} loading={trial.isPending} aria-label={t("tryPlan", { name: plan.name })}>
      {t("tryDays", { count: plan.trial_days ?? 0 })}
    </Button>
  );
}

function PlanCard({ plan, onBuy }: { plan: Plan; onBuy: () => void }) {
  const { t } = useTranslation("services");
  return (
    <Card data-testid={`plan-${plan.plan_id}`}>
      <Stack gap="xs" h="100%">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Title order={3} size="h4">
            {plan.name}
          </Title>
          <Badge color={TIER_COLOURS[plan.tier]} variant="light" c="dark.7" style={{ flex: "none" }}>
            {t(`tier.${plan.tier}`)}
          </Badge>
        </Group>
        <Text>
          <Text span fw={700} size="xl" className="money">
            {money(plan.monthly_price, plan.currency)}
          </Text>{" "}
          <Text span c="gray.7">
            {t("perMonth")}
          </Text>
        </Text>
        {plan.description && <Text size="sm">{plan.description}</Text>}
        <Table withRowBorders={false} verticalSpacing={2} fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("period")}</Table.Th>
              <Table.Th>{t("discountHead")}</Table.Th>
              <Table.Th ta="right">{t("price")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {plan.periods.map((p) => (
              <Table.Tr key={p.months}>
                <Table.Td>{t("months", { count: p.months })}</Table.Td>
                <Table.Td>{p.discount_percent ? `-${p.discount_percent}%` : "—"}</Table.Td>
                <Table.Td ta="right" className="money">
                  {money(p.price, plan.currency)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Stack gap="xs" mt="auto">
          {(plan.trial_days ?? 0) > 0 && <TrialButton plan={plan} />}
          <Button onClick={onBuy} aria-label={t("buyPlan", { name: plan.name })}>
            {t("buy")}
          </Button>
        </Stack>
      </Stack>
    </Card>
  );
}

/** The account's business sector (seed 002 "ngành hàng") and the plans suggested for it. */
function Suggested({ plans, onBuy }: { plans: Plan[]; onBuy: (plan: Plan) => void }) {
  const { t } = useTranslation("services");
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: ["billing-settings"], queryFn: servicesApi.settings });
  const change = useMutation({
    mutationFn: (sector: Sector) => servicesApi.setSector(sector),
    onSuccess: (fresh) => { queryClient.setQueryData(["billing-settings"], fresh); },
    onError: (err) => notifications.show({ color: "red", message: billingError(t, err) }),
  });
  const sector = settings.data?.sector ?? null;
  const suggested = sector
    ? plans.filter((p) => p.status === "active" && (p.sectors ?? []).includes(sector)).sort((a, b) => rank(a.category) - rank(b.category) || TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier))
    : [];
  return (
    <Stack gap="sm">
      <Select
        label={t("sectorLabel")}
        placeholder={t("sectorPlaceholder")}
        data={SECTORS.map((s) => ({ value: s, label: t(`sector.${s}`) }))}
        value={sector}
        onChange={(v) => { if (v) change.mutate(v); }}
        disabled={settings.isPending || change.isPending}
        allowDeselect={false}
        maw={320}
      />
      {sector && suggested.length > 0 && (
        <section aria-labelledby="suggested-heading" data-testid="suggested">
          <Title order={3} size="h4" id="suggested-heading" mb="xs">
            {t("suggestedTitle")}
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
            {suggested.map((plan) => (
              <PlanCard key={plan.plan_id} plan={plan} onBuy={() => { onBuy(plan); }} />
            ))}
          </SimpleGrid>
        </section>
      )}
    </Stack>
  );
}

/** Plans by category, each category's tiers in order: Support < Professional < Premium;
 * the plans suggested for the account's sector first. */
export function Catalogue() {
  const { t } = useTranslation("services");
  const plans = useQuery({ queryKey: ["plans"], queryFn: servicesApi.plans, staleTime: 5 * 60_000 });
  const categories = useMemo(
    () => [...new Set((plans.data?.items ?? []).map((p) => p.category))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)),
    [plans.data],
  );
  const [chosen, setChosen] = useState<string | null>(null);
  const [buying, setBuying] = useState<Plan | null>(null);
  const category = chosen ?? categories[0] ?? "";
  // Three Vietnamese category names do not fit side by side on a phone.
  const phone = useMediaQuery("(max-width: 36em)");

  if (plans.isPending) return <PageLoader />;
  if (plans.isError)
    return (
      <Alert color="red" role="alert">
        {billingError(t, plans.error)}
      </Alert>
    );
  const shown = plans.data.items
    .filter((p) => p.category === category && p.status === "active")
    .sort((a, b) => TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier));

  return (
    <Stack>
      <Suggested plans={plans.data.items} onBuy={setBuying} />
      <Title order={3} size="h4">
        {t("allPlans")}
      </Title>
      <SegmentedControl
        value={category}
        onChange={setChosen}
        data={categories.map((c) => ({ value: c, label: t(`category.${c}`, { defaultValue: c }) }))}
        aria-label={t("categoryLabel")}
        orientation={phone ? "vertical" : "horizontal"}
        fullWidth={phone}
        style={phone ? undefined : { alignSelf: "flex-start" }}
      />
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {shown.map((plan) => (
          <PlanCard key={plan.plan_id} plan={plan} onBuy={() => { setBuying(plan); }} />
        ))}
      </SimpleGrid>
      {buying && <BuyModal plan={buying} onClose={() => { setBuying(null); }} />}
    </Stack>
  );
}
