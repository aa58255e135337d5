import { useState } from "react";
import { Alert, Button, Card, Group, Modal, Stack, Text, Textarea, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { IdempotentAction } from "../../../api/client";
import { areaError } from "../../../lib/areaError";
import { money } from "../../../lib/format";
import { repairsApi, type Repair } from "../api";

/** The quote waiting for the customer: approve it, or reject it (the device comes back unrepaired). */
export function QuoteBox({ repair, onDone }: { repair: Repair; onDone: (next: Repair, note: string) => void }) {
  const { t } = useTranslation("repairs");
  const [action] = useState(() => new IdempotentAction());
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState<"approve" | "reject" | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!repair.quote) return null;
  const amount = money(repair.quote.amount, repair.quote.currency ?? "VND");

  async function run(kind: "approve" | "reject") {
    setBusy(kind);
    setError(null);
    try {
      const next = await action.run({ kind, id: repair.id, reason }, (key) =>
        kind === "approve" ? repairsApi.approve(repair.id, key) : repairsApi.reject(repair.id, reason.trim(), key),
      );
      setRejecting(false);
      onDone(next, kind === "approve" ? t("approvedNote", { amount }) : t("rejectedNote"));
    } catch (err) {
      setError(areaError(t, "repairs", err));
    } finally {
      setBusy(null);
    }
  }

  return (
    <Card withBorder bg="orange.0" data-testid="quote">
      <Title order={3} size="h5" mb={4}>
        {t("quote")}
      </Title>
      <Group justify="space-between" align="baseline">
        <Text size="sm">{t("quoteAmount")}</Text>
        <Text fw={700} size="xl" className="money" data-testid="quote-amount">
          {amount}
        </Text>
      </Group>
      <Text size="sm" mt="xs">
        {t("quoteHelp")}
      </Text>
      {error && !rejecting && (
        <Alert color="red" role="alert" mt="sm">
          {error}
        </Alert>
      )}
      <Group mt="sm" gap="xs">
        <Button loading={busy === "approve"} disabled={busy !== null} onClick={() => void run("approve")}>
          {t("approve")}
        </Button>
        <Button variant="light" color="red" disabled={busy !== null} onClick={() => { setRejecting(true); }}>
          {t("reject")}
        </Button>
      </Group>
      <Modal opened={rejecting} onClose={() => { setRejecting(false); }} title={t("rejectTitle")} closeButtonProps={{ "aria-label": t("close") }}>
        <Stack>
          <Text size="sm">{t("rejectNote")}</Text>
          <Textarea label={t("rejectReason")} maxLength={1000} value={reason} onChange={(e) => { setReason(e.currentTarget.value); }} />
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => { setRejecting(false); }}>
              {t("cancel")}
            </Button>
            {/* red.9: white on red.8 is 4.51:1, which the dialog's fade-in takes below 4.5 (axe, CI) */}
            <Button color="red.9" loading={busy === "reject"} onClick={() => void run("reject")}>
              {t("rejectConfirm")}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Card>
  );
}
