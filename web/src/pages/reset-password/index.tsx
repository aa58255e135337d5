import { Alert, Anchor, Button, Card, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { Link, useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { authApi } from "../../auth/api";
import { useAuth } from "../../auth/AuthProvider";
import { useSubmit } from "../../lib/useSubmit";

/** Identity's rules (passwords.py): at least 8 characters, 5 different ones. */
const PASSWORD_MIN = 8;

/** The mailed reset link: a new password, once; every session of the user ends. */
export default function ResetPassword() {
  const { t } = useTranslation("access");
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const { status, signOut } = useAuth();
  const form = useForm({
    initialValues: { password: "", again: "" },
    validate: {
      password: (v) =>
        v.length < PASSWORD_MIN ? t("passwordTooShort") : new Set(v.toLowerCase()).size < 5 ? t("passwordTooWeak") : null,
      again: (v, values) => (v === values.password ? null : t("reset.mismatch")),
    },
  });

  const { busy, done, error, submit } = useSubmit(
    async (values: typeof form.values) => {
      await authApi.resetPassword(token, values.password);
      // Every session ended with the reset, this browser's too.
      if (status === "signed-in") await signOut();
    },
    (err) => {
      const code = err instanceof ApiError ? err.code : "";
      if (code === "password_too_short" || code === "password_too_weak" || code === "password_breached") {
        form.setFieldError("password", t(`errors.${code}`));
        return null;
      }
      return t(code === "invalid_token" || code.startsWith("reset_") ? "reset.linkGone" : "failed");
    },
  );

  return (
    <Card>
      <Stack>
        <Title order={2}>{t("reset.title")}</Title>
        {done ? (
          <Alert color="teal" role="status">
            {t("reset.done")}
          </Alert>
        ) : !token ? (
          <Alert color="red" role="alert">
            {t("reset.linkGone")}
          </Alert>
        ) : (
          <form onSubmit={form.onSubmit(submit)} noValidate>
            <Stack>
              <Text size="sm">{t("reset.intro")}</Text>
              {error && (
                <Alert color="red" role="alert">
                  {error}{" "}
                  <Anchor component={Link} to="/forgot-password">
                    {t("reset.askAgain")}
                  </Anchor>
                </Alert>
              )}
              <PasswordInput
                label={t("reset.password")}
                description={t("passwordHint")}
                autoComplete="new-password"
                required
                maxLength={256}
                {...form.getInputProps("password")}
              />
              <PasswordInput label={t("reset.again")} autoComplete="new-password" required maxLength={256} {...form.getInputProps("again")} />
              <Button type="submit" loading={busy} fullWidth>
                {t("reset.submit")}
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
