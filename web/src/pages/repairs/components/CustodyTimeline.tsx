import { Text, Timeline } from "@mantine/core";
import {
  IconArrowsExchange,
  IconCamera,
  IconCheck,
  IconClipboardList,
  IconPackage,
  IconPackageExport,
  IconReceipt,
  IconSearch,
  IconTool,
  IconX,
} from "@tabler/icons-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { dateTime, money } from "../../../lib/format";
import type { Custody } from "../api";
import { useBranches } from "./common";

const ICONS: Record<string, ReactNode> = {
  RepairRegistered: <IconClipboardList size={14} />,
  RepairReceived: <IconPackage size={14} />,
  RepairDiagnosisStarted: <IconSearch size={14} />,
  RepairQuoted: <IconReceipt size={14} />,
  RepairQuoteApproved: <IconCheck size={14} />,
  RepairQuoteRejected: <IconX size={14} />,
  RepairStarted: <IconTool size={14} />,
  RepairReady: <IconCheck size={14} />,
  RepairReturned: <IconPackageExport size={14} />,
  RepairCancelled: <IconX size={14} />,
  RepairTransferred: <IconArrowsExchange size={14} />,
  RepairPhotoAdded: <IconCamera size={14} />,
};

/** What one hand-over or step says beyond its name (who, where, how much, how it was sent). */
function details(entry: Custody, t: (key: string, options?: Record<string, unknown>) => string, branch: (id: string) => string): string[] {
  const lines = [t("atBranch", { branch: branch(entry.branch_id) })];
  if (entry.from_branch_id) lines.push(t("fromBranch", { branch: branch(entry.from_branch_id) }));
  if (entry.technician_id) lines.push(t("technician", { name: entry.technician_id }));
  if (entry.amount != null) lines.push(t("amount", { amount: money(entry.amount, entry.currency ?? "VND") }));
  if (entry.method) lines.push(t(`returnedBy.${entry.method}`, { defaultValue: entry.method }));
  if (entry.tracking_number) lines.push(t("tracking", { carrier: entry.carrier ?? "", number: entry.tracking_number }));
  if (entry.repaired === false) lines.push(t("notRepaired"));
  if (entry.condition && (entry.condition.checklist.length > 0 || entry.condition.notes)) {
    lines.push(t("conditionSeen", { items: [...entry.condition.checklist, entry.condition.notes].filter(Boolean).join(", ") }));
  }
  if (entry.reason) lines.push(t("reason", { reason: entry.reason }));
  return lines;
}

/** The chain of custody: every hand-over and step of the device, oldest first. */
export function CustodyTimeline({ custody }: { custody: Custody[] }) {
  const { t } = useTranslation("repairs");
  const branches = useBranches();
  return (
    <Timeline active={custody.length - 1} bulletSize={24} lineWidth={2} data-testid="custody" role="group" aria-label={t("custody")}>
      {custody.map((entry, i) => (
        <Timeline.Item
          key={`${entry.event}-${entry.at}-${i}`}
          bullet={ICONS[entry.event]}
          title={t(`events.${entry.event}`, { defaultValue: entry.event })}
          data-testid="custody-step"
        >
          <Text size="xs" c="gray.7">
            {dateTime(entry.at)}
          </Text>
          {details(entry, t, branches.name).map((line) => (
            <Text key={line} size="sm">
              {line}
            </Text>
          ))}
        </Timeline.Item>
      ))}
    </Timeline>
  );
}
