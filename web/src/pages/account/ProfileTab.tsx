import { useEffect, useState } from "react";
import { Alert, Avatar, Button, Card, FileInput, Group, Select, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../auth/AuthProvider";
import { setLanguage, type Language } from "../../i18n";
import { saveTimeZone, timeZone } from "../../lib/format";
import { accountApi, LOGO_TYPES } from "./api";
import { accountError } from "./errors";

const ZONES = ["Asia/Ho_Chi_Minh", "Asia/Bangkok", "Asia/Singapore", "Asia/Tokyo", "Europe/London", "America/New_York", "UTC"];
const PHONE = /^\+?[0-9 ().-]{6,30}$/;
const LOGO_MAX_BYTES = 1024 * 1024; // identity refuses more (MAX_LOGO_BYTES)

interface Values {
  name: string;
  phone: string;
  address: string;
  language: Language;
  timeZone: string;
}

/** Name, phone, address, language and time zone; the organisation's logo. */
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
      timeZone: timeZone(),
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
      saveTimeZone(values.timeZone);
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
            <Select
              label={t("profile.timeZone")}
              description={t("profile.timeZoneHint")}
              data={ZONES}
              allowDeselect={false}
              searchable
              {...form.getInputProps("timeZone")}
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
      <LogoCard />
    </SimpleGrid>
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
