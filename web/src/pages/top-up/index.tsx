import { useCallback, useEffect, useState } from "react";
import { Alert, Button, Card, Grid, Group, NumberInput, Radio, Stack, Text, ThemeIcon, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconCircleCheck } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ApiError, IdempotentAction } from "../../api/client";
import { walletApi, type PaymentMethod, type TopUp as TopUpAnswer } from "../../api/wallet";
import { CopyValue } from "../../components/CopyValue";
import { Money } from "../../components/Money";
import { QrImage } from "../../components/QrImage";
import { mmss, useCountdown } from "../../components/useCountdown";
import { money } from "../../lib/format";
import { errorMessage } from "../../lib/errors";
import { parseVietQr } from "../../lib/vietqr";

/** The wallet's defaults (wallet settings) until GET /api/v1/wallet answered. */
const LIMITS = { min_top_up: 10_000, max_top_up: 100_000_000 };
const PRESETS = [100_000, 500_000, 1_000_000, 5_000_000];

/** Seed 000 "Nạp tiền tài khoản": amount, method, then the transfer details and its status. */
export default function TopUp() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const wallet = useQuery({ queryKey: ["wallet"], queryFn: walletApi.wallet });
  const limits = wallet.data?.limits ?? LIMITS;
  // One per screen: a retried submit of the same amount and method reuses its key.
  const [action] = useState(() => new IdempotentAction());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [topUp, setTopUp] = useState<TopUpAnswer | null>(null);
  const settled = useCallback(() => {
    // Exact keys: a prefix would also refetch (and cancel) the status query itself.
    void queryClient.invalidateQueries({ queryKey: ["wallet"], exact: true });
    void queryClient.invalidateQueries({ queryKey: ["dashboard"], exact: true });
  }, [queryClient]);

  const form = useForm({
    initialValues: { amount: 500_000 as number | string, method: "bank_transfer" as PaymentMethod },
    validate: {
      amount: (value) => {
        const amount = Number(value);
        if (!Number.isInteger(amount) || amount <= 0) return t("topUp.amountInvalid");
        if (amount < limits.min_top_up) return t("topUp.amountMin", { min: money(limits.min_top_up) });
        if (amount > limits.max_top_up) return t("topUp.amountMax", { max: money(limits.max_top_up) });
        return null;
      },
    },
  });

  async function submit(values: typeof form.values) {
    setBusy(true);
    setError(null);
    const body = { amount: Number(values.amount), currency: "VND" as const, method: values.method };
    try {
      // The same key on every retry of this very request: the wallet charges it once.
      const answer = await action.run(body, (key) => walletApi.topUp(body, key));
      setTopUp(answer);
    } catch (err) {
      if (err instanceof ApiError && err.field() === "amount") form.setFieldError("amount", errorMessage(t, err));
      else setError(errorMessage(t, err));
    } finally {
      setBusy(false);
    }
  }

  if (topUp) {
    return (
      <Payment
        initial={topUp}
        onDone={settled}
        onAnother={() => {
          setTopUp(null);
        }}
      />
    );
  }

  return (
    <Stack gap="lg" maw={640}>
      <Title order={2}>{t("topUp.title")}</Title>
      <Card>
        <form onSubmit={form.onSubmit((values) => void submit(values))} noValidate>
          <Stack>
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <NumberInput
              label={t("topUp.amount")}
              description={t("topUp.limits", { min: money(limits.min_top_up), max: money(limits.max_top_up) })}
              thousandSeparator="."
              decimalSeparator=","
              allowDecimal={false}
              allowNegative={false}
              suffix=" ₫"
              min={limits.min_top_up}
              max={limits.max_top_up}
              step={50_000}
              clampBehavior="none"
              required
              {...form.getInputProps("amount")}
            />
            <Group gap="xs">
              {PRESETS.map((amount) => (
                <Button
                  key={amount}
                  size="xs"
                  variant="default"
                  onClick={() => {
                    form.setFieldValue("amount", amount);
                  }}
                >
                  {money(amount)}
                </Button>
              ))}
            </Group>
            <Radio.Group label={t("topUp.method")} required {...form.getInputProps("method")}>
              <Stack mt="xs" gap="xs">
                <Radio value="bank_transfer" label={t("topUp.methods.bank_transfer")} description={t("topUp.methods.bank_transfer_help")} />
                <Radio value="sandbox" label={t("topUp.methods.sandbox")} description={t("topUp.methods.sandbox_help")} />
              </Stack>
            </Radio.Group>
            <Button type="submit" loading={busy}>
              {t("topUp.submit")}
            </Button>
          </Stack>
        </form>
      </Card>
    </Stack>
  );
}

