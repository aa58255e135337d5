import { useState } from "react";
import { Anchor, Badge, Checkbox, Group, SegmentedControl, Select, Stack, Switch, Table, Text, Title } from "@mantine/core";
import { IconSearch } from "@tabler/icons-react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { FilterBar, PagedTable, SearchInput } from "../../../components/ListPage";
import { areaError } from "../../../lib/areaError";
import { dateTime } from "../../../lib/format";
import { useListFilters } from "../../../lib/listFilters";
import { useAuth } from "../../../auth/AuthProvider";
import { SortableTh } from "../../../components/SortableTh";
import { DEFAULT_SORT, GROUPS, KINDS, SCOPES, SORTS, crmApi, type ContactQuery, type Group as ContactGroup, type Kind, type Scope } from "./api";
import { BulkBar } from "./bulk";
import { GroupBadge, LevelBadge, WHOLE, useLabelNames } from "./common";

const PAGE = 20;
const FILTERS = ["kind", "group", "scope", "label", "q", "deleted"] as const;
/** Kept in the address beside the filters, but an order, not a filter: "clear filters" keeps it. */
const KEPT = [...FILTERS, "sort"] as const;

/** Contacts and customers (the CRM document's list): group, scope, label and name search, paged by the API. */
export default function CrmList() {
  const { t } = useTranslation("crm");
  const list = useListFilters(KEPT, PAGE);
  const asked = list.value("sort");
  // An order typed into the address that the API does not know falls back to the default.
  const sort = SORTS.find((s) => s === asked) ?? DEFAULT_SORT;
  const filtered = FILTERS.some((name) => list.value(name));
  const admin = (useAuth().profile?.platform_roles ?? []).includes("platform_admin");
  const deletedView = admin && list.value("deleted") === "1";
  const onSort = (next: string) => {
    list.filter("sort", next === DEFAULT_SORT ? null : next);
  };
  const clear = () => {
    list.clear();
    if (sort !== DEFAULT_SORT) list.filter("sort", sort);
  };
  const query: ContactQuery = {
    limit: PAGE,
    offset: list.query.offset,
    kind: (list.value("kind") as Kind | null) ?? undefined,
    group: (list.value("group") as ContactGroup | null) ?? undefined,
    scope: (list.value("scope") as Scope | null) ?? undefined,
    label: list.value("label") ?? undefined,
    q: list.value("q") ?? undefined,
    sort: sort === DEFAULT_SORT ? undefined : sort,
    deleted: deletedView || undefined,
  };
  const contacts = useQuery({
    queryKey: ["staff", "crm", query],
    queryFn: () => crmApi.list(query),
    placeholderData: keepPreviousData,
  });
  const labels = useLabelNames();
  // The rows ticked on this page of this query: another page, filter or order starts afresh.
  const shown = JSON.stringify(query);
  const [ticked, setTicked] = useState<{ of: string; ids: string[] }>({ of: shown, ids: [] });
  const selected = ticked.of === shown ? ticked.ids : [];
  const onPage = contacts.data?.items ?? [];
  const names = new Map(onPage.map((row) => [row.id, row.name]));
  const allTicked = onPage.length > 0 && onPage.every((row) => selected.includes(row.id));
  const tick = (ids: string[]) => {
    setTicked({ of: shown, ids });
  };

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
      <FilterBar label={t("filters")} filtered={filtered} onClear={clear}>
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
        {admin && (
          <Switch
            label={t("bulk.deletedView")}
            checked={deletedView}
            onChange={(e) => { list.filter("deleted", e.currentTarget.checked ? "1" : null); }}
            mb={8}
          />
        )}
      </FilterBar>
      {selected.length > 0 && (
        <BulkBar ids={selected} names={names} deletedView={deletedView} onDone={() => { tick([]); }} />
      )}
      <PagedTable
        result={contacts}
        label={t("title")}
        minWidth={860}
        pageSize={PAGE}
        page={list.page}
        onPage={list.setPage}
        empty={filtered ? t("noneMatching") : t("none")}
        error={(err) => areaError(t, "crm", err)}
        summary={(total) => (
          <Text size="sm" c="gray.7" data-testid="crm-total">
            {t("total", { count: total })}
          </Text>
        )}
        head={
          <>
            <Table.Th w={36}>
              <Checkbox
                aria-label={t("bulk.selectPage")}
                checked={allTicked}
                indeterminate={selected.length > 0 && !allTicked}
                onChange={() => { tick(allTicked ? [] : onPage.map((row) => row.id)); }}
              />
            </Table.Th>
            <SortableTh field="name" sort={sort} onSort={onSort}>
              {t("name")}
            </SortableTh>
            <Table.Th>{t("kind")}</Table.Th>
            <Table.Th>{t("reach")}</Table.Th>
            <SortableTh field="group" sort={sort} onSort={onSort} descendingFirst>
              {t("group")}
            </SortableTh>
            <Table.Th>{t("unit")}</Table.Th>
            <Table.Th>{t("label")}</Table.Th>
            <SortableTh field="level" sort={sort} onSort={onSort} descendingFirst>
              {t("level")}
            </SortableTh>
            <SortableTh field="updated_at" sort={sort} onSort={onSort} descendingFirst>
              {t("updated")}
            </SortableTh>
          </>
        }
        row={(row) => (
          <Table.Tr key={row.id} data-testid={`crm-row-${row.id}`}>
            <Table.Td>
              <Checkbox
                aria-label={t("bulk.select", { name: row.name })}
                checked={selected.includes(row.id)}
                onChange={(e) => { tick(e.currentTarget.checked ? [...selected, row.id] : selected.filter((id) => id !== row.id)); }}
              />
            </Table.Td>
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
