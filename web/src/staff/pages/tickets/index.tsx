import { Anchor, Badge, Checkbox, Select, Stack, Table, Text, Title } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { FilterBar, PagedTable, SearchInput } from "../../../components/ListPage";
import { useListFilters } from "../../../lib/listFilters";
import { dateTime } from "../../../lib/format";
import { errorMessage } from "../../../lib/errors";
import { PRIORITIES, STATUSES, ticketsApi, type TicketQuery, type TicketRow } from "./api";
import { PriorityBadge, SlaBadge, StatusBadge } from "./badges";

const PAGE = 20;
const ASSIGNEES = ["all", "mine", "unassigned"] as const;
const FILTERS = ["q", "status", "department", "priority", "assignee", "breached"] as const;

/** The staff ticket queue: filters kept in the address (shareable), paged by the API. */
export default function TicketQueue() {
  const { t } = useTranslation("staff");
  const list = useListFilters(FILTERS, PAGE);
  const assignee = list.value("assignee") ?? "all";
  const breachedOnly = list.value("breached") === "1";

  const query: TicketQuery = {
    limit: PAGE,
    offset: list.query.offset,
    status: list.value("status") ?? undefined,
    department: list.value("department") ?? undefined,
    priority: list.value("priority") ?? undefined,
    mine: assignee === "mine" || undefined,
    unassigned: assignee === "unassigned" || undefined,
    q: list.value("q") ?? undefined,
  };
  const tickets = useQuery({
    queryKey: ["staff", "tickets", query],
    queryFn: () => ticketsApi.list(query),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
  const departments = useQuery({ queryKey: ["tickets", "departments"], queryFn: ticketsApi.departments, staleTime: 300_000 });

  const breached = (rows: TicketRow[]) => rows.filter((row) => !breachedOnly || (row.sla_breached ?? []).length > 0);
  return (
    <Stack>
      <Title order={2}>{t("tickets.title")}</Title>
      <FilterBar label={t("tickets.filters")} filtered={list.filtered} onClear={list.clear}>
        <SearchInput label={t("tickets.search")} value={list.value("q")} onSearch={(v) => { list.filter("q", v); }} w={{ base: "100%", sm: 220 }} />
        <Select
          label={t("tickets.department")}
          placeholder={t("tickets.any")}
          clearable
          data={(departments.data?.items ?? []).map((d) => ({ value: d.id, label: d.name }))}
          value={list.value("department")}
          onChange={(v) => { list.filter("department", v); }}
          w={{ base: "100%", sm: 170 }}
        />
        <Select
          label={t("tickets.status")}
          placeholder={t("tickets.any")}
          clearable
          data={STATUSES.map((s) => ({ value: s, label: t(`ticketStatus.${s}`) }))}
          value={list.value("status")}
          onChange={(v) => { list.filter("status", v); }}
          w={{ base: "100%", sm: 170 }}
        />
        <Select
          label={t("tickets.priority")}
          placeholder={t("tickets.any")}
          clearable
          data={PRIORITIES.map((p) => ({ value: p, label: t(`priority.${p}`) }))}
          value={list.value("priority")}
          onChange={(v) => { list.filter("priority", v); }}
          w={{ base: "100%", sm: 140 }}
        />
        <Select
          label={t("tickets.assignee")}
          data={ASSIGNEES.map((a) => ({ value: a, label: t(`tickets.assignees.${a}`) }))}
          value={assignee}
          allowDeselect={false}
          onChange={(v) => { list.filter("assignee", v === "all" ? null : v); }}
          w={{ base: "100%", sm: 160 }}
        />
        <Checkbox
          label={t("tickets.breachedOnly")}
          checked={breachedOnly}
          onChange={(e) => { list.filter("breached", e.currentTarget.checked ? "1" : null); }}
          mb={8}
        />
      </FilterBar>
      <PagedTable
        result={tickets}
        label={t("tickets.title")}
        minWidth={860}
        pageSize={PAGE}
        page={list.page}
        onPage={list.setPage}
        empty={t("tickets.none")}
        error={(err) => errorMessage(t, err)}
        select={breached}
        head={
          <>
            <Table.Th>{t("tickets.number")}</Table.Th>
            <Table.Th>{t("tickets.subject")}</Table.Th>
            <Table.Th>{t("tickets.department")}</Table.Th>
            <Table.Th>{t("tickets.status")}</Table.Th>
            <Table.Th>{t("tickets.priority")}</Table.Th>
            <Table.Th>{t("tickets.sla")}</Table.Th>
            <Table.Th>{t("tickets.updated")}</Table.Th>
          </>
        }
        row={(row) => (
          <Table.Tr key={row.id} data-testid={`ticket-row-${row.ticket_number}`} bg={(row.sla_breached ?? []).length > 0 ? "red.0" : undefined}>
            <Table.Td>
              <Anchor component={Link} to={`/staff/tickets/${row.id}`} ff="monospace">
                {row.ticket_number}
              </Anchor>
            </Table.Td>
            <Table.Td maw={320}>
              <Text size="sm" lineClamp={2}>
                {row.title}
              </Text>
              {row.response_status === "awaiting_staff" && (
                <Badge size="xs" color="orange.9" variant="light">
                  {t("tickets.awaitingStaff")}
                </Badge>
              )}
            </Table.Td>
            <Table.Td>{row.department}</Table.Td>
            <Table.Td>
              <StatusBadge status={row.status} />
            </Table.Td>
            <Table.Td>
              <PriorityBadge priority={row.priority} />
            </Table.Td>
            <Table.Td>
              <SlaBadge breached={row.sla_breached ?? []} />
            </Table.Td>
            <Table.Td>{dateTime(typeof row.updated_at === "string" ? row.updated_at : null)}</Table.Td>
          </Table.Tr>
        )}
      />
    </Stack>
  );
}
