import { Alert, Badge, Card, Group, Progress, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../../layout/AppLayout";
import { dateTime, money } from "../../lib/format";
import { accountApi, type Loyalty } from "./api";
import { accountError } from "./errors";

/** Points, money accumulated, the level and why it is this level. */
export function LoyaltyTab() {
  const { t } = useTranslation("account");
  const loyalty = useQuery({ queryKey: ["account", "loyalty"], queryFn: accountApi.loyalty });
  if (loyalty.error) {
    return (
      <Alert color="red" role="alert">
        {accountError(t, loyalty.error)}
      </Alert>
    );
  }
  if (!loyalty.data) return <PageLoader />;
  const data = loyalty.data;
  return (
    <Stack gap="lg">
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Figure label={t("loyalty.level")} value={data.level} testId="loyalty-level" />
        <Figure label={t("loyalty.points")} value={data.points.toLocaleString("vi-VN")} testId="loyalty-points" />
        <Figure label={t("loyalty.accumulated")} value={money(data.accumulated)} testId="loyalty-accumulated" />
      </SimpleGrid>
      <Card withBorder padding="lg" component="section" aria-labelledby="why-title">
        <Title order={3} size="h4" id="why-title" mb="sm">
          {t("loyalty.why")}
        </Title>
        <Why data={data} />
      </Card>
      {data.level_changes && data.level_changes.length > 0 && (
        <Card withBorder padding="lg" component="section" aria-labelledby="changes-title">
          <Title order={3} size="h4" id="changes-title" mb="sm">
            {t("loyalty.changes")}
          </Title>
          <Stack gap="xs">
            {data.level_changes.map((c) => (
              <Group key={`${c.at}-${c.to}`} justify="space-between" wrap="wrap" gap="xs">
                <Text size="sm">
                  {c.from ? t("loyalty.changedFromTo", { from: c.from, to: c.to }) : t("loyalty.changedTo", { to: c.to })}
                </Text>
                <Text size="sm" c="dimmed">
                  {dateTime(c.at)}
                </Text>
              </Group>
            ))}
          </Stack>
        </Card>
      )}
    </Stack>
  );
}

function Figure({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Card withBorder padding="md">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fw={700} fz="xl" data-testid={testId} className="money">
        {value}
      </Text>
    </Card>
  );
}

function Why({ data }: { data: Loyalty }) {
  const { t } = useTranslation("account");
  const thresholds = data.thresholds ?? [];
  return (
    <Stack gap="md">
      <Text data-testid="loyalty-why">
        {t("loyalty.because", { level: data.level, amount: money(data.accumulated) })}{" "}
        {data.next_level
          ? t("loyalty.toNext", { amount: money(data.to_next_level), level: data.next_level })
          : t("loyalty.top")}
      </Text>
      {data.next_level && (
        <Progress
          value={data.progress_percent}
          aria-label={t("loyalty.progress", { level: data.next_level })}
          size="lg"
        />
      )}
      {thresholds.length > 0 && (
        <Stack gap={4} component="ul" p={0} m={0} style={{ listStyle: "none" }}>
          {thresholds.map((level) => (
            <Group key={level.name} component="li" justify="space-between" wrap="nowrap" gap="xs">
              <Group gap="xs" wrap="nowrap">
                <Text size="sm" fw={level.name === data.level ? 700 : 400}>
                  {level.name}
                </Text>
                {level.name === data.level && (
                  <Badge size="sm" variant="light">
                    {t("loyalty.current")}
                  </Badge>
                )}
              </Group>
              <Text size="sm" className="money">
                {t("loyalty.from", { amount: money(level.min_accumulated) })}
              </Text>
            </Group>
          ))}
        </Stack>
      )}
      {data.because && data.because.length > 0 && (
        <>
          <Text fw={600} size="sm">
            {t("loyalty.becauseTitle")}
          </Text>
          <Stack gap={4} component="ul" p={0} m={0} style={{ listStyle: "none" }}>
            {data.because.map((row) => (
              <Group key={`${row.at}-${row.reference}`} component="li" justify="space-between" wrap="wrap" gap="xs">
                <Text size="sm">
                  {t(`loyalty.sources.${row.source}`, { defaultValue: row.source })} · {dateTime(row.at)}
                </Text>
                <Text size="sm" className="money">
                  +{money(row.delta)} → {money(row.total)}
                </Text>
              </Group>
            ))}
          </Stack>
        </>
      )}
    </Stack>
  );
}
