import { useState } from "react";
import { Alert, Button, FileInput, Group, Modal, NumberInput, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ApiError, IdempotentAction } from "../../../api/client";
import { dateTime } from "../../../lib/format";
import { invoicesApi, type Claim, type ClaimBody, type Invoice } from "../api";
import { base64Of } from "../download";
import { billingError } from "../errors";

/** The API's limit for a proof file (billing MAX_PROOF_BYTES). */
const MAX_PROOF = 10 * 1024 * 1024;
/** Mantine's description colour (dimmed) is below 4.5:1 on white; gray.7 is not. */
const READABLE = { description: { color: "var(--mantine-color-gray-7)" } };

/** "I paid but got no confirmation": a claim with the transfer's reference and a proof. */
export function ClaimDialog({ invoice, onClose }: { invoice: Invoice; onClose: () => void }) {
  const { t } = useTranslation("invoices");
  const queryClient = useQueryClient();
  const [action] = useState(() => new IdempotentAction());
  const [filed, setFiled] = useState<Claim | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useForm<{ reference: string; amount: number | string; paid_on: string; proof: File | null }>({
    initialValues: { reference: "", amount: invoice.amount_due, paid_on: "", proof: null },
    validate: {
      reference: (v) => (v.trim().length >= 3 && v.trim().length <= 100 ? null : t("referenceInvalid")),
      amount: (v) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? null : t("amountInvalid")),
      proof: (f) => (f && f.size > MAX_PROOF ? t("errors.file_too_large") : null),
    },
  });

  async function submit(values: typeof form.values) {
    setBusy(true);
    setError(null);
    try {
      const body: ClaimBody = { reference: values.reference.trim(), amount: Number(values.amount) };
      if (values.paid_on) body.paid_on = values.paid_on;
      if (values.proof) body.proof = { filename: values.proof.name, content_base64: await base64Of(values.proof) };
      setFiled(await invoicesApi.claim(action, invoice.id, body));
      void queryClient.invalidateQueries({ queryKey: ["invoice", invoice.id] });
      void queryClient.invalidateQueries({ queryKey: ["claims"] });
    } catch (err) {
      const field = err instanceof ApiError ? err.field() : undefined;
      if (field && field in form.values) form.setFieldError(field, billingError(t, err));
      else setError(billingError(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal opened onClose={onClose} closeButtonProps={{ "aria-label": t("close") }} title={t("claimTitle")} size="lg">
      {filed ? (
        <Stack>
          <Alert color="green" role="status" title={t("claimFiled")}>
            {t("claimPromise", { due: dateTime(filed.review_due_at) })}
          </Alert>
          <Group justify="flex-end">
            <Button onClick={onClose}>{t("done")}</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={form.onSubmit((v) => void submit(v))} noValidate>
          <Stack>
            <Text size="sm">{t("claimHelp")}</Text>
            <TextInput label={t("reference")} description={t("referenceHelp")} styles={READABLE} required {...form.getInputProps("reference")} />
            <NumberInput
              label={t("amount")}
              required
              min={1}
              thousandSeparator="."
              decimalSeparator=","
              allowDecimal={false}
              allowNegative={false}
              suffix=" ₫"
              {...form.getInputProps("amount")}
            />
            <TextInput type="date" label={t("paidOn")} {...form.getInputProps("paid_on")} />
            <FileInput
              label={t("proof")}
              description={t("proofHelp")}
              styles={READABLE}
              accept="image/png,image/jpeg,application/pdf"
              clearable
              clearButtonProps={{ "aria-label": t("clearFile") }}
              {...form.getInputProps("proof")}
            />
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                {t("back")}
              </Button>
              <Button type="submit" loading={busy}>
                {t("claimSend")}
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
