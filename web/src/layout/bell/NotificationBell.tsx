import { useEffect, useState } from "react";
import { ActionIcon, Button, Group, Indicator, Popover, ScrollArea, Stack, Text, UnstyledButton } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { IconBell } from "@tabler/icons-react";
import { listen, type StreamPath } from "../../api/live";
import { dateTime } from "../../lib/format";
import { BELL_KEY, bellApi, type BellEntry } from "./api";

/**
 * The header's bell: the unread count and the newest messages, each opening what it is about.
 * It is read again whenever the live stream says the user's bell changed (a new message, or
 * messages marked read in another tab): no polling of its own.
 */
export function NotificationBell({ stream }: { stream: StreamPath }) {
  const { t } = useTranslation("notifications");
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [opened, setOpened] = useState(false);
  const query = useQuery({ queryKey: BELL_KEY, queryFn: bellApi.list });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: BELL_KEY });

  useEffect(() => listen(stream, "notifications", () => void queryClient.invalidateQueries({ queryKey: BELL_KEY })), [stream, queryClient]);

  const markRead = useMutation({ mutationFn: bellApi.markRead, onSettled: refresh });
  const markAll = useMutation({ mutationFn: bellApi.markAllRead, onSettled: refresh });
  const unread = query.data?.unread ?? 0;
  const items = query.data?.items ?? [];

  function open(entry: BellEntry) {
    if (!entry.read) markRead.mutate(entry.id);
    setOpened(false);
    if (entry.link) void navigate(entry.link);
  }

  return (
    // No fade: the list is read (and checked by axe) as soon as it opens.
    <Popover opened={opened} onChange={setOpened} position="bottom-end" width="min(380px, calc(100vw - 16px))" shadow="md" withArrow trapFocus transitionProps={{ duration: 0 }}>
      {/* The target is the button itself (it gets the popup's aria attributes); the count sits on it. */}
      <Indicator label={unread > 99 ? "99+" : unread} size={18} color="red" disabled={unread === 0} offset={4} data-testid="bell-count" data-count={unread}>
        <Popover.Target>
          <ActionIcon
            variant="subtle"
            color="gray"
            size="lg"
            onClick={() => {
              setOpened((o) => !o);
            }}
            aria-label={t("unread", { count: unread })}
            data-testid="bell"
          >
            <IconBell size={22} stroke={1.6} aria-hidden />
          </ActionIcon>
        </Popover.Target>
      </Indicator>
      <Popover.Dropdown p={0} aria-label={t("label")} role="dialog">
        <Group justify="space-between" px="sm" py="xs" wrap="nowrap">
          <Text fw={600}>{t("label")}</Text>
          <Button size="compact-xs" variant="subtle" disabled={unread === 0} loading={markAll.isPending} onClick={() => { markAll.mutate(); }}>
            {t("markAll")}
          </Button>
        </Group>
        <ScrollArea.Autosize mah={420}>
          {query.isError && (
            <Text size="sm" c="red.8" px="sm" pb="sm" role="alert">
              {t("error")}
            </Text>
          )}
          {query.isSuccess && items.length === 0 && (
            <Text size="sm" c="gray.7" px="sm" pb="sm">
              {t("empty")}
            </Text>
          )}
          <Stack gap={0} component="ul" m={0} p={0} style={{ listStyle: "none" }}>
            {items.map((entry) => (
              <li key={entry.id}>
                <UnstyledButton
                  onClick={() => { open(entry); }}
                  px="sm"
                  py="xs"
                  w="100%"
                  bg={entry.read ? undefined : "blue.0"}
                  style={{ borderTop: "1px solid var(--mantine-color-gray-2)" }}
                  data-testid="bell-entry"
                  data-read={entry.read}
                >
                  <Text size="sm" fw={entry.read ? 400 : 700} lineClamp={2}>
                    {entry.title}
                  </Text>
                  <Text size="xs" c="gray.7">
                    {dateTime(entry.created_at)}
                    {!entry.read && ` · ${t("new")}`}
                  </Text>
                </UnstyledButton>
              </li>
            ))}
          </Stack>
        </ScrollArea.Autosize>
      </Popover.Dropdown>
    </Popover>
  );
}
