import { useState } from "react";
import { Alert, Badge, Card, Group, Pagination, Select, Stack, Text } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { PageLoader } from "../../layout/AppLayout";
import { dateTime } from "../../lib/format";
import { accountApi, CONTEXTS, type TimelineContext } from "./api";
import { accountError } from "./errors";
import { timelineTitle } from "./timelineTitle";

const PAGE = 20;

/** Everything that happened on the account, newest first, filtered by where it happened. */
export function TimelineTab() {
  const { t } = useTranslation("account");
  const [context, setContext] = useState<TimelineContext | null>(null);
  const [page, setPage] = useState(1);
  const timeline = useQuery({
    queryKey: ["account", "timeline", context, page],
    queryFn: () => accountApi.timeline((page - 1) * PAGE, PAGE, context),
    placeholderData: keepPreviousData,
  });
  const pages = timeline.data ? Math.max(1, Math.ceil(timeline.data.total / PAGE)) : 1;
  return (
    <Stack gap="md">
      <Select
        label={t("timeline.context")}
        data={[
          { value: "all", label: t("timeline.all") },
          ...CONTEXTS.map((c) => ({ value: c, label: t(`timeline.contexts.${c}`) })),
        ]}
        value={context ?? "all"}
        onChange={(v) => {
          setContext(v && v !== "all" ? (v) : null);
          setPage(1);
        }}
        allowDeselect={false}
        maw={320}
      />
      {timeline.error && (
        <Alert color="red" role="alert">
          {accountError(t, timeline.error)}
        </Alert>
      )}
      {!timeline.data && !timeline.error && <PageLoader />}
      {timeline.data && timeline.data.items.length === 0 && <Text c="dimmed">{t("timeline.empty")}</Text>}
      <Stack gap="xs" component="ol" p={0} m={0} style={{ listStyle: "none" }} data-testid="timeline">
        {timeline.data?.items.map((entry) => (
          <Card key={entry.id} component="li" withBorder padding="sm">
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Text fw={500} style={{ flex: "1 1 220px", minWidth: 0, overflowWrap: "anywhere" }}>
                {timelineTitle(t, entry)}
              </Text>
              <Group gap="xs" wrap="nowrap">
                <Badge variant="light" size="sm">
                  {t(`timeline.contexts.${entry.context}`, { defaultValue: entry.context })}
                </Badge>
                <Text size="sm" c="dimmed">
                  {dateTime(entry.at)}
                </Text>
              </Group>
            </Group>
          </Card>
        ))}
      </Stack>
      {pages > 1 && (
        <Pagination
          total={pages}
          value={page}
          onChange={setPage}
          getControlProps={(control) => ({ "aria-label": t(`translation:transactions.page.${control}`) })}
          getItemProps={(value) => ({ "aria-label": t("translation:transactions.page.number", { page: value }) })}
        />
      )}
    </Stack>
  );
}
