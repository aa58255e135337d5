import { Alert, Anchor, Badge, Button, Group, Pagination, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { IconPlus, IconSearch } from "@tabler/icons-react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ScrollTable } from "../../components/ScrollTable";
import { PageLoader } from "../../layout/AppLayout";
import { areaError } from "../../lib/areaError";
import { useListFilters } from "../../lib/listFilters";
import { dateTime } from "../../lib/format";
import { PRIORITIES, STATUSES, ticketsApi, type ListQuery } from "./api";
import { PriorityBadge, StatusBadge, stageOf } from "./components/Badges";
import { useDepartments } from "./components/Departments";

const PAGE = 20;
const FILTERS = ["status", "department", "priority", "q"] as const;

/** "Support request history" (seed 004): stage, status, priority and response status, filtered. */
export default function SupportList() {
  const { t } = useTranslation("support");
  const list = useListFilters(FILTERS, PAGE);
  const query: ListQuery = list.query;
  const tickets = useQuery({
    queryKey: ["tickets", query],
    queryFn: () => ticketsApi.list(query),
    placeholderData: keepPreviousData,
  });
  const departments = useDepartments();


  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("title")}</Title>
        <Button component={Link} to="/support/new" leftSection={<IconPlus size={16} />}>
          {t("newTicket")}
        </Button>
      </Group>
      <Group gap="sm" align="flex-end" role="search" aria-label={t("filters")}>
        <TextInput
          label={t("search")}
          leftSection={<IconSearch size={14} />}
          defaultValue={list.value("q") ?? ""}
          maxLength={100}
          onKeyDown={(e) => {
            if (e.key === "Enter") list.filter("q", e.currentTarget.value.trim() || null);
          }}
          onBlur={(e) => { list.filter("q", e.currentTarget.value.trim() || null); }}
          w={{ base: "100%", sm: 240 }}
        />
        <Select
          label={t("statusHead")}
          placeholder={t("all")}
          clearable
          data={STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
          value={list.value("status")}
          onChange={(v) => { list.filter("status", v); }}
          w={{ base: "100%", sm: 210 }}
        />
        <Select
          label={t("departmentHead")}
          placeholder={t("all")}
          clearable
          data={departments.options}
          value={list.value("department")}
          onChange={(v) => { list.filter("department", v); }}
          w={{ base: "100%", sm: 180 }}
        />
        <Select
          label={t("priorityHead")}
          placeholder={t("all")}
          clearable
          data={PRIORITIES.map((p) => ({ value: p, label: t(`priorities.${p}`) }))}
          value={list.value("priority")}
          onChange={(v) => { list.filter("priority", v); }}
          w={{ base: "100%", sm: 150 }}
        />
        {list.filtered && (
          <Button variant="subtle" onClick={list.clear}>
            {t("clearFilters")}
          </Button>
        )}
      </Group>
      {tickets.isPending ? (
        <PageLoader />
      ) : tickets.isError ? (
        <Alert color="red" role="alert">
          {areaError(t, "support", tickets.error)}
        </Alert>
      ) : tickets.data.items.length === 0 ? (
        <Text c="gray.7">{list.filtered ? t("noMatch") : t("none")}</Text>
      ) : (
        <>
          <ScrollTable label={t("list")} minWidth={960}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("number")}</Table.Th>
                  <Table.Th>{t("subject")}</Table.Th>
                  <Table.Th>{t("createdAt")}</Table.Th>
                  <Table.Th>{t("departmentHead")}</Table.Th>
                  <Table.Th>{t("stageHead")}</Table.Th>
                  <Table.Th>{t("statusHead")}</Table.Th>
                  <Table.Th>{t("priorityHead")}</Table.Th>
                  <Table.Th>{t("responseHead")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {tickets.data.items.map((ticket) => (
                  <Table.Tr key={ticket.id} data-testid={`ticket-row-${ticket.ticket_number}`}>
                    <Table.Td>
                      <Anchor component={Link} to={`/support/${ticket.id}`}>
                        {ticket.ticket_number}
                      </Anchor>
                    </Table.Td>
                    <Table.Td maw={280}>
                      <Text size="sm" lineClamp={2}>
                        {ticket.title}
                      </Text>
                    </Table.Td>
                    <Table.Td>{dateTime(ticket.created_at)}</Table.Td>
                    <Table.Td>{departments.name(ticket.department)}</Table.Td>
                    <Table.Td>{t(`stage.${stageOf(ticket)}`)}</Table.Td>
                    <Table.Td>
                      <StatusBadge status={ticket.status} />
                    </Table.Td>
                    <Table.Td>
                      <PriorityBadge priority={ticket.priority} />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {ticket.response_status ? t(`response.${ticket.response_status}`, { defaultValue: ticket.response_status }) : "—"}
                        {ticket.sla_breached && ticket.sla_breached.length > 0 && ticket.status !== "closed" && (
                          <Badge color="red" variant="light" c="red.9" size="sm">
                            {t("slaLate")}
                          </Badge>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          {tickets.data.total > PAGE && (
            <Group justify="center">
              <Pagination
                total={Math.ceil(tickets.data.total / PAGE)}
                value={list.page}
                onChange={list.setPage}
              />
            </Group>
          )}
        </>
      )}
    </Stack>
  );
}
