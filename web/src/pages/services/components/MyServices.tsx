import { useState } from "react";
import { Alert, Badge, Button, Card, Group, Menu, SimpleGrid, Stack, Switch, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconChevronDown } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../../../layout/AppLayout";
import { date, money } from "../../../lib/format";
import { openPrintable, saveFile } from "../../invoices/download";
import { billingError } from "../../invoices/errors";
import { servicesApi, type DocumentName, type Subscription } from "../api";
import { TIER_COLOURS } from "./Catalogue";
import { RenewModal } from "./RenewModal";
import { UpgradeModal } from "./UpgradeModal";

/** The 15-day expiry notice of the store-profile seed (002). */
export const EXPIRY_NOTICE_DAYS = 15;

function Documents({ sub }: { sub: Subscription }) {
  const { t } = useTranslation("services");
  async function run(document: DocumentName) {
    try {
      const call = servicesApi.document(sub.id, document);
      if (document.endsWith(".html")) await openPrintable(call);
      else await saveFile(call, `${sub.contract_number}-${document}`);
    } catch (err) {
      notifications.show({ color: "red", message: billingError(t, err) });
    }
  }
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="default" size="compact-sm" rightSection={<IconChevronDown size={14} />}>
          {t("documents")}
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>{t("terms")}</Menu.Label>
        <Menu.Item onClick={() => void run("terms.pdf")}>{t("downloadPdf")}</Menu.Item>
        <Menu.Item onClick={() => void run("terms.html")}>{t("printable")}</Menu.Item>
        <Menu.Label>{t("confirmation")}</Menu.Label>
        <Menu.Item onClick={() => void run("confirmation.pdf")}>{t("downloadPdf")}</Menu.Item>
        <Menu.Item onClick={() => void run("confirmation.html")}>{t("printable")}</Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

function SubscriptionCard({ sub, onRenew, onUpgrade }: { sub: Subscription; onRenew: () => void; onUpgrade: () => void }) {
  const { t } = useTranslation("services");
  const queryClient = useQueryClient();
  const autoRenew = useMutation({
    mutationFn: (enabled: boolean) => servicesApi.autoRenew(sub.id, enabled),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["subscriptions"] }),
    onError: (err) => notifications.show({ color: "red", message: billingError(t, err) }),
  });
  const active = sub.status === "active";
  const trial = active && sub.on_trial === true;
  // A trial's end is its own notice (below); the expiry notice is for paid terms.
  const expiring = active && !trial && sub.days_left != null && sub.days_left <= EXPIRY_NOTICE_DAYS;
  return (
    <Card data-testid={`subscription-${sub.contract_number}`}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <div>
            <Title order={3} size="h5">
              {sub.plan_name}
            </Title>
            <Text size="sm" c="gray.7">
              {t("contract")} {sub.contract_number}
            </Text>
          </div>
          <Group gap={4} wrap="nowrap" style={{ flex: "none" }}>
            {trial && (
              <Badge color="teal" variant="light" c="dark.7">
                {t("onTrial")}
              </Badge>
            )}
            <Badge color={TIER_COLOURS[sub.tier]} variant="light" c="dark.7">
              {t(`tier.${sub.tier}`)}
            </Badge>
          </Group>
        </Group>
        <Text size="sm">
          {date(sub.starts_on)} – {date(sub.ends_on)} ·{" "}
          {active ? t("daysLeft", { count: sub.days_left ?? 0 }) : t(`subStatus.${sub.status}`, { defaultValue: sub.status })}
        </Text>
        {trial && (
          <Alert color="teal" p="xs" role="status" data-testid="trial-notice">
            <Group justify="space-between" gap="xs">
              <Text size="sm">{t("trialUntil", { date: date(sub.ends_on) })}</Text>
              <Button size="compact-sm" onClick={onRenew}>
                {t("buyAfterTrial")}
              </Button>
            </Group>
          </Alert>
        )}
        <Text size="sm">
          {t("amountPaid")}: <span className="money">{money(sub.amount, sub.currency)}</span>
        </Text>
        {expiring && (
          <Alert color="orange" p="xs" role="status">
            <Group justify="space-between" gap="xs">
              <Text size="sm">{t("expiryNotice", { count: sub.days_left ?? 0 })}</Text>
              <Button size="compact-sm" onClick={onRenew}>
                {t("renewNow")}
              </Button>
            </Group>
          </Alert>
        )}
        <Switch
          label={t("autoRenew")}
          checked={sub.auto_renew}
          disabled={!active || autoRenew.isPending}
          onChange={(e) => { autoRenew.mutate(e.currentTarget.checked); }}
        />
        <Group gap="xs">
          <Button size="compact-sm" onClick={onRenew} disabled={!active && sub.status !== "expired"}>
            {t("renew")}
          </Button>
          {sub.tier !== "premium" && active && !trial && (
            <Button size="compact-sm" variant="light" onClick={onUpgrade}>
              {t("upgrade")}
            </Button>
          )}
          <Documents sub={sub} />
        </Group>
      </Stack>
    </Card>
  );
}

/** The account's subscriptions and contracts: renew, upgrade, auto-renew, documents. */
export function MyServices() {
  const { t } = useTranslation("services");
  const subs = useQuery({ queryKey: ["subscriptions"], queryFn: servicesApi.subscriptions });
  const [renewing, setRenewing] = useState<Subscription | null>(null);
  const [upgrading, setUpgrading] = useState<Subscription | null>(null);
  if (subs.isPending) return <PageLoader />;
  if (subs.isError)
    return (
      <Alert color="red" role="alert">
        {billingError(t, subs.error)}
      </Alert>
    );
  if (subs.data.items.length === 0) return <Text c="gray.7">{t("noServices")}</Text>;
  return (
    <>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {subs.data.items.map((sub) => (
          <SubscriptionCard key={sub.id} sub={sub} onRenew={() => { setRenewing(sub); }} onUpgrade={() => { setUpgrading(sub); }} />
        ))}
      </SimpleGrid>
      {renewing && <RenewModal sub={renewing} onClose={() => { setRenewing(null); }} />}
      {upgrading && <UpgradeModal sub={upgrading} onClose={() => { setUpgrading(null); }} />}
    </>
  );
}
