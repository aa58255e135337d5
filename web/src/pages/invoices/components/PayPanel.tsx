import { useState } from "react";
import { Alert, Anchor, Button, Checkbox, Group, NumberInput, Radio, Stack, Text } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { IdempotentAction } from "../../../api/client";
import { money } from "../../../lib/format";
import { invoicesApi, type Invoice, type PayMethod, type PaymentRequest } from "../api";
import { billingError } from "../errors";
import { TransferQr } from "./TransferQr";

interface Props {
  invoice: Invoice;
  /** The invoice after the payment landed (paid in full or in part). */
  onPaid?: (invoice: Invoice) => void;
}

/** Pay what is due, or a part of it: from the wallet or by bank transfer (VietQR). */
export function PayPanel({ invoice, onPaid }: Props) {
  const { t } = useTranslation("invoices");
  const queryClient = useQueryClient();
  const [action] = useState(() => new IdempotentAction());
  const [method, setMethod] = useState<PayMethod>("wallet");
  const [part, setPart] = useState(false);
  const [amount, setAmount] = useState<number | string>("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [transfer, setTransfer] = useState<PaymentRequest | null>(null);
  const due = invoice.amount_due;

  // While a transfer is awaited the invoice is read again until the money has landed.
  useQuery({
    queryKey: ["invoice", invoice.id, "transfer"],
    queryFn: async () => {
      const fresh = await invoicesApi.get(invoice.id);
      if (fresh.paid > invoice.paid) {
        setTransfer(null);
        void queryClient.invalidateQueries({ queryKey: ["invoices"] });
        onPaid?.(fresh);
      }
      return fresh;
    },
    enabled: transfer !== null,
    refetchInterval: 2_000,
  });

  const partAmount = typeof amount === "number" ? amount : NaN;
  const amountError =
    part && !(Number.isInteger(partAmount) && partAmount >= 1 && partAmount <= due)
      ? t("amountRange", { max: money(due, invoice.currency) })
      : null;

  async function submit() {
    if (amountError) return;
    setBusy(true);
    setError(null);
    try {
      const body = part ? { method, amount: partAmount } : { method };
      const answer = await invoicesApi.pay(action, invoice.id, body);
      void queryClient.invalidateQueries({ queryKey: ["invoices"] });
      void queryClient.invalidateQueries({ queryKey: ["invoice", invoice.id] });
      if (answer.payment_request) setTransfer(answer.payment_request);
      else onPaid?.(answer);
    } catch (err) {
      setError(billingError(t, err));
    } finally {
      setBusy(false);
    }
  }

  if (transfer) return <TransferQr request={transfer} />;

  return (
    <Stack gap="sm">
      <Text>
        {t("amountDue")}:{" "}
        <Text span fw={700} className="money" data-testid="amount-due">
          {money(due, invoice.currency)}
        </Text>
      </Text>
      <Radio.Group label={t("method")} value={method} onChange={(v) => { setMethod(v); }}>
        <Stack gap={6} mt={6}>
          <Radio value="wallet" label={t("methodWallet")} />
          <Radio value="bank_transfer" label={t("methodTransfer")} />
        </Stack>
      </Radio.Group>
      <Checkbox label={t("payPart")} checked={part} onChange={(e) => { setPart(e.currentTarget.checked); }} />
      {part && (
        <NumberInput
          label={t("partAmount")}
          value={amount}
          onChange={setAmount}
          min={1}
          max={due}
          step={10_000}
          thousandSeparator="."
          decimalSeparator=","
          allowDecimal={false}
          allowNegative={false}
          suffix=" ₫"
          error={amount !== "" ? amountError : null}
        />
      )}
      {error && (
        <Alert color="red" role="alert">
          {error}{" "}
          {error === t("errors.insufficient_balance") && (
            <Anchor component={Link} to="/top-up">
              {t("topUpLink")}
            </Anchor>
          )}
        </Alert>
      )}
      <Group justify="flex-end">
        <Button onClick={() => void submit()} loading={busy} disabled={part && amountError !== null}>
          {t("payNow")}
        </Button>
      </Group>
    </Stack>
  );
}
