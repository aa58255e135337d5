import { useState } from "react";
import { Alert, Badge, Button, Card, Group, Stack, Text, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { dateTime } from "../../lib/format";
import { accountApi, type Session } from "./api";
import { accountError } from "./errors";

const KEY = ["account", "sessions"];

/** My sign-ins: sign one out, or every one but this browser's. */
export function SessionsCard() {
  const { t } = useTranslation("account");
  const queryClient = useQueryClient();
  const sessions = useQuery({ queryKey: KEY, queryFn: accountApi.sessions });
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const others = sessions.data?.items.filter((s) => !s.current).length ?? 0;

  async function run(which: string, step: () => Promise<string>) {
    setBusy(which);
    setError(null);
    setNotice(null);
    try {
      setNotice(await step());
    } catch (err) {
      setError(accountError(t, err));
    } finally {
      setBusy(null);
      void queryClient.invalidateQueries({ queryKey: KEY });
    }
  }

  const endOne = (session: Session) =>
    run(session.id, async () => {
      await accountApi.endSession(session.id);
      return t("sessions.signedOut");
    });
  const endOthers = () =>
    run("others", async () => {
      const answer = await accountApi.endOtherSessions();
      return t("sessions.endedOthers", { count: answer.sessions_ended });
    });

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="sessions-title">
      <Title order={3} size="h4" id="sessions-title" mb={4}>
        {t("sessions.title")}
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        {t("sessions.hint")}
      </Text>
      {sessions.error && (
        <Alert color="red" role="alert">
          {accountError(t, sessions.error)}
        </Alert>
      )}
      <Stack gap={0} data-testid="sessions">
        {sessions.data?.items.map((session) => (
          <SessionRow
            key={session.id}
            session={session}
            busy={busy === session.id}
            onEnd={() => void endOne(session)}
          />
        ))}
      </Stack>
      {notice && (
        <Alert color="green" role="status" mt="sm">
          {notice}
        </Alert>
      )}
      {error && (
        <Alert color="red" role="alert" mt="sm">
          {error}
        </Alert>
      )}
      <Group justify="flex-end" mt="sm">
        {sessions.data && others === 0 ? (
          <Text size="sm" c="dimmed">
            {t("sessions.noOthers")}
          </Text>
        ) : (
          <Button color="red" variant="light" loading={busy === "others"} onClick={() => void endOthers()}>
            {t("sessions.signOutOthers")}
          </Button>
        )}
      </Group>
    </Card>
  );
}

function SessionRow({ session, busy, onEnd }: { session: Session; busy: boolean; onEnd: () => void }) {
  const { t } = useTranslation("account");
  const device = session.device ?? t("sessions.unknownDevice");
  const details = [
    session.ip_address ? t("sessions.address", { ip: session.ip_address }) : null,
    t("sessions.signedIn", { date: dateTime(session.signed_in_at) }),
    t("sessions.lastUsed", { date: dateTime(session.last_used_at) }),
  ].filter(Boolean);
  return (
    <Group
      justify="space-between"
      py="sm"
      wrap="wrap"
      gap="sm"
      style={{ borderBottom: "1px solid var(--mantine-color-gray-3)" }}
      data-testid={`session-${session.id}`}
    >
      <Stack gap={2} miw={0} style={{ flex: "1 1 240px" }}>
        <Group gap="xs" wrap="wrap">
          <Text fw={600}>
            {device}
            {session.method === "qr" && (
              <Text span c="dimmed" fw={400}>
                {" "}
                ({t("sessions.viaQr")})
              </Text>
            )}
          </Text>
          {session.current && (
            <Badge color="green" variant="light">
              {t("sessions.current")}
            </Badge>
          )}
        </Group>
        <Text size="sm" c="dimmed">
          {details.join(" · ")}
        </Text>
      </Stack>
      {!session.current && (
        <Button
          variant="default"
          size="xs"
          loading={busy}
          onClick={onEnd}
          aria-label={t("sessions.signOutOf", { device, date: dateTime(session.signed_in_at) })}
        >
          {t("sessions.signOut")}
        </Button>
      )}
    </Group>
  );
}
