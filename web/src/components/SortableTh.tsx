import type { ReactNode } from "react";
import { Group, Table, UnstyledButton } from "@mantine/core";
import { IconArrowDown, IconArrowUp, IconArrowsSort } from "@tabler/icons-react";

/**
 * A column header that orders the list by its field. `sort` is the list's order as the API
 * takes it (`name`, `-name` for descending). The header carries `aria-sort` while it orders
 * the list; its button (a real button: Tab and Enter or Space) flips the direction, or on a
 * column not yet sorted applies its first direction (`descendingFirst` for dates and ranks,
 * where the newest or highest is what one looks for).
 */
export function SortableTh({
  field,
  sort,
  onSort,
  descendingFirst = false,
  children,
}: {
  field: string;
  sort: string;
  onSort: (sort: string) => void;
  descendingFirst?: boolean;
  children: ReactNode;
}) {
  const active = sort === field || sort === `-${field}`;
  const descending = sort.startsWith("-");
  const Icon = !active ? IconArrowsSort : descending ? IconArrowDown : IconArrowUp;
  const next = active ? (descending ? field : `-${field}`) : descendingFirst ? `-${field}` : field;
  return (
    <Table.Th aria-sort={active ? (descending ? "descending" : "ascending") : "none"}>
      <UnstyledButton
        onClick={() => {
          onSort(next);
        }}
        fw={700}
        fz="sm"
        data-sort-field={field}
      >
        <Group gap={4} wrap="nowrap">
          {children}
          <Icon size={14} aria-hidden opacity={active ? 1 : 0.5} />
        </Group>
      </UnstyledButton>
    </Table.Th>
  );
}
