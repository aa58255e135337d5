import type { ReactNode } from "react";
import { Table } from "@mantine/core";

/**
 * A table that scrolls sideways on a phone instead of widening the page. The scrolling box
 * takes keyboard focus (and is named) so it can be scrolled without a pointer.
 */
export function ScrollTable({ label, minWidth, children }: { label: string; minWidth: number; children: ReactNode }) {
  return (
    <Table.ScrollContainer minWidth={minWidth} type="native" tabIndex={0} role="region" aria-label={label}>
      {children}
    </Table.ScrollContainer>
  );
}
