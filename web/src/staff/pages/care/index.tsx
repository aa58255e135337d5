import { useState } from "react";
import { Anchor, Badge, Button, Group, SegmentedControl, Select, Stack, Table, Text, Title } from "@mantine/core";
import { IconPlus, IconSearch } from "@tabler/icons-react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { FilterBar, PagedTable, SearchInput } from "../../../components/ListPage";
import { areaError } from "../../../lib/areaError";
import { dateTime, money } from "../../../lib/format";
import { useListFilters } from "../../../lib/listFilters";
import { SCOPES, STATUSES, careApi, type Activity, type ActivityQuery, type ActivityScope, type ActivityStatus } from "./api";
import { ResolveDialog, ScheduleDialog, type Resolution } from "./dialogs";

const PAGE = 20;
const FILTERS = ["scope", "status", "q"] as const;
const STATUS_COLOURS: Record<ActivityStatus, string> = { planned: "blue.8", done: "teal.9", cancelled: "gray.7" };

export function StatusBadge({ status }: { status: ActivityStatus }) {
  const { t } = useTranslation("care");
  return (
    <Badge color={STATUS_COLOURS[status]} variant="light" styles={{ label: { overflow: "visible" } }}>
      {t(`statuses.${status}`)}
    </Badge>
  );
}

/** What a care action gives or takes: points, accumulated money, or nothing (a call, a message). */
export function careValue(t: (key: string) => string, row: Pick<Activity, "action" | "value">): string {
  if (row.action === "give_money" || row.action === "deduct_money")
    return `${row.action === "deduct_money" ? "−" : "+"}${money(row.value)}`;
  if (row.action === "give_points" || row.action === "deduct_points")
    return `${row.action === "deduct_points" ? "−" : "+"}${row.value.toLocaleString("vi-VN")} ${t("crm:pointsUnit")}`;
  return "—";
}

/** Care activities (the CRM document): all, mine, my department's, due today; planned, done, cancelled. */
export default function CareList() {
  const { t } = useTranslation("care");
  const list = useListFilters(FILTERS, PAGE);
  const [scheduling, setScheduling] = useState(false);
  const [resolving, setResolving] = useState<Resolution | null>(null);
  const query: ActivityQuery = {
    limit: PAGE,
    offset: list.query.offset,
    scope: (list.value("scope") as ActivityScope | null) ?? undefined,
    status: (list.value("status") as ActivityStatus | null) ?? undefined,
    q: list.value("q") ?? undefined,
  };
  const activities = useQuery({
    queryKey: ["staff", "care", query],
    queryFn: () => careApi.list(query),
    placeholderData: keepPreviousData,
  });
  const filtered = list.value("status") !== null || list.value("q") !== null;

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Title order={2}>{t("title")}</Title>
        <Button leftSection={<IconPlus size={16} aria-hidden />} onClick={() => { setScheduling(true); }}>
          {t("schedule")}
        </Button>
      </Group>
      <SegmentedControl
        aria-label={t("scopeFilter")}
        data={SCOPES.map((s) => ({ value: s, label: t(`scopes.${s}`) }))}
        value={list.value("scope") ?? "all"}
        onChange={(v) => { list.filter("scope", v === "all" ? null : v); }}
        w={{ base: "100%", sm: "auto" }}
        style={{ alignSelf: "flex-start" }}
        styles={{ root: { flexWrap: "wrap" } }}
      />
      <FilterBar label={t("filters")} filtered={list.filtered} onClear={list.clear}>
        <SearchInput
          label={t("search")}
          placeholder={t("searchHelp")}
          leftSection={<IconSearch size={14} />}
          value={list.value("q")}
          onSearch={(v) => { list.filter("q", v); }}
          w={{ base: "100%", sm: 260 }}
        />
        <Select
          label={t("status")}
          placeholder={t("any")}
          clearable
          data={STATUSES.map((s) => ({ value: s, label: t(`statuses.${s}`) }))}
          value={list.value("status")}
          onChange={(v) => { list.filter("status", v); }}
          w={{ base: "100%", sm: 180 }}
        />
      </FilterBar>
      <PagedTable
        result={activities}
        label={t("title")}
        minWidth={820}
        pageSize={PAGE}
        page={list.page}
        onPage={list.setPage}
        empty={filtered || list.value("scope") ? t("noneMatching") : t("none")}
        error={(err) => areaError(t, "crm", err)}
        summary={(total) => (
          <Text size="sm" c="gray.7" data-testid="care-total">
            {t("total", { count: total })}
          </Text>
        )}
        head={
          <>
            <Table.Th>{t("due")}</Table.Th>
            <Table.Th>{t("activity")}</Table.Th>
            <Table.Th>{t("careType")}</Table.Th>
            <Table.Th ta="right">{t("value")}</Table.Th>
            <Table.Th>{t("status")}</Table.Th>
            <Table.Th>{t("actions")}</Table.Th>
          </>
        }
        row={(row) => (
          <Table.Tr key={row.id} data-testid={`care-row-${row.id}`}>
            <Table.Td miw={90}>{dateTime(row.due_at)}</Table.Td>
            <Table.Td>
              <Text size="sm" fw={600}>
                {row.title}
              </Text>
              <Anchor component={Link} to={`/staff/crm/${row.contact_id}`} size="xs">
                {row.contact_name ?? t("openContact")}
                {row.contact_code ? ` · ${t("crm:taxCodeShort")} ${row.contact_code}` : ""}
              </Anchor>
              {(row.outcome || row.cancel_reason) && (
                <Text size="xs" c="gray.7">
                  {row.outcome || row.cancel_reason}
                </Text>
              )}
            </Table.Td>
            <Table.Td>{t(`crm:careTypes.${row.care_type_id}`, { defaultValue: row.care_type_name })}</Table.Td>
            <Table.Td ta="right" className="money">
              {careValue(t, row)}
            </Table.Td>
            <Table.Td>
              <StatusBadge status={row.status} />
            </Table.Td>
            <Table.Td>
              {row.status === "planned" ? (
                <Group gap={4} wrap="nowrap">
                  <Button size="compact-sm" variant="light" color="teal.9" onClick={() => { setResolving({ activity: row, as: "done" }); }} aria-label={t("markDoneOf", { title: row.title })}>
                    {t("markDone")}
                  </Button>
                  <Button size="compact-sm" variant="light" color="red.9" onClick={() => { setResolving({ activity: row, as: "cancelled" }); }} aria-label={t("cancelOf", { title: row.title })}>
                    {t("cancel")}
                  </Button>
                </Group>
              ) : (
                <Text size="xs" c="gray.7">
                  {dateTime(row.done_at ?? row.updated_at)}
                </Text>
              )}
            </Table.Td>
          </Table.Tr>
        )}
      />
      {scheduling && <ScheduleDialog onClose={() => { setScheduling(false); }} />}
      {resolving && <ResolveDialog resolution={resolving} onClose={() => { setResolving(null); }} />}
    </Stack>
  );
}
