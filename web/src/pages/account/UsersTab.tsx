import { useState, type SyntheticEvent } from "react";
import { Alert, Badge, Button, Card, Group, Modal, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../auth/AuthProvider";
import { date } from "../../lib/format";
import { accountApi, type AccountUser, type InvitableRole, type Role } from "./api";
import { accountError } from "./errors";

const ROLES: Role[] = ["owner", "admin", "staff"];
const INVITABLE: InvitableRole[] = ["admin", "staff"];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The account's users: invite one, change a role, remove one (after a confirmation). */
export function UsersTab() {
  const { t } = useTranslation("account");
  const users = useQuery({ queryKey: ["account", "users"], queryFn: accountApi.users });
  return (
    <Stack gap="lg">
      <InviteCard />
      <Card withBorder padding="lg" component="section" aria-labelledby="users-title">
        <Title order={3} size="h4" id="users-title" mb="sm">
          {t("users.title")}
        </Title>
        {users.error && (
          <Alert color="red" role="alert">
            {accountError(t, users.error)}
          </Alert>
        )}
        <Stack gap={0} data-testid="users">
          {users.data?.items.map((user) => <UserRow key={user.user_id} user={user} />)}
        </Stack>
      </Card>
    </Stack>
  );
}

function InviteCard() {
  const { t } = useTranslation("account");
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<InvitableRole>("staff");
  const [emailError, setEmailError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState<{ email: string; expires_at: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function invite(e: SyntheticEvent) {
    e.preventDefault();
    setSent(null);
    setError(null);
    if (!EMAIL.test(email.trim())) {
      setEmailError(t("users.emailInvalid"));
      return;
    }
    setEmailError(null);
    setBusy(true);
    try {
      const answer = await accountApi.invite(email.trim(), role);
      setSent(answer);
      setEmail("");
      void queryClient.invalidateQueries({ queryKey: ["account", "users"] });
    } catch (err) {
      const message = accountError(t, err);
      if (["user_exists", "email_taken"].includes((err as { code?: string }).code ?? "")) setEmailError(message);
      else setError(message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="invite-title">
      <Title order={3} size="h4" id="invite-title" mb="sm">
        {t("users.invite")}
      </Title>
      <form onSubmit={(e) => void invite(e)} noValidate>
        <Group align="flex-start" gap="sm" wrap="wrap">
          <TextInput
            label={t("users.email")}
            type="email"
            value={email}
            onChange={(e) => { setEmail(e.currentTarget.value); }}
            error={emailError}
            style={{ flex: "1 1 240px" }}
          />
          <Select
            label={t("users.role")}
            data={INVITABLE.map((r) => ({ value: r, label: t(`roles.${r}`) }))}
            value={role}
            onChange={(v) => { if (v) setRole(v); }}
            allowDeselect={false}
            style={{ flex: "0 1 180px" }}
          />
          <Button type="submit" loading={busy} mt={25}>
            {t("users.send")}
          </Button>
        </Group>
        {sent && (
          <Alert color="green" role="status" mt="sm">
            {t("users.sent", { email: sent.email, date: date(sent.expires_at) })}
          </Alert>
        )}
        {error && (
          <Alert color="red" role="alert" mt="sm">
            {error}
          </Alert>
        )}
      </form>
    </Card>
  );
}

function UserRow({ user }: { user: AccountUser }) {
  const { t } = useTranslation("account");
  const { profile } = useAuth();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const active = user.status === "active";
  const me = user.user_id === profile?.user_id;
  const removable = !me && user.role !== "owner";

  async function change(role: string | null) {
    if (!role || role === user.role) return;
    setBusy(true);
    setError(null);
    try {
      await accountApi.changeRole(user.user_id, role as Role);
      void queryClient.invalidateQueries({ queryKey: ["account", "users"] });
    } catch (err) {
      setError(accountError(t, err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await accountApi.removeUser(user.user_id);
      setConfirming(false);
      notifications.show({ color: "green", message: t("remove.done", { email: user.email }) });
      void queryClient.invalidateQueries({ queryKey: ["account", "users"] });
    } catch (err) {
      setConfirming(false);
      setError(accountError(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Group
      justify="space-between"
      py="sm"
      wrap="wrap"
      gap="sm"
      style={{ borderBottom: "1px solid var(--mantine-color-gray-3)" }}
      data-testid={`user-${user.email}`}
    >
      <Stack gap={2} miw={0} style={{ flex: "1 1 220px" }}>
        <Text fw={600} truncate>
          {"name" in user ? user.name : user.email}
          {me && (
            <Text span c="dimmed" fw={400}>
              {" "}
              ({t("users.you")})
            </Text>
          )}
        </Text>
        <Text size="sm" c="dimmed" truncate>
          {user.email}
        </Text>
      </Stack>
      <Badge color={active ? "green" : "yellow"} variant="light">
        {t(`users.status.${user.status}`)}
      </Badge>
      {active && !me ? (
        <Select
          aria-label={t("users.roleOf", { email: user.email })}
          data={ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))}
          value={user.role}
          onChange={(v) => void change(v)}
          allowDeselect={false}
          disabled={busy}
          w={160}
        />
      ) : (
        <Text w={160} size="sm">
          {t(`roles.${user.role}`, { defaultValue: user.role })}
        </Text>
      )}
      {removable && (
        <Button
          variant="default"
          size="xs"
          onClick={() => { setConfirming(true); }}
          aria-label={t("remove.label", { email: user.email })}
        >
          {t("remove.button")}
        </Button>
      )}
      <Modal
        opened={confirming}
        onClose={() => { setConfirming(false); }}
        closeButtonProps={{ "aria-label": t("cancel") }}
        title={t("remove.title")}
        centered
      >
        <Stack gap="md">
          <Text size="sm">
            {t(active ? "remove.confirm" : "remove.invitedConfirm", { email: user.email })}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => { setConfirming(false); }}>
              {t("cancel")}
            </Button>
            <Button color="red" loading={busy} onClick={() => void remove()}>
              {t("remove.yes")}
            </Button>
          </Group>
        </Stack>
      </Modal>
      {error && (
        <Alert color="red" role="alert" w="100%">
          {error}
        </Alert>
      )}
    </Group>
  );
}
