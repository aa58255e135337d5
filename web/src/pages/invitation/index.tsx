import { useState } from "react";
import { Alert, Button, Card, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useNavigate, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { authApi } from "../../auth/api";
import { useAuth } from "../../auth/AuthProvider";
import { accountApi } from "../account/api";
import { accountError } from "../account/errors";

/** Identity's rules (passwords.py): at least 8 characters, 5 different ones. */
const PASSWORD_MIN = 8;
/** Codes that end the invitation: the form cannot help, the inviter must send a new one. */
const GONE = new Set(["invitation_expired", "invitation_used", "invitation_not_found", "invalid_token"]);

/** The mailed invitation link: the invited person chooses a name and a password and is in. */
export default function AcceptInvitation() {
  const { t } = useTranslation("account");
  const { token = "" } = useParams();
  const { signedIn } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [gone, setGone] = useState(false);
  const [busy, setBusy] = useState(false);
  const form = useForm({
    initialValues: { name: "", password: "" },
    validate: {
      name: (v) => (v.trim() ? null : t("invitation.nameRequired")),
      password: (v) =>
        v.length < PASSWORD_MIN
          ? t("errors.password_too_short")
          : new Set(v.toLowerCase()).size < 5
            ? t("errors.password_too_weak")
            : null,
    },
  });

  async function submit(values: typeof form.values) {
    setBusy(true);
    setError(null);
    try {
      const user = await accountApi.acceptInvitation(token, values.name.trim(), values.password);
      const answer = await authApi.login(user.email, values.password);
      if ("mfa_required" in answer) {
        void navigate("/login", { replace: true });
        return;
      }
      await signedIn(answer);
      void navigate("/", { replace: true });
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "";
      if (code.startsWith("password_")) form.setFieldError("password", accountError(t, err));
      else {
        setGone(GONE.has(code));
        setError(accountError(t, err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card>
      <form onSubmit={form.onSubmit((values) => void submit(values))} noValidate>
        <Stack>
          <Title order={2}>{t("invitation.title")}</Title>
          <Text size="sm">{t("invitation.intro")}</Text>
          {error && (
            <Alert color="red" role="alert">
              {error} {gone && t("invitation.askAgain")}
            </Alert>
          )}
          <TextInput label={t("invitation.name")} autoComplete="name" required maxLength={200} {...form.getInputProps("name")} />
          <PasswordInput
            label={t("invitation.password")}
            description={t("password.hint")}
            autoComplete="new-password"
            required
            maxLength={256}
            {...form.getInputProps("password")}
          />
          <Button type="submit" loading={busy} fullWidth disabled={gone}>
            {t("invitation.submit")}
          </Button>
        </Stack>
      </form>
    </Card>
  );
}
