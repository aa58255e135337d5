import { useState, type SyntheticEvent } from "react";
import { Alert, Badge, Button, Card, Group, Progress, SimpleGrid, Stack, Table, Text, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { IdempotentAction } from "../../../api/client";
import { BackLink } from "../../../components/BackLink";
import { ScrollTable } from "../../../components/ScrollTable";
import { PageLoader } from "../../../layout/AppLayout";
import { areaError } from "../../../lib/areaError";
import { date, dateTime, money } from "../../../lib/format";
import { crmApi, type Contact, type Loyalty } from "./api";
import { GroupBadge, LevelBadge, useLabelNames } from "./common";
import { CareTypeFields, careChoice, careTypeName } from "./careFields";

/** A contact or customer: general information, level and why, care history, and a care action to record. */
export default function CrmContact() {
  const { t } = useTranslation("crm");
  const { contactId = "" } = useParams();
  const contact = useQuery({ queryKey: ["staff", "crm", "contact", contactId], queryFn: () => crmApi.get(contactId) });
  if (contact.isPending) return <PageLoader />;
  if (contact.isError)
    return (
      <Stack>
        <BackLink to="/staff/crm">{t("backToList")}</BackLink>
        <Alert color="red" role="alert">
          {areaError(t, "crm", contact.error)}
        </Alert>
      </Stack>
    );
  const c = contact.data;
  return (
    <Stack>
      <BackLink to="/staff/crm">{t("backToList")}</BackLink>
      <Group justify="space-between" align="flex-start">
        <Stack gap={2}>
          <Title order={2}>{c.general.name}</Title>
          <Text size="sm" c="gray.7">
            {t(`kinds.${c.kind}`)} · {t(`partyTypes.${c.general.party_type}`)}
          </Text>
        </Stack>
        <Group gap="xs">
          <GroupBadge group={c.general.group} />
          {c.kind === "customer" && <LevelBadge level={c.loyalty.level} />}
        </Group>
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <General contact={c} />
        {c.kind === "customer" ? <Level contactId={c.id} version={c.care_history.length} /> : <RecordCare contact={c} />}
      </SimpleGrid>
      {c.kind === "customer" && <RecordCare contact={c} />}
      <CareHistory contact={c} />
    </Stack>
  );
}

function General({ contact }: { contact: Contact }) {
  const { t } = useTranslation("crm");
  const labels = useLabelNames();
  const g = contact.general;
  const rows: [string, string][] = [
    [t("phone"), g.phone],
    [t("email"), g.email],
    [t("taxCode"), g.tax_code],
    [t("unit"), g.unit],
    [t("industry"), g.industry],
    [t("source"), g.source],
    [t("address"), g.address],
    [t("website"), g.website],
    [t("foundingDate"), g.founding_date ? date(g.founding_date) : ""],
    [t("created"), contact.created_at ? dateTime(contact.created_at) : ""],
  ];
  return (
    <Card>
      <Title order={3} size="h5" mb="sm">
        {t("general")}
      </Title>
      <Stack gap={6} data-testid="crm-general">
        {rows.map(([name, value]) => (
          <Group key={name} gap="xs" wrap="nowrap" align="baseline">
            <Text size="sm" c="gray.7" w={130} style={{ flexShrink: 0 }}>
              {name}
            </Text>
            <Text size="sm" style={{ wordBreak: "break-word" }}>
              {value || "—"}
            </Text>
          </Group>
        ))}
        <Group gap="xs" wrap="nowrap" align="baseline">
          <Text size="sm" c="gray.7" w={130} style={{ flexShrink: 0 }}>
            {t("label")}
          </Text>
          <Group gap={4}>
            {contact.labels.length === 0
              ? "—"
              : contact.labels.map((id) => (
                  <Badge key={id} size="sm" variant="light" color="grape">
                    {labels.name(id)}
                  </Badge>
                ))}
          </Group>
        </Group>
        {g.description && (
          <Text size="sm" mt="xs" style={{ whiteSpace: "pre-wrap" }}>
            {g.description}
          </Text>
        )}
      </Stack>
    </Card>
  );
}

const SOURCES = ["care_action", "invoice_paid", "invoice_refunded"];

/** The customer's level, the way to the next one, and why they are at it (the accumulated money behind it). */
function Level({ contactId, version }: { contactId: string; version: number }) {
  const { t } = useTranslation("crm");
  const level = useQuery({ queryKey: ["staff", "crm", "level", contactId, version], queryFn: () => crmApi.level(contactId) });
  return (
    <Card data-testid="crm-level">
      <Title order={3} size="h5" mb="sm">
        {t("levelTitle")}
      </Title>
      {level.isPending ? (
        <PageLoader />
      ) : level.isError ? (
        <Alert color="red" role="alert">
          {areaError(t, "crm", level.error)}
        </Alert>
      ) : (
        <Why data={level.data} />
      )}
    </Card>
  );
}

function Why({ data }: { data: Loyalty }) {
  const { t } = useTranslation("crm");
  const levelName = (name: string) => t(`levels.${name}`, { defaultValue: name });
  const because = (data.because ?? []).slice(0, 5);
  return (
    <Stack gap="sm">
      <SimpleGrid cols={2}>
        <div>
          <Text size="xs" c="gray.7">
            {t("points")}
          </Text>
          <Text fw={700} data-testid="crm-points">
            {data.points.toLocaleString("vi-VN")}
          </Text>
        </div>
        <div>
          <Text size="xs" c="gray.7">
            {t("accumulated")}
          </Text>
          <Text fw={700} className="money" data-testid="crm-accumulated">
            {money(data.accumulated)}
          </Text>
        </div>
      </SimpleGrid>
      <Text size="sm" data-testid="crm-why">
        {t("because", { level: levelName(data.level), amount: money(data.accumulated) })}{" "}
        {data.next_level ? t("toNext", { amount: money(data.to_next_level), level: levelName(data.next_level) }) : t("top")}
      </Text>
      {data.next_level && (
        <Progress value={data.progress_percent} size="lg" aria-label={t("progress", { level: levelName(data.next_level) })} />
      )}
      {(data.thresholds ?? []).length > 0 && (
        <Text size="xs" c="gray.7">
          {t("thresholds")}: {(data.thresholds ?? []).map((l) => `${levelName(l.name)} ≥ ${money(l.min_accumulated)}`).join(" · ")}
        </Text>
      )}
      <Title order={4} size="h6">
        {t("whyTitle")}
      </Title>
      {because.length === 0 ? (
        <Text size="sm" c="gray.7">
          {t("nothingAccumulated")}
        </Text>
      ) : (
        <Stack gap={4} component="ul" p={0} m={0} style={{ listStyle: "none" }} data-testid="crm-because">
          {because.map((b) => (
            <Group key={`${b.at}-${b.reference}`} component="li" justify="space-between" wrap="nowrap" gap="xs">
              <Text size="sm">
                {dateTime(b.at)} · {SOURCES.includes(b.source) ? t(`sources.${b.source}`) : b.source}
              </Text>
              <Text size="sm" fw={600} className="money" c={b.delta < 0 ? "red.9" : undefined} style={{ whiteSpace: "nowrap" }}>
                {b.delta > 0 ? "+" : ""}
                {money(b.delta)}
              </Text>
            </Group>
          ))}
        </Stack>
      )}
    </Stack>
  );
}

/** Record a care action (the eight types of the retail CRM: points, accumulated money, call, message, email...). */
function RecordCare({ contact }: { contact: Contact }) {
  const { t } = useTranslation("crm");
  const client = useQueryClient();
  const types = useQuery({ queryKey: ["crm", "care-types"], queryFn: crmApi.careTypes, staleTime: 300_000 });
  const [action] = useState(() => new IdempotentAction());
  const [typeId, setTypeId] = useState<string | null>(null);
  const [value, setValue] = useState<number | string>("");
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState<{ type?: string; value?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  // Points and money are a customer's; a contact gets the other kinds until converted.
  const choice = careChoice(types.data?.items ?? [], contact.kind, typeId);
  const { chosen, valued } = choice;

  async function submit(e: SyntheticEvent) {
    e.preventDefault();
    const next: typeof errors = {};
    if (!chosen) next.type = t("errors.typeRequired");
    if (valued && (typeof value !== "number" || value <= 0)) next.value = t("errors.valueRequired");
    setErrors(next);
    if (!chosen || next.value) return;
    const body = { care_type_id: chosen.id, value: valued ? Number(value) : 0, note: note.trim() };
    setBusy(true);
    try {
      const updated = await action.run(body, (key) => crmApi.careAction(contact.id, body, key));
      client.setQueryData(["staff", "crm", "contact", contact.id], updated);
      void client.invalidateQueries({ queryKey: ["staff", "crm", "level", contact.id] });
      void client.invalidateQueries({ queryKey: ["staff", "crm"], exact: false, refetchType: "none" });
      notifications.show({ color: "teal", withCloseButton: false, message: t("recorded", { type: careTypeName(t, chosen) }) });
      setValue("");
      setNote("");
    } catch (err) {
      const message = areaError(t, "crm", err);
      setErrors(valued ? { value: message } : { form: message });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card>
      <Title order={3} size="h5" mb="sm">
        {t("recordTitle")}
      </Title>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <CareTypeFields
              choice={choice}
              typeId={typeId}
              onType={(v) => {
                setTypeId(v);
                setErrors({});
              }}
              value={value}
              onValue={setValue}
              errors={errors}
            />
          </SimpleGrid>
          <Textarea label={t("note")} maxLength={2000} autosize minRows={2} value={note} onChange={(e) => { setNote(e.currentTarget.value); }} />
          {errors.form && (
            <Alert color="red" role="alert">
              {errors.form}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button type="submit" loading={busy}>
              {t("record")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function CareHistory({ contact }: { contact: Contact }) {
  const { t } = useTranslation("crm");
  const rows = contact.care_history;
  return (
    <Card>
      <Title order={3} size="h5" mb="sm">
        {t("historyTitle")}
      </Title>
      {rows.length === 0 ? (
        <Text size="sm" c="gray.7">
          {t("noHistory")}
        </Text>
      ) : (
        <ScrollTable label={t("historyTitle")} minWidth={640}>
          <Table striped data-testid="crm-history">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("at")}</Table.Th>
                <Table.Th>{t("careType")}</Table.Th>
                <Table.Th ta="right">{t("value")}</Table.Th>
                <Table.Th>{t("note")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((row) => (
                <Table.Tr key={row.id}>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{dateTime(row.at)}</Table.Td>
                  <Table.Td>{careTypeName(t, { id: row.care_type_id, name: row.care_type_name })}</Table.Td>
                  <Table.Td ta="right" className="money" style={{ whiteSpace: "nowrap" }}>
                    {row.action === "give_money" || row.action === "deduct_money"
                      ? `${row.action === "deduct_money" ? "−" : "+"}${money(row.value)}`
                      : row.action === "give_points" || row.action === "deduct_points"
                        ? `${row.action === "deduct_points" ? "−" : "+"}${row.value.toLocaleString("vi-VN")} ${t("pointsUnit")}`
                        : "—"}
                  </Table.Td>
                  <Table.Td>{row.note || "—"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
    </Card>
  );
}
