import { Badge, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

const STATUS_COLOR: Record<string, string> = {
  open: "blue.8",
  in_progress: "indigo.8",
  waiting_for_customer: "yellow.9",
  resolved: "teal.9",
  closed: "gray.7",
};
const PRIORITY_COLOR: Record<string, string> = { low: "gray.7", normal: "blue.8", high: "orange.9", urgent: "red.9" };

export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation("staff");
  return (
    <Badge color={STATUS_COLOR[status] ?? "gray.7"} variant="light">
      {t(`ticketStatus.${status}`, { defaultValue: status })}
    </Badge>
  );
}

export function PriorityBadge({ priority }: { priority: string }) {
  const { t } = useTranslation("staff");
  return (
    <Badge color={PRIORITY_COLOR[priority] ?? "gray.7"} variant="light">
      {t(`priority.${priority}`, { defaultValue: priority })}
    </Badge>
  );
}

/** Which clocks a ticket broke (first response, resolution), or a quiet "on time". */
export function SlaBadge({ breached }: { breached: string[] }) {
  const { t } = useTranslation("staff");
  if (breached.length === 0)
    return (
      <Text size="sm" c="gray.7">
        {t("tickets.onTime")}
      </Text>
    );
  return (
    <>
      {breached.map((target) => (
        <Badge key={target} color="red.9" variant="filled" mr={4}>
          {t(`tickets.breached.${target}`, { defaultValue: target })}
        </Badge>
      ))}
    </>
  );
}
