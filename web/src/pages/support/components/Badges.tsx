import { Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";
import type { Priority, TicketRow, TicketStatus } from "../api";

const STATUS_COLOURS: Partial<Record<string, string>> & Record<TicketStatus, string> = {
  open: "blue",
  in_progress: "cyan",
  waiting_for_customer: "orange",
  resolved: "green",
  closed: "gray",
};
const PRIORITY_COLOURS: Partial<Record<string, string>> & Record<Priority, string> = { low: "gray", normal: "blue", high: "orange", urgent: "red" };

export type Stage = "received" | "processing" | "waiting" | "done";

/**
 * The process stage of the seed 004 list ("process stage"): a coarser view of the status, where an
 * open ticket nobody has taken yet is still being received.
 */
export function stageOf(ticket: Pick<TicketRow, "status" | "agent_id">): Stage {
  switch (ticket.status) {
    case "open":
      return ticket.agent_id ? "processing" : "received";
    case "in_progress":
      return "processing";
    case "waiting_for_customer":
      return "waiting";
    default:
      return "done";
  }
}

// Dark text on the light badges keeps the contrast above 4.5:1 (axe).
export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation("support");
  return (
    <Badge color={STATUS_COLOURS[status] ?? "gray"} variant="light" c="dark.7">
      {t(`status.${status}`, { defaultValue: status })}
    </Badge>
  );
}

export function PriorityBadge({ priority }: { priority: string }) {
  const { t } = useTranslation("support");
  return (
    <Badge color={PRIORITY_COLOURS[priority] ?? "gray"} variant="outline" c="dark.7">
      {t(`priorities.${priority}`, { defaultValue: priority })}
    </Badge>
  );
}
