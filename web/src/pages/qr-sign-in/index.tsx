import { useEffect, useState } from "react";
import { Alert, Anchor, Button, Card, Center, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { authApi } from "../../auth/api";
import { useAuth } from "../../auth/AuthProvider";
import { QrImage } from "../../components/QrImage";
import { mmss, useCountdown } from "../../components/useCountdown";
import { errorMessage } from "../../lib/errors";

/**
 * Sign in by QR (seed 000): the page shows the code, the signed-in app scans and approves it,
 * and this page lands signed in without a reload. The challenge is long-polled (10 s a call).
 */
export default function QrSignIn() {
  const { t } = useTranslation();
  const { signedIn } = useAuth();
  const [attempt, setAttempt] = useState(0);
  const challenge = useQuery({
    queryKey: ["qr-challenge", attempt],
    queryFn: authApi.startQr,
    staleTime: Infinity,
    gcTime: 0,
    retry: false,
  });
  const fresh = challenge.data;
  const left = useCountdown(fresh?.expires_at);
  const status = useQuery({
    queryKey: ["qr-status", fresh?.id],
    queryFn: () => (fresh ? authApi.pollQr(fresh.id, fresh.poll_token, 10) : Promise.reject(new Error("no challenge"))),
    enabled: fresh !== undefined,
    gcTime: 0,
    retry: 2,
    // Each answer comes back within 10 s (long polling): ask again at once while pending.
    refetchInterval: (query) => {
      const state = query.state.data?.status;
      return state === undefined || state === "pending" || state === "approved" ? 1 : false;
    },
    refetchIntervalInBackground: true,
  });
  const answer = status.data;
  useEffect(() => {
    if (answer && "access_token" in answer) void signedIn(answer);
  }, [answer, signedIn]);

  const expired =
    (answer !== undefined && ["expired", "rejected"].includes(answer.status)) || (fresh !== undefined && left === 0);
  const failure = challenge.error ?? status.error;

  return (
    <Card>
      <Stack align="center">
        <Title order={2}>{t("qr.title")}</Title>
        <Text ta="center">{t("qr.help")}</Text>
        {fresh && !expired && (
          <>
            <Center>
              <QrImage payload={fresh.qr_payload} alt={t("qr.alt")} />
            </Center>
            <Text size="sm" c="dimmed" aria-live="polite">
              {t("qr.expiresIn", { time: mmss(left) })}
            </Text>
          </>
        )}
        {expired && <Alert color="yellow">{t("qr.expired")}</Alert>}
        {failure && (
          <Alert color="red" role="alert">
            {errorMessage(t, failure)}
          </Alert>
        )}
        {(expired || failure) && (
          <Button
            onClick={() => {
              setAttempt((n) => n + 1);
            }}
          >
            {t("qr.newCode")}
          </Button>
        )}
        <Anchor component={Link} to="/login">
          {t("qr.withPassword")}
        </Anchor>
      </Stack>
    </Card>
  );
}
