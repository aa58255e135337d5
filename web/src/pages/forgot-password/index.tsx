import { useState } from "react";
import { Alert, Anchor, Button, Card, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { authApi } from "../../auth/api";

/** "Forgot password": the answer never says whether the address has an account. */
export default function ForgotPassword() {
  const { t } = useTranslation("access");
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useForm({
    initialValues: { email: "" },
    validate: { email: (v) => (/^\S+@\S+\.\S+$/.test(v.trim()) ? null : t("emailInvalid")) },
  });

  async function submit(values: typeof form.values) {
    setBusy(true);
    setError(null);
    try {
      await authApi.forgotPassword(values.email.trim());
      setSent(true);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 429 ? t("tooMany") : t("failed"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card>
      <Stack>
        <Title order={2}>{t("forgot.title")}</Title>
        {sent ? (
          <Alert color="teal" role="status">
            {t("forgot.sent")}
          </Alert>
        ) : (
          <form onSubmit={form.onSubmit((values) => void submit(values))} noValidate>
            <Stack>
              <Text size="sm">{t("forgot.intro")}</Text>
              {error && (
                <Alert color="red" role="alert">
                  {error}
                </Alert>
              )}
              <TextInput label={t("email")} type="email" autoComplete="email" required {...form.getInputProps("email")} />
              <Button type="submit" loading={busy} fullWidth>
                {t("forgot.submit")}
              </Button>
            </Stack>
          </form>
        )}
        <Anchor component={Link} to="/login" size="sm">
          {t("backToSignIn")}
        </Anchor>
      </Stack>
    </Card>
  );
}
