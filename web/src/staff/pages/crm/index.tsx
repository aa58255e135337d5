import { Anchor, Badge, Group, SegmentedControl, Select, Stack, Table, Text, Title } from "@mantine/core";
import { IconSearch } from "@tabler/icons-react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { FilterBar, PagedTable, SearchInput } from "../../../components/ListPage";
import { areaError } from "../../../lib/areaError";
import { dateTime } from "../../../lib/format";
import { useListFilters } from "../../../lib/listFilters";
import { GROUPS, KINDS, SCOPES, crmApi, type ContactQuery, type Group as ContactGroup, type Kind, type Scope } from "./api";
import { GroupBadge, LevelBadge, WHOLE, useLabelNames } from "./common";

const PAGE = 20;
const FILTERS = ["kind", "group", "scope", "label", "q"] as const;

/** Contacts and customers (the CRM document's list): group, scope, label and name search, paged by the API. */
export default function CrmList() {
  const { t } = useTranslation("crm");
  const list = useListFilters(FILTERS, PAGE);
  const query: ContactQuery = {
    limit: PAGE,
    offset: list.query.offset,
    kind: (list.value("kind") as Kind | null) ?? undefined,
    group: (list.value("group") as ContactGroup | null) ?? undefined,
    scope: (list.value("scope") as Scope | null) ?? undefined,
    label: list.value("label") ?? undefined,
    q: list.value("q") ?? undefined,
  };
  const contacts = useQuery({
    queryKey: ["staff", "crm", query],
    queryFn: () => crmApi.list(query),
    placeholderData: keepPreviousData,
  });
  const labels = useLabelNames();

  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <SegmentedControl
        aria-label={t("kindFilter")}
        data={[{ value: "", label: t("kinds.all") }, ...KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))]}
        value={list.value("kind") ?? ""}
        onChange={(v) => { list.filter("kind", v || null); }}
        w={{ base: "100%", sm: "auto" }}
        style={{ alignSelf: "flex-start" }}
      />
      <FilterBar label={t("filters")} filtered={list.filtered} onClear={list.clear}>
        <SearchInput
          label={t("search")}
          placeholder={t("searchHelp")}
          leftSection={<IconSearch size={14} />}
          value={list.value("q")}
          onSearch={(v) => { list.filter("q", v); }}
          w={{ base: "100%", sm: 240 }}
        />
        <Select
          label={t("group")}
          placeholder={t("any")}
          clearable
          data={GROUPS.map((g) => ({ value: g, label: t(`groups.${g}`) }))}
          value={list.value("group")}
          onChange={(v) => { list.filter("group", v); }}
          w={{ base: "100%", sm: 190 }}
        />
        <Select
          label={t("scope")}
          data={SCOPES.map((s) => ({ value: s, label: t(`scopes.${s}`) }))}
          value={list.value("scope") ?? "all"}
          allowDeselect={false}
          onChange={(v) => { list.filter("scope", v === "all" ? null : v); }}
          w={{ base: "100%", sm: 200 }}
        />
        <Select
          label={t("label")}
          placeholder={t("any")}
          clearable
          data={[...labels.names.entries()].map(([value, label]) => ({ value, label }))}
          value={list.value("label")}
          onChange={(v) => { list.filter("label", v); }}
          w={{ base: "100%", sm: 170 }}
        />
      </FilterBar>
      <PagedTable
        result={contacts}
        label={t("title")}
        minWidth={860}
        pageSize={PAGE}
        page={list.page}
        onPage={list.setPage}
        empty={list.filtered ? t("noneMatching") : t("none")}
        error={(err) => areaError(t, "crm", err)}
        summary={(total) => (
          <Text size="sm" c="gray.7" data-testid="crm-total">
            {t("total", { count: total })}
          </Text>
        )}
        head={
          <>
            <Table.Th>{t("name")}</Table.Th>
            <Table.Th>{t("kind")}</Table.Th>
            <Table.Th>{t("reach")}</Table.Th>
            <Table.Th>{t("group")}</Table.Th>
            <Table.Th>{t("unit")}</Table.Th>
            <Table.Th>{t("label")}</Table.Th>
            <Table.Th>{t("level")}</Table.Th>
            <Table.Th>{t("updated")}</Table.Th>
          </>
        }
        row={(row) => (
          <Table.Tr key={row.id} data-testid={`crm-row-${row.id}`}>
            <Table.Td>
              <Anchor component={Link} to={`/staff/crm/${row.id}`} fw={600}>
                {row.name}
              </Anchor>
              <Text size="xs" c="gray.7">
                {t(`partyTypes.${row.party_type}`)}
                {row.tax_code ? ` · ${t("taxCodeShort")} ${row.tax_code}` : ""}
              </Text>
            </Table.Td>
            <Table.Td>{t(`kinds.${row.kind}`)}</Table.Td>
            <Table.Td style={{ overflowWrap: "anywhere" }} miw={150}>
              <Text size="sm">{row.phone || "—"}</Text>
              {row.email && (
                <Text size="xs" c="gray.7">
                  {row.email}
                </Text>
              )}
            </Table.Td>
            <Table.Td>
              <GroupBadge group={row.group} />
            </Table.Td>
            <Table.Td>{row.unit || "—"}</Table.Td>
            <Table.Td>
              <Group gap={4}>
                {row.labels.map((id) => (
                  <Badge key={id} size="sm" variant="light" color="grape" styles={WHOLE}>
                    {labels.name(id)}
                  </Badge>
                ))}
              </Group>
            </Table.Td>
            <Table.Td>{row.kind === "customer" && row.level ? <LevelBadge level={row.level} /> : "—"}</Table.Td>
            <Table.Td miw={90}>{dateTime(row.updated_at)}</Table.Td>
          </Table.Tr>
        )}
      />
    </Stack>
  );
}