/** The instructions of one top-up, following its status until the money arrived. */
function Payment({ initial, onDone, onAnother }: { initial: TopUpAnswer; onDone: () => void; onAnother: () => void }) {
  const { t } = useTranslation();
  const status = useQuery({
    queryKey: ["wallet", "top-up", initial.id],
    queryFn: () => walletApi.topUpStatus(initial.id),
    initialData: initial,
    // Polled while pending: the page flips to "received" as soon as the webhook landed.
    refetchInterval: (q) => (q.state.data?.status === "pending" ? 2000 : false),
  });
  const topUp = status.data;
  const settled = topUp.status !== "pending";
  useEffect(() => {
    if (settled) onDone();
  }, [settled, onDone]);
  const left = useCountdown(topUp.payment.expires_at);
  const details = topUp.payment.qr_payload ? parseVietQr(topUp.payment.qr_payload) : null;

  if (topUp.status === "completed" || topUp.status === "held") {
    return (
      <Stack gap="lg" maw={640}>
        <Title order={2}>{t("topUp.title")}</Title>
        <Card>
          <Stack align="center" data-testid="top-up-status" data-status={topUp.status}>
            <ThemeIcon size={56} radius="xl" color={topUp.status === "completed" ? "teal" : "yellow"} variant="light">
              <IconCircleCheck size={36} />
            </ThemeIcon>
            <Title order={3}>{topUp.status === "completed" ? t("topUp.received") : t("topUp.held")}</Title>
            <Text>
              <Money amount={topUp.amount_received} currency={topUp.currency} />
            </Text>
            <Group>
              <Button component={Link} to="/">
                {t("nav.dashboard")}
              </Button>
              <Button variant="default" onClick={onAnother}>
                {t("topUp.another")}
              </Button>
            </Group>
          </Stack>
        </Card>
      </Stack>
    );
  }

  return (
    <Stack gap="lg">
      <Title order={2}>{t("topUp.title")}</Title>
      {topUp.status === "failed" && (
        <Alert color="red" role="alert">
          {t("topUp.failed")}
        </Alert>
      )}
      <Card>
        <Grid gap="xl">
          {topUp.payment.qr_payload && (
            <Grid.Col span={{ base: 12, sm: 5 }}>
              <Stack align="center" gap="xs">
                <QrImage payload={topUp.payment.qr_payload} alt={t("topUp.qrAlt")} />
                <Text size="sm" c="dimmed" ta="center">
                  {t("topUp.scan")}
                </Text>
              </Stack>
            </Grid.Col>
          )}
          <Grid.Col span={{ base: 12, sm: topUp.payment.qr_payload ? 7 : 12 }}>
            <Stack gap="sm" data-testid="top-up-status" data-status={topUp.status}>
              <Text fw={600} aria-live="polite">
                {topUp.status === "pending" && left > 0
                  ? t("topUp.waiting", { time: mmss(left) })
                  : topUp.status === "pending"
                    ? t("topUp.expired")
                    : null}
              </Text>
              {details && (
                <>
                  <CopyValue label={t("topUp.bank")} value={details.bank} />
                  <CopyValue label={t("topUp.account")} value={details.account} />
                </>
              )}
              <CopyValue label={t("topUp.amount")} value={String(topUp.amount)} display={money(topUp.amount, topUp.currency)} />
              <CopyValue label={t("topUp.memo")} value={topUp.payment.reference} />
              <Text size="sm" c="dimmed">
                {t("topUp.memoHelp")}
              </Text>
            </Stack>
          </Grid.Col>
        </Grid>
      </Card>
      <Group>
        <Button variant="default" onClick={onAnother}>
          {t("topUp.another")}
        </Button>
      </Group>
    </Stack>
  );
}
