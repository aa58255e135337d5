import { useState } from "react";
import { Alert, Button, Group, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { authApi } from "../auth/api";
import { useAuth } from "../auth/AuthProvider";

/** Until the address is confirmed the API refuses payments, invitations and an email
 * change (`email_unverified`): say so on every page, with a way to get the link again. */
export function VerifyEmailBanner() {
  const { t } = useTranslation("access");
  const { profile } = useAuth();
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!profile || profile.email_verified) return null;

  async function resend() {
    setBusy(true);
    try {
      await authApi.resendVerification();
      setSent(true);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Alert color="yellow" mb="md" title={t("banner.title")} data-testid="verify-email-banner">
      <Group justify="space-between" gap="sm">
        <Text size="sm">{sent ? t("banner.sent", { email: profile.email }) : t("banner.body", { email: profile.email })}</Text>
        {!sent && (
          <Button size="xs" variant="white" color="dark" loading={busy} onClick={() => void resend()}>
            {t("banner.resend")}
          </Button>
        )}
      </Group>
    </Alert>
  );
}
