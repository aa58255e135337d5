import { useState } from "react";
import { Alert, Badge, Card, Grid, Group, Stack, Text, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useLocation, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { BackLink } from "../../components/BackLink";
import { PageLoader } from "../../layout/AppLayout";
import { areaError } from "../../lib/areaError";
import { date, money } from "../../lib/format";
import { repairsApi, type Repair } from "./api";
import { RepairStatusBadge, useBranches } from "./components/common";
import { CustodyTimeline } from "./components/CustodyTimeline";
import { QuoteBox } from "./components/QuoteBox";
import { RepairLabel } from "./components/RepairLabel";

/** How often an open repair looks for the next step (staff move it on at the branch). */
const POLL_MS = 10_000;
const FINAL = new Set<Repair["status"]>(["returned", "cancelled"]);

/** One repair: the device, the quote to approve or reject, the custody timeline, the QR label. */
export default function RepairDetail() {
  const { t } = useTranslation("repairs");
  const { repairId = "" } = useParams();
  const location = useLocation();
  const queryClient = useQueryClient();
  const branches = useBranches();
  const [notice, setNotice] = useState<string | null>(() => {
    const registered = (location.state as { registered?: string } | null)?.registered;
    return registered ? t("registered", { number: registered }) : null;
  });
  const repair = useQuery({
    queryKey: ["repair", repairId],
    queryFn: () => repairsApi.get(repairId),
    refetchInterval: (query) => (query.state.data && FINAL.has(query.state.data.status) ? false : POLL_MS),
  });

  if (repair.isPending) return <PageLoader />;
  if (repair.isError)
    return (
      <Alert color="red" role="alert">
        {areaError(t, "repairs", repair.error)}
      </Alert>
    );
  const rp = repair.data;

  function fresh(next: Repair, message: string) {
    queryClient.setQueryData(["repair", repairId], next);
    void queryClient.invalidateQueries({ queryKey: ["repairs"] });
    setNotice(message);
  }

  const facts: [string, string][] = [
    [t("model"), rp.model],
    [t("serial"), rp.serial],
    [t("problemShort"), rp.problem],
    [t("adapterShort"), rp.adapter_included ? t("yes") : t("no")],
    [t("branchHead"), branches.name(rp.branch_id)],
    [
      t("deliveryShort"),
      `${t(`deliveryMethods.${rp.delivery.method}`)} · ${date(rp.delivery.date)} · ${rp.delivery.deliverer_name}`,
    ],
    [t("returnShort"), [t(`returnMethods.${rp.return.method}`), rp.return.address].filter(Boolean).join(" · ")],
  ];
  if (rp.approved_amount != null) facts.push([t("quoteHead"), money(rp.approved_amount, rp.quote?.currency ?? "VND")]);

  return (
    <Stack>
      <BackLink to="/repairs">{t("backToList")}</BackLink>
      <Group justify="space-between" align="flex-start">
        <div style={{ minWidth: 0 }}>
          <Title order={2} style={{ overflowWrap: "anywhere" }}>
            {rp.repair_number} · {rp.model}
          </Title>
          <Text c="gray.7" size="sm">
            S/N {rp.serial}
          </Text>
        </div>
        <Group gap="xs">
          {rp.warranty && (
            <Badge variant="outline" c="dark.7" title={t("warrantyOf")}>
              {t("warranty")}
            </Badge>
          )}
          <RepairStatusBadge status={rp.status} />
        </Group>
      </Group>
      {notice && (
        <Alert color="green" role="status" withCloseButton closeButtonLabel={t("close")} onClose={() => { setNotice(null); }}>
          {notice}
        </Alert>
      )}
      {rp.status === "quoted" && <QuoteBox repair={rp} onDone={fresh} />}
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Card>
            <Title order={3} size="h5" mb="md">
              {t("custody")}
            </Title>
            <CustodyTimeline custody={rp.custody} />
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <Card>
              <Title order={3} size="h5" mb="xs">
                {t("details")}
              </Title>
              <Stack gap={6} component="dl" m={0}>
                {facts.map(([label, value]) => (
                  <div key={label}>
                    <Text component="dt" size="xs" c="gray.7">
                      {label}
                    </Text>
                    <Text component="dd" size="sm" m={0} style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
                      {value}
                    </Text>
                  </div>
                ))}
              </Stack>
            </Card>
            <RepairLabel repair={rp} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
