import { useState } from "react";
import { Alert, Anchor, Button, Card, PasswordInput, Radio, Group, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { authApi, type RegisterBody } from "../../auth/api";
import { useAuth } from "../../auth/AuthProvider";
import { errorMessage } from "../../lib/errors";

/** Identity's rules (passwords.py): at least 8 characters, at most 256, 5 different ones. */
const PASSWORD_MIN = 8;

const FIELD_OF_CODE: Record<string, "email" | "password" | "name"> = {
  password_too_short: "password",
  password_too_long: "password",
  password_too_common: "password",
  password_too_weak: "password",
};

export default function Register() {
  const { t } = useTranslation();
  const { signedIn } = useAuth();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useForm({
    initialValues: { kind: "organisation" as NonNullable<RegisterBody["kind"]>, account_name: "", name: "", email: "", password: "" },
    validate: {
      account_name: (v, values) =>
        values.kind === "organisation" && v.trim().length === 0 ? t("register.accountNameRequired") : null,
      name: (v) => (v.trim().length === 0 ? t("register.nameRequired") : v.length > 200 ? t("register.tooLong") : null),
      email: (v) => (/^\S+@\S+\.\S+$/.test(v.trim()) && v.length <= 254 ? null : t("auth.emailInvalid")),
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
    const body: RegisterBody = {
      kind: values.kind,
      name: values.name.trim(),
      email: values.email.trim(),
      password: values.password,
      account_name: values.kind === "organisation" ? values.account_name.trim() : null,
    };
    try {
      await authApi.register(body);
      const answer = await authApi.login(body.email, body.password);
      if ("mfa_required" in answer) throw new Error("unexpected second factor");
      await signedIn(answer);
    } catch (err) {
      const field = err instanceof ApiError ? (FIELD_OF_CODE[err.code] ?? err.field()) : undefined;
      if (field && field in form.values) form.setFieldError(field, errorMessage(t, err));
      else setError(errorMessage(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card>
      <form onSubmit={form.onSubmit((values) => void submit(values))} noValidate>
        <Stack>
          <Title order={2}>{t("register.title")}</Title>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Radio.Group label={t("register.kind")} {...form.getInputProps("kind")}>
            <Group mt="xs">
              <Radio value="organisation" label={t("register.organisation")} />
              <Radio value="person" label={t("register.person")} />
            </Group>
          </Radio.Group>
          {form.values.kind === "organisation" && (
            <TextInput label={t("register.accountName")} required maxLength={200} {...form.getInputProps("account_name")} />
          )}
          <TextInput
            label={form.values.kind === "organisation" ? t("register.contactName") : t("register.fullName")}
            autoComplete="name"
            required
            maxLength={200}
            {...form.getInputProps("name")}
          />
          <TextInput label={t("auth.email")} type="email" autoComplete="email" required {...form.getInputProps("email")} />
          <PasswordInput
            label={t("auth.password")}
            description={t("register.passwordHint")}
            autoComplete="new-password"
            required
            maxLength={256}
            {...form.getInputProps("password")}
          />
          <Button type="submit" loading={busy} fullWidth>
            {t("register.submit")}
          </Button>
          <Text size="sm">
            {t("register.haveAccount")}{" "}
            <Anchor component={Link} to="/login">
              {t("auth.signIn")}
            </Anchor>
          </Text>
        </Stack>
      </form>
    </Card>
  );
}
