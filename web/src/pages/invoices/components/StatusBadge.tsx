import { Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";
import type { Claim, InvoiceStatus } from "../api";

const INVOICE_COLOURS: Record<InvoiceStatus, string> = {
  unpaid: "orange",
  partially_paid: "yellow",
  paid: "green",
  cancelled: "gray",
};
const CLAIM_COLOURS: Record<Claim["status"], string> = {
  under_review: "blue",
  approved: "green",
  rejected: "red",
};

export function InvoiceStatusBadge({ status }: { status: InvoiceStatus }) {
  const { t } = useTranslation("invoices");
  // Dark text on the light badge keeps the contrast above 4.5:1 (axe).
  return (
    <Badge color={INVOICE_COLOURS[status]} variant="light" c="dark.7">
      {t(`status.${status}`)}
    </Badge>
  );
}

export function ClaimStatusBadge({ status }: { status: Claim["status"] }) {
  const { t } = useTranslation("invoices");
  return (
    <Badge color={CLAIM_COLOURS[status]} variant="light" c="dark.7">
      {t(`claimStatus.${status}`)}
    </Badge>
  );
}
