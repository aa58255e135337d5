import { useState } from "react";
import { Alert, Anchor, Badge, Group, Pagination, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ScrollTable } from "../../../components/ScrollTable";
import { PageLoader } from "../../../layout/AppLayout";
import { dateTime, money } from "../../../lib/format";
import { errorMessage } from "../../../lib/errors";
import { STEPS, repairsApi, type RepairQuery } from "./api";

const PAGE = 20;

export function StepBadge({ status }: { status: string }) {
  const { t } = useTranslation("staff");
  const done = status === "returned" || status === "cancelled";
  return (
    <Badge color={done ? "gray.7" : status === "quoted" ? "orange.9" : "blue.8"} variant="light">
      {t(`repairStatus.${status}`, { defaultValue: status })}
    </Badge>
  );
}

/** The repair workbench: repairs by step and branch, searched by number or serial. */
export default function RepairWorkbench() {
  const { t } = useTranslation("staff");
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState("");
  const [search] = useDebouncedValue(text.trim(), 400);
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  function set(name: string, value: string | null) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "page") next.delete("page");
    setParams(next, { replace: true });
  }
  const query: RepairQuery = {
    limit: PAGE,
    offset: (page - 1) * PAGE,
    status: params.get("status") ?? undefined,
    branch_id: params.get("branch") ?? undefined,
    q: search || undefined,
  };
  const repairs = useQuery({
    queryKey: ["staff", "repairs", query],
    queryFn: () => repairsApi.list(query),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
  const branches = useQuery({ queryKey: ["repairs", "branches"], queryFn: repairsApi.branches, staleTime: 300_000 });
  const branchName = (id: string) => branches.data?.items.find((b) => b.id === id)?.name ?? id;
  return (
    <Stack>
      <Title order={2}>{t("repairs.title")}</Title>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <TextInput
          label={t("repairs.search")}
          value={text}
          onChange={(e) => {
            setText(e.currentTarget.value);
            if (params.has("page")) set("page", null);
          }}
          w={{ base: "100%", sm: 240 }}
        />
        <Select
          label={t("repairs.step")}
          placeholder={t("tickets.any")}
          clearable
          data={STEPS.map((s) => ({ value: s, label: t(`repairStatus.${s}`) }))}
          value={params.get("status")}
          onChange={(v) => { set("status", v); }}
          w={{ base: "100%", sm: 190 }}
        />
        <Select
          label={t("repairs.branch")}
          placeholder={t("tickets.any")}
          clearable
          data={(branches.data?.items ?? []).map((b) => ({ value: b.id, label: b.name }))}
          value={params.get("branch")}
          onChange={(v) => { set("branch", v); }}
          w={{ base: "100%", sm: 190 }}
        />
      </Group>
      {repairs.isPending ? (
        <PageLoader />
      ) : repairs.isError ? (
        <Alert color="red" role="alert">
          {errorMessage(t, repairs.error)}
        </Alert>
      ) : repairs.data.items.length === 0 ? (
        <Text c="gray.7">{t("repairs.none")}</Text>
      ) : (
        <ScrollTable label={t("repairs.title")} minWidth={820}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("repairs.number")}</Table.Th>
                <Table.Th>{t("repairs.device")}</Table.Th>
                <Table.Th>{t("repairs.step")}</Table.Th>
                <Table.Th>{t("repairs.branch")}</Table.Th>
                <Table.Th ta="right">{t("repairs.quote")}</Table.Th>
                <Table.Th>{t("repairs.updated")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {repairs.data.items.map((r) => (
                <Table.Tr key={r.id} data-testid={`repair-row-${r.repair_number}`}>
                  <Table.Td>
                    <Anchor component={Link} to={`/staff/repairs/${r.id}`} ff="monospace">
                      {r.repair_number}
                    </Anchor>
                    {r.warranty && (
                      <Badge size="xs" ml={6} color="teal.9" variant="light">
                        {t("repairs.warranty")}
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{r.model}</Text>
                    <Text size="xs" c="gray.7" ff="monospace">
                      {r.serial}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <StepBadge status={r.status} />
                  </Table.Td>
                  <Table.Td>{branchName(r.branch_id)}</Table.Td>
                  <Table.Td ta="right" className="money">
                    {typeof r.quote_amount === "number" ? money(r.quote_amount, typeof r.currency === "string" ? r.currency : "VND") : "—"}
                  </Table.Td>
                  <Table.Td>{dateTime(r.updated_at)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {repairs.data && repairs.data.total > PAGE && (
        <Pagination
          total={Math.ceil(repairs.data.total / PAGE)}
          value={page}
          onChange={(p) => { set("page", String(p)); }}
          getControlProps={(control) => ({ "aria-label": t(`paging.${control}`) })}
          getItemProps={(p) => ({ "aria-label": t("paging.page", { page: p }) })}
        />
      )}
    </Stack>
  );
}
