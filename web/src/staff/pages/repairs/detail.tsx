import { useState } from "react";
import {
  ActionIcon,
  Alert,
  Anchor,
  Button,
  Card,
  Grid,
  Group,
  NumberInput,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Timeline,
  Title,
} from "@mantine/core";
import { IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../../auth/AuthProvider";
import { PageLoader } from "../../../layout/AppLayout";
import { dateTime, money } from "../../../lib/format";
import { errorMessage } from "../../../lib/errors";
import { repairsApi, type Custody, type Repair } from "./api";
import { StepBadge } from "./index";

function CustodyTimeline({ entries }: { entries: Custody[] }) {
  const { t } = useTranslation("staff");
  return (
    <Timeline active={entries.length - 1} bulletSize={14} lineWidth={2}>
      {entries.map((e, i) => (
        <Timeline.Item key={`${e.event}-${String(i)}`} title={t(`repairs.events.${e.event}`, { defaultValue: e.event })}>
          <Text size="xs" c="gray.7">
            {dateTime(e.at)} · {e.branch_id}
          </Text>
          {typeof e.amount === "number" && (
            <Text size="sm" className="money">
              {money(e.amount, typeof e.currency === "string" ? e.currency : "VND")}
            </Text>
          )}
          {typeof e.reason === "string" && e.reason && <Text size="sm">{e.reason}</Text>}
          {typeof e.method === "string" && <Text size="sm">{t(`repairs.methods.${e.method}`, { defaultValue: e.method })}</Text>}
        </Timeline.Item>
      ))}
    </Timeline>
  );
}

interface Line {
  description: string;
  amount: number | string;
}

function QuoteForm({ onSend, busy }: { onSend: (labour: number, parts: { description: string; amount: number }[]) => void; busy: boolean }) {
  const { t } = useTranslation("staff");
  const [labour, setLabour] = useState<number | string>("");
  const [parts, setParts] = useState<Line[]>([]);
  const amount = (v: number | string) => (typeof v === "number" ? v : Number(v) || 0);
  const total = amount(labour) + parts.reduce((sum, p) => sum + amount(p.amount), 0);
  return (
    <Stack
      gap="xs"
      component="form"
      onSubmit={(e) => {
        e.preventDefault();
        onSend(
          amount(labour),
          parts.filter((p) => p.description.trim()).map((p) => ({ description: p.description.trim(), amount: amount(p.amount) })),
        );
      }}
    >
      {parts.map((p, i) => (
        <Group key={i} gap="xs" align="flex-end" wrap="nowrap">
          <TextInput
            label={t("repairs.part", { n: i + 1 })}
            value={p.description}
            onChange={(e) => { const v = e.currentTarget.value; setParts((all) => all.map((x, j) => (j === i ? { ...x, description: v } : x))); }}
            style={{ flex: 1 }}
          />
          <NumberInput
            label={t("repairs.partAmount", { n: i + 1 })}
            value={p.amount}
            min={0}
            thousandSeparator="."
            decimalSeparator=","
            allowDecimal={false}
            onChange={(v) => { setParts((all) => all.map((x, j) => (j === i ? { ...x, amount: v } : x))); }}
            w={130}
          />
          <ActionIcon variant="subtle" color="red.9" mb={4} aria-label={t("repairs.removePart", { n: i + 1 })} onClick={() => { setParts((all) => all.filter((_, j) => j !== i)); }}>
            <IconTrash size={16} aria-hidden />
          </ActionIcon>
        </Group>
      ))}
      <Button variant="subtle" size="compact-sm" onClick={() => { setParts((all) => [...all, { description: "", amount: "" }]); }} style={{ alignSelf: "flex-start" }}>
        + {t("repairs.addPart")}
      </Button>
      <NumberInput
        label={t("repairs.labour")}
        required
        value={labour}
        min={0}
        thousandSeparator="."
        decimalSeparator=","
        allowDecimal={false}
        suffix=" ₫"
        onChange={setLabour}
      />
      <Group justify="space-between">
        <Text size="sm" fw={600}>
          {t("repairs.total", { total: money(total) })}
        </Text>
        <Button type="submit" loading={busy} disabled={labour === ""}>
          {t("repairs.sendQuote")}
        </Button>
      </Group>
    </Stack>
  );
}

/** The next step a repair can take at the counter, by where it is now. */
function NextStep({ repair }: { repair: Repair }) {
  const { t } = useTranslation("staff");
  const { profile } = useAuth();
  const queryClient = useQueryClient();
  const branches = useQuery({ queryKey: ["repairs", "branches"], queryFn: repairsApi.branches, staleTime: 300_000 });
  const [branch, setBranch] = useState<string | null>(repair.branch_id);
  const [method, setMethod] = useState<"counter" | "shipped">("counter");
  const [cancelReason, setCancelReason] = useState("");
  const step = useMutation({
    mutationFn: (action: () => Promise<Repair>) => action(),
    onSuccess: async (updated) => {
      queryClient.setQueryData(["staff", "repair", repair.id], updated);
      await queryClient.invalidateQueries({ queryKey: ["staff", "repairs"] });
    },
  });
  const id = repair.id;
  const run = (action: () => Promise<Repair>) => { step.mutate(action); };
  let body: React.ReactNode = <Text size="sm">{t("repairs.nothingToDo")}</Text>;
  switch (repair.status) {
    case "registered":
      body = (
        <Group align="flex-end" gap="xs">
          <Select
            label={t("repairs.branch")}
            data={(branches.data?.items ?? []).map((b) => ({ value: b.id, label: b.name }))}
            value={branch}
            onChange={setBranch}
            style={{ flex: 1 }}
          />
          <Button disabled={!branch} loading={step.isPending} onClick={() => { if (branch) run(() => repairsApi.receive(id, branch)); }}>
            {t("repairs.actions.receive")}
          </Button>
        </Group>
      );
      break;
    case "received":
      body = (
        <Button loading={step.isPending} disabled={!profile} onClick={() => { if (profile) run(() => repairsApi.diagnose(id, profile.user_id)); }}>
          {t("repairs.actions.diagnose")}
        </Button>
      );
      break;
    case "diagnosing":
      body = <QuoteForm busy={step.isPending} onSend={(labour, parts) => { run(() => repairsApi.quote(id, { labour, parts })); }} />;
      break;
    case "quoted":
      body = <Text size="sm">{t("repairs.waitingApproval")}</Text>;
      break;
    case "approved":
      body = (
        <Button loading={step.isPending} onClick={() => { run(() => repairsApi.start(id)); }}>
          {t("repairs.actions.start")}
        </Button>
      );
      break;
    case "repairing":
      body = (
        <Button loading={step.isPending} onClick={() => { run(() => repairsApi.ready(id)); }}>
          {t("repairs.actions.ready")}
        </Button>
      );
      break;
    case "ready":
    case "rejected":
      body = (
        <Group align="flex-end" gap="xs">
          <Select
            label={t("repairs.returnMethod")}
            data={(["counter", "shipped"] as const).map((m) => ({ value: m, label: t(`repairs.methods.${m}`) }))}
            value={method}
            allowDeselect={false}
            onChange={(v) => { setMethod(v === "shipped" ? "shipped" : "counter"); }}
            style={{ flex: 1 }}
          />
          <Button loading={step.isPending} onClick={() => { run(() => repairsApi.giveBack(id, { method, carrier: null, tracking_number: null })); }}>
            {t("repairs.actions.return")}
          </Button>
        </Group>
      );
      break;
    default:
      break;
  }
  const open = !["returned", "cancelled"].includes(repair.status);
  return (
    <Card withBorder>
      <Stack gap="sm">
        <Title order={3} size="h5">
          {t("repairs.nextStep")}
        </Title>
        {body}
        {open && repair.status !== "ready" && (
          <Group align="flex-end" gap="xs">
            <TextInput label={t("repairs.cancelReason")} value={cancelReason} onChange={(e) => { setCancelReason(e.currentTarget.value); }} style={{ flex: 1 }} />
            <Button variant="default" color="red.9" disabled={!cancelReason.trim()} onClick={() => { run(() => repairsApi.cancel(id, cancelReason.trim())); }}>
              {t("repairs.actions.cancel")}
            </Button>
          </Group>
        )}
        {step.isError && (
          <Alert color="red" role="alert">
            {errorMessage(t, step.error)}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

export default function RepairDetail() {
  const { t } = useTranslation("staff");
  const { repairId = "" } = useParams();
  const repair = useQuery({ queryKey: ["staff", "repair", repairId], queryFn: () => repairsApi.get(repairId) });
  if (repair.isPending) return <PageLoader />;
  if (repair.isError)
    return (
      <Alert color="red" role="alert">
        {errorMessage(t, repair.error)}
      </Alert>
    );
  const r = repair.data;
  const quote = r.quote as { amount?: number; currency?: string | null } | null;
  return (
    <Stack>
      <Anchor component={Link} to="/staff/repairs" size="sm">
        ← {t("repairs.title")}
      </Anchor>
      <Group justify="space-between" align="flex-start">
        <Title order={2}>
          {r.repair_number} · {r.model}
        </Title>
        <StepBadge status={r.status} />
      </Group>
      <Grid>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack>
            <Card withBorder>
              <Table variant="vertical" layout="fixed">
                <Table.Tbody>
                  <Table.Tr>
                    <Table.Th w={170}>{t("repairs.serial")}</Table.Th>
                    <Table.Td ff="monospace">{r.serial}</Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>{t("repairs.problem")}</Table.Th>
                    <Table.Td>{r.problem}</Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>{t("repairs.delivery")}</Table.Th>
                    <Table.Td>
                      {t(`repairs.methods.${r.delivery.method}`)} · {r.delivery.date} · {r.delivery.deliverer_name}
                    </Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>{t("repairs.branch")}</Table.Th>
                    <Table.Td>{r.branch_id}</Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>{t("repairs.quote")}</Table.Th>
                    <Table.Td className="money">{quote?.amount !== undefined ? money(quote.amount, quote.currency ?? "VND") : "—"}</Table.Td>
                  </Table.Tr>
                  <Table.Tr>
                    <Table.Th>{t("repairs.warranty")}</Table.Th>
                    <Table.Td>{r.warranty ? t("repairs.yes") : t("repairs.no")}</Table.Td>
                  </Table.Tr>
                </Table.Tbody>
              </Table>
            </Card>
            <NextStep repair={r} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Card withBorder>
            <Title order={3} size="h5" mb="sm">
              {t("repairs.custody")}
            </Title>
            <CustodyTimeline entries={r.custody} />
          </Card>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
