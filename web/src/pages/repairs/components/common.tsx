import { Badge } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { repairsApi, type RepairStatus } from "../api";

const COLOURS: Record<RepairStatus, string> = {
  none: "gray",
  registered: "gray",
  received: "blue",
  diagnosing: "cyan",
  quoted: "orange",
  approved: "teal",
  rejected: "red",
  repairing: "indigo",
  ready: "green",
  returned: "green",
  cancelled: "gray",
};

// Dark text on the light badge keeps the contrast above 4.5:1 (axe).
export function RepairStatusBadge({ status }: { status: RepairStatus }) {
  const { t } = useTranslation("repairs");
  return (
    <Badge color={COLOURS[status]} variant="light" c="dark.7">
      {t(`status.${status}`)}
    </Badge>
  );
}

/** The repair branches (from the repairs service), named in the reader's language where known. */
export function useBranches() {
  const { t } = useTranslation("repairs");
  const query = useQuery({ queryKey: ["repair-branches"], queryFn: repairsApi.branches, staleTime: 10 * 60_000 });
  const items = query.data?.items ?? [];
  const name = (id: string) => t(`branches.${id}`, { defaultValue: items.find((b) => b.id === id)?.name ?? id });
  return { options: items.map((b) => ({ value: b.id, label: name(b.id) })), name };
}
