import { useState, type SyntheticEvent } from "react";
import { Alert, Button, Card, Code, CopyButton, Group, List, PasswordInput, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../auth/AuthProvider";
import { CopyValue } from "../../components/CopyValue";
import { QrImage } from "../../components/QrImage";
import { accountApi, type TwoFactorSetup } from "./api";
import { accountError } from "./errors";
import { SessionsCard } from "./SessionsCard";

const MIN_PASSWORD = 8;

/** Password change, two-factor sign-in and my sign-in sessions. */
export function SecurityTab() {
  return (
    <Stack gap="lg">
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        <PasswordCard />
        <TwoFactorCard />
      </SimpleGrid>
      <SessionsCard />
    </Stack>
  );
}

function PasswordCard() {
  const { t } = useTranslation("account");
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [errors, setErrors] = useState<{ current?: string; next?: string; form?: string }>({});
  const [done, setDone] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: SyntheticEvent) {
    e.preventDefault();
    setDone(null);
    if (!current || next.length < MIN_PASSWORD) {
      setErrors({
        current: current ? undefined : t("password.currentRequired"),
        next: next.length < MIN_PASSWORD ? t("errors.password_too_short") : undefined,
      });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const answer = await accountApi.changePassword(current, next);
      setDone(answer.other_sessions_revoked);
      setCurrent("");
      setNext("");
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      const message = accountError(t, err);
      if (code === "current_password_wrong") setErrors({ current: message });
      else if (code.startsWith("password_")) setErrors({ next: message });
      else setErrors({ form: message });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="password-title">
      <Title order={3} size="h4" id="password-title" mb="sm">
        {t("password.title")}
      </Title>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <PasswordInput
            label={t("password.current")}
            autoComplete="current-password"
            value={current}
            onChange={(e) => { setCurrent(e.currentTarget.value); }}
            error={errors.current}
          />
          <PasswordInput
            label={t("password.new")}
            description={t("password.hint")}
            autoComplete="new-password"
            value={next}
            onChange={(e) => { setNext(e.currentTarget.value); }}
            error={errors.next}
          />
          {errors.form && (
            <Alert color="red" role="alert">
              {errors.form}
            </Alert>
          )}
          {done !== null && (
            <Alert color="green" role="status">
              {t("password.changed", { count: done })}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button type="submit" loading={busy}>
              {t("password.submit")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function TwoFactorCard() {
  const { t } = useTranslation("account");
  const { profile, reloadProfile } = useAuth();
  const [setup, setSetup] = useState<TwoFactorSetup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [codeError, setCodeError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(step: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setCodeError(null);
    try {
      await step();
    } catch (err) {
      const message = accountError(t, err);
      if ((err as { code?: string }).code === "invalid_code") setCodeError(message);
      else setError(message);
    } finally {
      setBusy(false);
    }
  }

  const start = () => run(async () => { setSetup(await accountApi.startTwoFactor()); });
  const confirm = (e: SyntheticEvent) => {
    e.preventDefault();
    if (!/^\d{6}$/.test(code.trim())) {
      setCodeError(t("twoFactor.codeFormat"));
      return;
    }
    void run(async () => {
      const answer = await accountApi.confirmTwoFactor(code.trim());
      setCodes(answer.recovery_codes);
      setSetup(null);
      setCode("");
      await reloadProfile();
    });
  };
  const disable = (e: SyntheticEvent) => {
    e.preventDefault();
    void run(async () => {
      await accountApi.disableTwoFactor(password, code.trim());
      setPassword("");
      setCode("");
      await reloadProfile();
    });
  };

  const failure = error && (
    <Alert color="red" role="alert">
      {error}
    </Alert>
  );

  let body;
  if (codes) {
    body = (
      <Stack gap="sm" data-testid="recovery-codes">
        <Alert color="green" role="status">
          {t("twoFactor.enabled")}
        </Alert>
        <Text size="sm">{t("twoFactor.codesHint")}</Text>
        <List spacing={4} listStyleType="none" ff="monospace">
          {codes.map((c) => (
            <List.Item key={c}>
              <Code fz="md">{c}</Code>
            </List.Item>
          ))}
        </List>
        <Group justify="space-between">
          <CopyButton value={codes.join("\n")}>
            {({ copied, copy }) => (
              <Button variant="light" onClick={copy}>
                {copied ? t("twoFactor.copied") : t("twoFactor.copyCodes")}
              </Button>
            )}
          </CopyButton>
          <Button onClick={() => { setCodes(null); }}>{t("twoFactor.savedCodes")}</Button>
        </Group>
      </Stack>
    );
  } else if (setup) {
    body = (
      <form onSubmit={confirm} noValidate>
        <Stack gap="sm">
          <Text size="sm">{t("twoFactor.scan")}</Text>
          <QrImage payload={setup.otpauth_uri} alt={t("twoFactor.qrAlt")} size={200} />
          <CopyValue label={t("twoFactor.secret")} value={setup.secret} />
          <TextInput
            label={t("twoFactor.code")}
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={6}
            value={code}
            onChange={(e) => { setCode(e.currentTarget.value); }}
            error={codeError}
          />
          {failure}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => { setSetup(null); }}>
              {t("cancel")}
            </Button>
            <Button type="submit" loading={busy}>
              {t("twoFactor.confirm")}
            </Button>
          </Group>
        </Stack>
      </form>
    );
  } else if (profile?.two_factor) {
    body = (
      <form onSubmit={disable} noValidate>
        <Stack gap="sm">
          <Alert color="green">{t("twoFactor.on")}</Alert>
          <PasswordInput
            label={t("password.current")}
            autoComplete="current-password"
            value={password}
            onChange={(e) => { setPassword(e.currentTarget.value); }}
          />
          <TextInput
            label={t("twoFactor.codeOrRecovery")}
            autoComplete="one-time-code"
            value={code}
            onChange={(e) => { setCode(e.currentTarget.value); }}
            error={codeError}
          />
          {failure}
          <Group justify="flex-end">
            <Button color="red" variant="light" type="submit" loading={busy} disabled={!password || code.trim().length < 6}>
              {t("twoFactor.disable")}
            </Button>
          </Group>
        </Stack>
      </form>
    );
  } else {
    body = (
      <Stack gap="sm" align="flex-start">
        <Text size="sm">{t("twoFactor.off")}</Text>
        {failure}
        <Button onClick={() => void start()} loading={busy}>
          {t("twoFactor.start")}
        </Button>
      </Stack>
    );
  }

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="twofactor-title">
      <Title order={3} size="h4" id="twofactor-title" mb="sm">
        {t("twoFactor.title")}
      </Title>
      {body}
    </Card>
  );
}
