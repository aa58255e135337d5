import { Anchor, Badge, Select, Stack, Table, Text, Title } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { FilterBar, PagedTable, SearchInput } from "../../../components/ListPage";
import { useListFilters } from "../../../lib/listFilters";
import { dateTime, money } from "../../../lib/format";
import { errorMessage } from "../../../lib/errors";
import { STEPS, repairsApi, type RepairQuery } from "./api";

const PAGE = 20;
const FILTERS = ["q", "status", "branch"] as const;

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
  const list = useListFilters(FILTERS, PAGE);
  const query: RepairQuery = {
    limit: PAGE,
    offset: list.query.offset,
    status: list.value("status") ?? undefined,
    branch_id: list.value("branch") ?? undefined,
    q: list.value("q") ?? undefined,
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
      <FilterBar label={t("repairs.filters")} filtered={list.filtered} onClear={list.clear}>
        <SearchInput label={t("repairs.search")} value={list.value("q")} onSearch={(v) => { list.filter("q", v); }} w={{ base: "100%", sm: 240 }} />
        <Select
          label={t("repairs.step")}
          placeholder={t("tickets.any")}
          clearable
          data={STEPS.map((s) => ({ value: s, label: t(`repairStatus.${s}`) }))}
          value={list.value("status")}
          onChange={(v) => { list.filter("status", v); }}
          w={{ base: "100%", sm: 190 }}
        />
        <Select
          label={t("repairs.branch")}
          placeholder={t("tickets.any")}
          clearable
          data={(branches.data?.items ?? []).map((b) => ({ value: b.id, label: b.name }))}
          value={list.value("branch")}
          onChange={(v) => { list.filter("branch", v); }}
          w={{ base: "100%", sm: 190 }}
        />
      </FilterBar>
      <PagedTable
        result={repairs}
        label={t("repairs.title")}
        minWidth={820}
        pageSize={PAGE}
        page={list.page}
        onPage={list.setPage}
        empty={t("repairs.none")}
        error={(err) => errorMessage(t, err)}
        head={
          <>
            <Table.Th>{t("repairs.number")}</Table.Th>
            <Table.Th>{t("repairs.device")}</Table.Th>
            <Table.Th>{t("repairs.step")}</Table.Th>
            <Table.Th>{t("repairs.branch")}</Table.Th>
            <Table.Th ta="right">{t("repairs.quote")}</Table.Th>
            <Table.Th>{t("repairs.updated")}</Table.Th>
          </>
        }
        row={(r) => (
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
        )}
      />
    </Stack>
  );
}
