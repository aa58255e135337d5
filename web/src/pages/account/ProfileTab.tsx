import { useEffect, useState } from "react";
import { Alert, Avatar, Button, Card, FileInput, Group, Select, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useSubmit } from "../../lib/useSubmit";
import { useAuth } from "../../auth/AuthProvider";
import { setLanguage, type Language } from "../../i18n";
import { DEFAULT_TIME_ZONE, timeZone } from "../../lib/format";
import { accountApi, LOGO_TYPES } from "./api";
import { accountError } from "./errors";

/** Every IANA zone this browser knows (identity checks the name again); Chromium lists some
 * by older names (Asia/Saigon), so the default's current name is added. */
const ZONES = [...new Set([DEFAULT_TIME_ZONE, ...Intl.supportedValuesOf("timeZone")])].sort();
const MANAGERS = new Set(["owner", "admin"]);
const PHONE = /^\+?[0-9 ().-]{6,30}$/;
const LOGO_MAX_BYTES = 1024 * 1024; // identity refuses more (MAX_LOGO_BYTES)

interface Values {
  name: string;
  phone: string;
  address: string;
  language: Language;
}

/** Name, phone, address and language; the organisation's logo; the account's time zone. */
export function ProfileTab() {
  const { t } = useTranslation("account");
  const { profile, reloadProfile } = useAuth();
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useForm<Values>({
    initialValues: {
      name: profile?.name ?? "",
      phone: profile?.phone ?? "",
      address: profile?.address ?? "",
      language: profile?.language === "en" ? "en" : "vi",
    },
    validate: {
      name: (v) => (v.trim() ? null : t("profile.nameRequired")),
      phone: (v) => (v.trim() === "" || PHONE.test(v.trim()) ? null : t("profile.phoneInvalid")),
    },
  });

  async function save(values: Values) {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await accountApi.updateProfile({
        name: values.name.trim(),
        // An emptied field is cleared (null), as the API reads it.
        phone: values.phone.trim() || null,
        address: values.address.trim() || null,
        language: values.language,
      });
      setLanguage(values.language);
      await reloadProfile();
      setSaved(true);
    } catch (err) {
      setError(accountError(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
      <Card withBorder padding="lg" component="section" aria-labelledby="profile-title">
        <Title order={3} size="h4" id="profile-title" mb="sm">
          {t("profile.title")}
        </Title>
        <form onSubmit={form.onSubmit((v) => void save(v))} noValidate>
          <Stack gap="sm">
            <TextInput label={t("profile.email")} value={profile?.email ?? ""} readOnly variant="filled" />
            <TextInput label={t("profile.name")} required {...form.getInputProps("name")} />
            <TextInput label={t("profile.phone")} type="tel" autoComplete="tel" {...form.getInputProps("phone")} />
            <TextInput label={t("profile.address")} autoComplete="street-address" {...form.getInputProps("address")} />
            <Select
              label={t("profile.language")}
              data={[
                { value: "vi", label: "Tiếng Việt" },
                { value: "en", label: "English" },
              ]}
              allowDeselect={false}
              {...form.getInputProps("language")}
            />
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            {saved && (
              <Alert color="green" role="status">
                {t("profile.saved")}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button type="submit" loading={busy}>
                {t("profile.save")}
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <Stack gap="lg">
        <LogoCard />
        <TimeZoneCard />
      </Stack>
    </SimpleGrid>
  );
}

/** The account's time zone: every date its users see is in it (owner or admin sets it). */
function TimeZoneCard() {
  const { t } = useTranslation("account");
  const { profile, reloadProfile } = useAuth();
  const [zone, setZone] = useState(profile?.time_zone ?? timeZone());
  const manages = MANAGERS.has(profile?.role ?? "");
  const { busy, done: saved, error, submit } = useSubmit(
    async (next: string) => {
      await accountApi.setTimeZone(next);
      await reloadProfile();
    },
    (err) => accountError(t, err),
  );

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="zone-title">
      <Title order={3} size="h4" id="zone-title" mb="sm">
        {t("zone.title")}
      </Title>
      <Stack gap="sm">
        <Select
          label={t("zone.label")}
          description={manages ? t("zone.hint") : t("zone.readOnly")}
          data={ZONES.includes(zone) ? ZONES : [zone, ...ZONES]}
          value={zone}
          onChange={(v) => { if (v) setZone(v); }}
          allowDeselect={false}
          searchable
          disabled={!manages}
          error={error}
        />
        {saved && (
          <Alert color="green" role="status">
            {t("zone.saved")}
          </Alert>
        )}
        {manages && (
          <Group justify="flex-end">
            <Button onClick={() => { submit(zone); }} loading={busy} disabled={zone === profile?.time_zone}>
              {t("zone.save")}
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

function LogoCard() {
  const { t } = useTranslation("account");
  const { profile, reloadProfile } = useAuth();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const logo = useQuery({
    queryKey: ["account", "logo", profile?.logo_url ?? null],
    queryFn: accountApi.logo,
    enabled: Boolean(profile?.logo_url),
  });
  const url = logo.data ?? null;
  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);

  async function upload(file: File | null) {
    if (!file) return;
    setError(null);
    if (!(LOGO_TYPES as readonly string[]).includes(file.type)) {
      setError(t("errors.unsupported_file_type"));
      return;
    }
    if (file.size > LOGO_MAX_BYTES) {
      setError(t("errors.file_too_large"));
      return;
    }
    setBusy(true);
    try {
      await accountApi.uploadLogo(file);
      await reloadProfile();
      void queryClient.invalidateQueries({ queryKey: ["account", "logo"] });
    } catch (err) {
      setError(accountError(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="logo-title">
      <Title order={3} size="h4" id="logo-title" mb="sm">
        {t("logo.title")}
      </Title>
      <Stack gap="sm" align="flex-start">
        <Avatar src={url} size={96} radius="md" alt={t("logo.alt")} data-testid="logo">
          {profile?.name.slice(0, 1).toUpperCase()}
        </Avatar>
        <Text size="sm" c="dimmed">
          {t("logo.hint")}
        </Text>
        <FileInput
          label={t("logo.choose")}
          placeholder={t("logo.placeholder")}
          // Mantine draws this placeholder as text in gray.5: below AA contrast on white.
          styles={{ placeholder: { color: "var(--mantine-color-dimmed)" } }}
          accept={LOGO_TYPES.join(",")}
          onChange={(f) => void upload(f)}
          disabled={busy}
          clearable={false}
          w="100%"
        />
        {error && (
          <Alert color="red" role="alert" w="100%">
            {error}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}
