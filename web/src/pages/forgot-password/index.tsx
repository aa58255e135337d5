import { Alert, Anchor, Button, Card, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { authApi } from "../../auth/api";
import { useSubmit } from "../../lib/useSubmit";

/** "Forgot password": the answer never says whether the address has an account. */
export default function ForgotPassword() {
  const { t } = useTranslation("access");
  const form = useForm({
    initialValues: { email: "" },
    validate: { email: (v) => (/^\S+@\S+\.\S+$/.test(v.trim()) ? null : t("emailInvalid")) },
  });

  const { busy, done: sent, error, submit } = useSubmit(
    (values: typeof form.values) => authApi.forgotPassword(values.email.trim()),
    (err) => (err instanceof ApiError && err.status === 429 ? t("tooMany") : t("failed")),
  );

  return (
    <Card>
      <Stack>
        <Title order={2}>{t("forgot.title")}</Title>
        {sent ? (
          <Alert color="teal" role="status">
            {t("forgot.sent")}
          </Alert>
        ) : (
          <form onSubmit={form.onSubmit(submit)} noValidate>
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
