import { useEffect, useRef, useState, type ReactNode } from "react";
import { Alert, Button, Group, Pagination, Stack, Table, Text, TextInput, type TextInputProps } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import type { UseQueryResult } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../layout/AppLayout";
import { ScrollTable } from "./ScrollTable";

/** A page of a list as every list route answers it. */
export interface PageOf<T> {
  items: T[];
  total: number;
}

/**
 * The list shell every list screen shares: loading, the error, the empty text, the table in
 * its own scrolling box (the page never scrolls sideways) and the pager; the screen gives the
 * header cells and a row per item.
 */
export function PagedTable<T>({
  result,
  label,
  minWidth,
  pageSize,
  page,
  onPage,
  empty,
  error,
  head,
  row,
  select = (items) => items,
  summary,
  striped = true,
}: {
  result: UseQueryResult<PageOf<T>>;
  /** The table's name (its scrolling box is a named region). */
  label: string;
  minWidth: number;
  pageSize: number;
  page: number;
  onPage: (page: number) => void;
  empty: ReactNode;
  error: (error: unknown) => string;
  /** The header cells (`Table.Th`s). */
  head: ReactNode;
  /** One `Table.Tr` per item. */
  row: (item: T) => ReactNode;
  /** The rows of a page to show (a filter the API does not have). */
  select?: (items: T[]) => T[];
  summary?: (total: number) => ReactNode;
  striped?: boolean;
}) {
  const { t } = useTranslation();
  if (result.isPending) return <PageLoader />;
  if (result.isError)
    return (
      <Alert color="red" role="alert">
        {error(result.error)}
      </Alert>
    );
  const { items, total } = result.data;
  const shown = select(items);
  return (
    <Stack>
      {shown.length === 0 ? (
        <Text c="gray.7">{empty}</Text>
      ) : (
        <>
          {summary?.(total)}
          <ScrollTable label={label} minWidth={minWidth}>
            <Table striped={striped} highlightOnHover>
              <Table.Thead>
                <Table.Tr>{head}</Table.Tr>
              </Table.Thead>
              <Table.Tbody>{shown.map(row)}</Table.Tbody>
            </Table>
          </ScrollTable>
        </>
      )}
      {total > pageSize && (
        <Pagination
          total={Math.ceil(total / pageSize)}
          value={page}
          onChange={onPage}
          getControlProps={(control) => ({ "aria-label": t(`paging.${control}`) })}
          getItemProps={(p) => ({ "aria-label": t("paging.page", { page: p }) })}
        />
      )}
    </Stack>
  );
}

/**
 * A list's filter controls in one row that wraps (a column on a phone), named as a search
 * landmark, with "clear filters" while any is set.
 */
export function FilterBar({ label, filtered, onClear, children }: { label: string; filtered: boolean; onClear: () => void; children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <Group gap="sm" align="flex-end" role="search" aria-label={label}>
      {children}
      {filtered && (
        <Button variant="subtle" onClick={onClear}>
          {t("list.clearFilters")}
        </Button>
      )}
    </Group>
  );
}

/**
 * Free-text search of a list: applied a moment after typing stops, at once on Enter; emptied
 * when the applied value is (by "clear filters").
 */
export function SearchInput({ value, onSearch, ...props }: { value: string | null; onSearch: (value: string | null) => void } & Omit<TextInputProps, "value" | "onChange">) {
  const [text, setText] = useState(value ?? "");
  const [applied, setApplied] = useState(value);
  if (applied !== value) {
    setApplied(value);
    if ((value ?? "") !== text.trim()) setText(value ?? "");
  }
  // The applied value and the setter of the latest render: a debounced call made before
  // "clear filters" must not compare with the value cleared since (retyping the same search
  // after clearing was ignored, and the list showed every row under the typed text).
  const latest = useRef({ value, onSearch });
  useEffect(() => {
    latest.current = { value, onSearch };
  });
  const apply = useDebouncedCallback((next: string) => {
    const trimmed = next.trim() || null;
    if (trimmed !== latest.current.value) latest.current.onSearch(trimmed);
  }, 400);
  return (
    <TextInput
      maxLength={100}
      {...props}
      value={text}
      onChange={(e) => {
        setText(e.currentTarget.value);
        apply(e.currentTarget.value);
      }}
      onKeyDown={(e) => {
        // Enter applies what the box shows, even if it equals the applied value of the last
        // render: "clear filters" may not have rendered yet when the same text is typed again.
        if (e.key === "Enter") {
          apply.cancel();
          latest.current.onSearch(e.currentTarget.value.trim() || null);
        }
      }}
    />
  );
}
