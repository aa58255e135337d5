import { useState } from "react";
import { Alert, Button, Card, Group, Pagination, Select, Skeleton, Stack, Text, Title } from "@mantine/core";
import { DatePickerInput } from "@mantine/dates";
import "@mantine/dates/styles.css";
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { walletApi, type TransactionFilter } from "../../api/wallet";
import { Money } from "../../components/Money";
import { dayjs, endOfDay, timeZone } from "../../lib/format";
import { errorMessage } from "../../lib/errors";
import { TransactionsTable } from "./TransactionsTable";

const PAGE = 20;
type Kind = NonNullable<TransactionFilter["kind"]>;
const KINDS: Kind[] = ["credit", "debit", "held"];

function startOfDay(day: string): string {
  return dayjs.tz(day, timeZone()).startOf("day").toISOString();
}

/** The wallet's history (seed 000 "Quản lý giao dịch"): filters and pages live in the URL. */
export default function Transactions() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  const kindParam = params.get("kind");
  const kind = KINDS.find((k) => k === kindParam);
  const from = params.get("from");
  const to = params.get("to");
  const [balanceDay, setBalanceDay] = useState<string | null>(null);

  const filter: TransactionFilter = {
    limit: PAGE,
    offset: (page - 1) * PAGE,
    ...(kind ? { kind } : {}),
    ...(from ? { from: startOfDay(from) } : {}),
    ...(to ? { to: endOfDay(to) } : {}),
  };
  const query = useQuery({
    queryKey: ["wallet", "transactions", filter],
    queryFn: () => walletApi.transactions(filter),
    placeholderData: keepPreviousData,
  });
  const balance = useMutation({ mutationFn: (day: string) => walletApi.balanceAt(endOfDay(day)) });

  function update(changes: Record<string, string | null>) {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    if (!("page" in changes)) next.delete("page");
    setParams(next, { replace: true });
  }

  const pages = query.data ? Math.max(1, Math.ceil(query.data.total / PAGE)) : 1;
  const today = dayjs().tz(timeZone()).format("YYYY-MM-DD");

  return (
    <Stack gap="lg">
      <Title order={2}>{t("transactions.title")}</Title>
      <Card>
        <Group align="flex-end" wrap="wrap">
          <Select
            label={t("transactions.kind")}
            data={[
              { value: "", label: t("transactions.all") },
              ...KINDS.map((k) => ({ value: k, label: t(`transactions.kinds.${k}`) })),
            ]}
            value={kind ?? ""}
            onChange={(value) => {
              update({ kind: value || null });
            }}
            allowDeselect={false}
            w={180}
          />
          <DatePickerInput
            label={t("transactions.from")}
            value={from}
            onChange={(value) => {
              update({ from: value });
            }}
            valueFormat="DD/MM/YYYY"
            maxDate={to ?? today}
            clearable
            w={170}
          />
          <DatePickerInput
            label={t("transactions.to")}
            value={to}
            onChange={(value) => {
              update({ to: value });
            }}
            valueFormat="DD/MM/YYYY"
            minDate={from ?? undefined}
            maxDate={today}
            clearable
            w={170}
          />
        </Group>
      </Card>

      <Card>
        {query.isPending ? (
          <Skeleton h={240} />
        ) : query.isError ? (
          <Alert color="red" role="alert">
            {errorMessage(t, query.error)}
          </Alert>
        ) : (
          <Stack>
            <Text size="sm" c="dimmed">
              {t("transactions.count", { count: query.data.total })}
            </Text>
            <TransactionsTable rows={query.data.items} />
            {pages > 1 && (
              <Pagination
                total={pages}
                value={page}
                onChange={(value) => {
                  update({ page: String(value) });
                }}
                getControlProps={(control) => ({ "aria-label": t(`transactions.page.${control}`) })}
                getItemProps={(value) => ({ "aria-label": t("transactions.page.number", { page: value }) })}
              />
            )}
          </Stack>
        )}
      </Card>

      <Card>
        <Title order={3} size="h4" mb="sm">
          {t("transactions.balanceAtTitle")}
        </Title>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (balanceDay) balance.mutate(balanceDay);
          }}
        >
          <Group align="flex-end" wrap="wrap">
            <DatePickerInput
              label={t("transactions.balanceAtDay")}
              value={balanceDay}
              onChange={setBalanceDay}
              valueFormat="DD/MM/YYYY"
              maxDate={today}
              w={200}
            />
            <Button type="submit" disabled={!balanceDay} loading={balance.isPending}>
              {t("transactions.balanceAtShow")}
            </Button>
          </Group>
        </form>
        {balance.data && (
          <Text mt="md" data-testid="balance-at" aria-live="polite">
            {t("transactions.balanceAtResult", { day: dayjs(balanceDay).format("DD/MM/YYYY") })}{" "}
            <b>
              <Money amount={balance.data.balance} currency={balance.data.currency} />
            </b>
          </Text>
        )}
        {balance.isError && (
          <Alert mt="md" color="red" role="alert">
            {errorMessage(t, balance.error)}
          </Alert>
        )}
      </Card>
    </Stack>
  );
}
