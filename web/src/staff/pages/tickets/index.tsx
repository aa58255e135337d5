import { useState } from "react";
import { Alert, Anchor, Badge, Checkbox, Group, Pagination, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ScrollTable } from "../../../components/ScrollTable";
import { PageLoader } from "../../../layout/AppLayout";
import { dateTime } from "../../../lib/format";
import { errorMessage } from "../../../lib/errors";
import { PRIORITIES, STATUSES, ticketsApi, type TicketQuery, type TicketRow } from "./api";
import { PriorityBadge, SlaBadge, StatusBadge } from "./badges";

const PAGE = 20;
const ASSIGNEES = ["all", "mine", "unassigned"] as const;

/** The staff ticket queue: filters kept in the address (shareable), paged by the API. */
export default function TicketQueue() {
  const { t } = useTranslation("staff");
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState(params.get("q") ?? "");
  const [search] = useDebouncedValue(text.trim(), 400);
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  const assignee = params.get("assignee") ?? "all";
  const breachedOnly = params.get("breached") === "1";

  function set(name: string, value: string | null) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "page") next.delete("page");
    setParams(next, { replace: true });
  }

  const query: TicketQuery = {
    limit: PAGE,
    offset: (page - 1) * PAGE,
    status: params.get("status") ?? undefined,
    department: params.get("department") ?? undefined,
    priority: params.get("priority") ?? undefined,
    mine: assignee === "mine" || undefined,
    unassigned: assignee === "unassigned" || undefined,
    q: search || undefined,
  };
  const tickets = useQuery({
    queryKey: ["staff", "tickets", query],
    queryFn: () => ticketsApi.list(query),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
  const departments = useQuery({ queryKey: ["tickets", "departments"], queryFn: ticketsApi.departments, staleTime: 300_000 });

  const rows: TicketRow[] = (tickets.data?.items ?? []).filter((row) => !breachedOnly || (row.sla_breached ?? []).length > 0);
  return (
    <Stack>
      <Title order={2}>{t("tickets.title")}</Title>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <TextInput
          label={t("tickets.search")}
          value={text}
          onChange={(e) => {
            setText(e.currentTarget.value);
            if (params.has("page")) set("page", null);
          }}
          w={{ base: "100%", sm: 220 }}
        />
        <Select
          label={t("tickets.department")}
          placeholder={t("tickets.any")}
          clearable
          data={(departments.data?.items ?? []).map((d) => ({ value: d.id, label: d.name }))}
          value={params.get("department")}
          onChange={(v) => { set("department", v); }}
          w={{ base: "100%", sm: 170 }}
        />
        <Select
          label={t("tickets.status")}
          placeholder={t("tickets.any")}
          clearable
          data={STATUSES.map((s) => ({ value: s, label: t(`ticketStatus.${s}`) }))}
          value={params.get("status")}
          onChange={(v) => { set("status", v); }}
          w={{ base: "100%", sm: 170 }}
        />
        <Select
          label={t("tickets.priority")}
          placeholder={t("tickets.any")}
          clearable
          data={PRIORITIES.map((p) => ({ value: p, label: t(`priority.${p}`) }))}
          value={params.get("priority")}
          onChange={(v) => { set("priority", v); }}
          w={{ base: "100%", sm: 140 }}
        />
        <Select
          label={t("tickets.assignee")}
          data={ASSIGNEES.map((a) => ({ value: a, label: t(`tickets.assignees.${a}`) }))}
          value={assignee}
          allowDeselect={false}
          onChange={(v) => { set("assignee", v === "all" ? null : v); }}
          w={{ base: "100%", sm: 160 }}
        />
        <Checkbox
          label={t("tickets.breachedOnly")}
          checked={breachedOnly}
          onChange={(e) => { set("breached", e.currentTarget.checked ? "1" : null); }}
          mb={8}
        />
      </Group>
      {tickets.isPending ? (
        <PageLoader />
      ) : tickets.isError ? (
        <Alert color="red" role="alert">
          {errorMessage(t, tickets.error)}
        </Alert>
      ) : rows.length === 0 ? (
        <Text c="gray.7">{t("tickets.none")}</Text>
      ) : (
        <ScrollTable label={t("tickets.title")} minWidth={860}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("tickets.number")}</Table.Th>
                <Table.Th>{t("tickets.subject")}</Table.Th>
                <Table.Th>{t("tickets.department")}</Table.Th>
                <Table.Th>{t("tickets.status")}</Table.Th>
                <Table.Th>{t("tickets.priority")}</Table.Th>
                <Table.Th>{t("tickets.sla")}</Table.Th>
                <Table.Th>{t("tickets.updated")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((row) => (
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
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {tickets.data && tickets.data.total > PAGE && (
        <Pagination
          total={Math.ceil(tickets.data.total / PAGE)}
          value={page}
          onChange={(p) => { set("page", String(p)); }}
          getControlProps={(control) => ({ "aria-label": t(`paging.${control}`) })}
          getItemProps={(p) => ({ "aria-label": t("paging.page", { page: p }) })}
        />
      )}
    </Stack>
  );
}
