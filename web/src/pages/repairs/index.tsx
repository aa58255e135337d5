import { Alert, Anchor, Badge, Button, Group, Pagination, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { IconPlus, IconSearch } from "@tabler/icons-react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ScrollTable } from "../../components/ScrollTable";
import { PageLoader } from "../../layout/AppLayout";
import { areaError } from "../../lib/areaError";
import { useListFilters } from "../../lib/listFilters";
import { dateTime, money } from "../../lib/format";
import { STATUSES, repairsApi, type ListQuery } from "./api";
import { RepairStatusBadge, useBranches } from "./components/common";

const PAGE = 20;
const FILTERS = ["status", "branch_id", "q"] as const;

/** The customer's repairs (seed 004 "devices for repair"), newest activity first. */
export default function RepairList() {
  const { t } = useTranslation("repairs");
  const list = useListFilters(FILTERS, PAGE);
  const query: ListQuery = list.query;
  const repairs = useQuery({
    queryKey: ["repairs", query],
    queryFn: () => repairsApi.list(query),
    placeholderData: keepPreviousData,
  });
  const branches = useBranches();


  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("title")}</Title>
        <Button component={Link} to="/repairs/new" leftSection={<IconPlus size={16} />}>
          {t("newRepair")}
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
          w={{ base: "100%", sm: 280 }}
        />
        <Select
          label={t("statusHead")}
          placeholder={t("all")}
          clearable
          data={STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
          value={list.value("status")}
          onChange={(v) => { list.filter("status", v); }}
          w={{ base: "100%", sm: 200 }}
        />
        <Select
          label={t("branchHead")}
          placeholder={t("all")}
          clearable
          data={branches.options}
          value={list.value("branch_id")}
          onChange={(v) => { list.filter("branch_id", v); }}
          w={{ base: "100%", sm: 240 }}
        />
        {list.filtered && (
          <Button variant="subtle" onClick={list.clear}>
            {t("clearFilters")}
          </Button>
        )}
      </Group>
      {repairs.isPending ? (
        <PageLoader />
      ) : repairs.isError ? (
        <Alert color="red" role="alert">
          {areaError(t, "repairs", repairs.error)}
        </Alert>
      ) : repairs.data.items.length === 0 ? (
        <Text c="gray.7">{list.filtered ? t("noMatch") : t("none")}</Text>
      ) : (
        <>
          <ScrollTable label={t("list")} minWidth={860}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("number")}</Table.Th>
                  <Table.Th>{t("device")}</Table.Th>
                  <Table.Th>{t("createdAt")}</Table.Th>
                  <Table.Th>{t("branchHead")}</Table.Th>
                  <Table.Th>{t("statusHead")}</Table.Th>
                  <Table.Th ta="right">{t("quoteHead")}</Table.Th>
                  <Table.Th>{t("updatedAt")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {repairs.data.items.map((repair) => (
                  <Table.Tr key={repair.id} data-testid={`repair-row-${repair.repair_number}`}>
                    <Table.Td>
                      <Anchor component={Link} to={`/repairs/${repair.id}`}>
                        {repair.repair_number}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{repair.model}</Text>
                      <Text size="xs" c="gray.7">
                        S/N {repair.serial}
                        {repair.warranty && (
                          <Badge ml={6} size="xs" variant="outline" c="dark.7">
                            {t("warranty")}
                          </Badge>
                        )}
                      </Text>
                    </Table.Td>
                    <Table.Td>{dateTime(repair.created_at)}</Table.Td>
                    <Table.Td>{branches.name(repair.branch_id)}</Table.Td>
                    <Table.Td>
                      <RepairStatusBadge status={repair.status} />
                    </Table.Td>
                    <Table.Td ta="right" className="money">
                      {repair.quote_amount != null ? money(repair.quote_amount, repair.currency ?? "VND") : "—"}
                    </Table.Td>
                    <Table.Td>{dateTime(repair.updated_at)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          {repairs.data.total > PAGE && (
            <Group justify="center">
              <Pagination
                total={Math.ceil(repairs.data.total / PAGE)}
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
