import { useState } from "react";
import { Alert, Anchor, Button, Card, Group, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { authApi } from "../../auth/api";
import { useAuth } from "../../auth/AuthProvider";
import { errorMessage } from "../../lib/errors";

export default function SignIn() {
  const { t } = useTranslation();
  const { signedIn } = useAuth();
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const form = useForm({
    initialValues: { email: "", password: "" },
    validate: {
      email: (v) => (/^\S+@\S+\.\S+$/.test(v.trim()) ? null : t("auth.emailInvalid")),
      password: (v) => (v.length >= 1 ? null : t("auth.passwordRequired")),
    },
  });
  const [code, setCode] = useState("");

  async function submit(values: typeof form.values) {
    setBusy(true);
    setError(null);
    try {
      const answer = await authApi.login(values.email.trim(), values.password);
      if ("mfa_required" in answer) setMfaToken(answer.mfa_token);
      else await signedIn(answer);
    } catch (err) {
      setError(errorMessage(t, err));
    } finally {
      setBusy(false);
    }
  }

  async function submitCode() {
    if (!mfaToken) return;
    setBusy(true);
    setError(null);
    try {
      await signedIn(await authApi.secondFactor(mfaToken, code.trim()));
    } catch (err) {
      setError(errorMessage(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card>
      <Stack>
        <Title order={2}>{t("auth.signInTitle")}</Title>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        {mfaToken === null ? (
          <form onSubmit={form.onSubmit((values) => void submit(values))} noValidate>
            <Stack>
              <TextInput label={t("auth.email")} type="email" autoComplete="username" required {...form.getInputProps("email")} />
              <PasswordInput label={t("auth.password")} autoComplete="current-password" required {...form.getInputProps("password")} />
              <Button type="submit" loading={busy} fullWidth>
                {t("auth.signIn")}
              </Button>
            </Stack>
          </form>
        ) : (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void submitCode();
            }}
          >
            <Stack>
              <Text>{t("auth.mfaHelp")}</Text>
              <TextInput
                label={t("auth.mfaCode")}
                value={code}
                onChange={(event) => {
                  setCode(event.currentTarget.value);
                }}
                autoComplete="one-time-code"
                inputMode="text"
                maxLength={20}
                required
              />
              <Button type="submit" loading={busy} disabled={code.trim().length < 6} fullWidth>
                {t("auth.verify")}
              </Button>
            </Stack>
          </form>
        )}
        <Group justify="space-between">
          <Anchor component={Link} to="/login/qr">
            {t("auth.withQr")}
          </Anchor>
          <Anchor component={Link} to="/register">
            {t("auth.registerLink")}
          </Anchor>
          <Anchor component={Link} to="/forgot-password">
            {t("auth.forgotLink")}
          </Anchor>
        </Group>
      </Stack>
    </Card>
  );
}

