import { useState } from "react";
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  FileInput,
  Grid,
  Group,
  Paper,
  Select,
  Stack,
  Text,
  Textarea,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../../auth/AuthProvider";
import { PageLoader } from "../../../layout/AppLayout";
import { dateTime } from "../../../lib/format";
import { errorMessage } from "../../../lib/errors";
import { base64Of, saveFile } from "../../../pages/invoices/download";
import { PRIORITIES, STATUSES, ticketsApi, type Message, type Ticket, type TicketStatus } from "./api";
import { PriorityBadge, StatusBadge } from "./badges";

function Conversation({ ticket, messages }: { ticket: Ticket; messages: Message[] }) {
  const { t } = useTranslation("staff");
  return (
    <Stack gap="sm" aria-label={t("tickets.conversation")} role="list">
      {messages.map((m) => (
        <Paper
          key={m.id}
          role="listitem"
          withBorder
          p="sm"
          bg={m.internal ? "yellow.0" : m.author_kind === "staff" ? "blue.0" : undefined}
          style={m.internal ? { borderStyle: "dashed", borderColor: "var(--mantine-color-yellow-7)" } : undefined}
          data-testid={m.internal ? "internal-note" : "message"}
        >
          <Group justify="space-between" gap="xs" mb={4}>
            <Group gap="xs">
              <Text fw={600} size="sm">
                {m.author_kind === "staff" ? t("tickets.staffAuthor", { name: m.author }) : t("tickets.customerAuthor")}
              </Text>
              {m.internal && (
                <Badge color="yellow.9" variant="filled" size="sm">
                  {t("tickets.internal")}
                </Badge>
              )}
            </Group>
            <Text size="xs" c="gray.7">
              {dateTime(m.at)}
            </Text>
          </Group>
          <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
            {m.content}
          </Text>
          {m.attachments.length > 0 && (
            <Group gap="xs" mt="xs">
              {m.attachments.map((a) => (
                <Anchor
                  key={a.file_id}
                  component="button"
                  type="button"
                  size="sm"
                  onClick={() => void saveFile(ticketsApi.attachment(ticket.id, a.file_id), a.display_name)}
                >
                  📎 {a.display_name}
                </Anchor>
              ))}
            </Group>
          )}
        </Paper>
      ))}
    </Stack>
  );
}

function ReplyForm({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation("staff");
  const queryClient = useQueryClient();
  const [content, setContent] = useState("");
  const [internal, setInternal] = useState(false);
  const [thenStatus, setThenStatus] = useState<string | null>(null);
  const [files, setFiles] = useState<File[]>([]);
  const reply = useMutation({
    mutationFn: async () =>
      ticketsApi.reply(ticket.id, {
        content,
        internal,
        then_status: internal ? null : ((thenStatus as Exclude<TicketStatus, "closed"> | null) ?? null),
        attachments: await Promise.all(files.map(async (f) => ({ filename: f.name, content_base64: await base64Of(f) }))),
      }),
    onSuccess: async () => {
      setContent("");
      setFiles([]);
      setThenStatus(null);
      await queryClient.invalidateQueries({ queryKey: ["staff", "ticket", ticket.id] });
    },
  });
  return (
    <Card withBorder component="form" onSubmit={(e) => { e.preventDefault(); reply.mutate(); }}>
      <Stack gap="sm">
        <Title order={3} size="h5">
          {t("tickets.replyTitle")}
        </Title>
        <Textarea
          label={internal ? t("tickets.noteLabel") : t("tickets.replyLabel")}
          autosize
          minRows={3}
          required
          value={content}
          onChange={(e) => { setContent(e.currentTarget.value); }}
        />
        <Checkbox
          label={t("tickets.internalCheck")}
          checked={internal}
          onChange={(e) => { setInternal(e.currentTarget.checked); }}
        />
        <Group grow align="flex-start" wrap="wrap">
          <FileInput
            label={t("tickets.attachments")}
            multiple
            clearable
            clearButtonProps={{ "aria-label": t("tickets.clearFiles") }}
            accept="image/png,image/jpeg,application/pdf"
            value={files}
            onChange={setFiles}
          />
          {!internal && (
            <Select
              label={t("tickets.thenStatus")}
              placeholder={t("tickets.keepStatus")}
              clearable
              data={STATUSES.filter((s) => s !== "closed").map((s) => ({ value: s, label: t(`ticketStatus.${s}`) }))}
              value={thenStatus}
              onChange={setThenStatus}
            />
          )}
        </Group>
        {reply.isError && (
          <Alert color="red" role="alert">
            {errorMessage(t, reply.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={reply.isPending} color={internal ? "yellow.9" : undefined} disabled={!content.trim()}>
            {internal ? t("tickets.sendNote") : t("tickets.sendReply")}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function Clock({ label, due, at, breached, paused }: { label: string; due: unknown; at?: unknown; breached: boolean; paused: boolean }) {
  const { t } = useTranslation("staff");
  const when = (v: unknown) => (typeof v === "string" ? dateTime(v) : "—");
  return (
    <Group justify="space-between" gap="xs" wrap="nowrap">
      <Text size="sm">{label}</Text>
      <Text size="sm" fw={600} c={breached ? "red.9" : "gray.8"} ta="right">
        {at ? t("tickets.metAt", { at: when(at) }) : t("tickets.dueAt", { at: when(due) })}
        {breached && ` · ${t("tickets.breachedShort")}`}
        {paused && !at && ` · ${t("tickets.paused")}`}
      </Text>
    </Group>
  );
}

function Controls({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation("staff");
  const { profile } = useAuth();
  const queryClient = useQueryClient();
  const departments = useQuery({ queryKey: ["tickets", "departments"], queryFn: ticketsApi.departments, staleTime: 300_000 });
  const done = async () => {
    await queryClient.invalidateQueries({ queryKey: ["staff", "ticket", ticket.id] });
    await queryClient.invalidateQueries({ queryKey: ["staff", "tickets"] });
  };
  const change = useMutation({
    mutationFn: (action: () => Promise<unknown>) => action(),
    onSuccess: done,
  });
  return (
    <Card withBorder>
      <Stack gap="sm">
        <Select
          label={t("tickets.status")}
          data={STATUSES.map((s) => ({ value: s, label: t(`ticketStatus.${s}`) }))}
          value={ticket.status}
          allowDeselect={false}
          onChange={(v) => { if (v && v !== ticket.status) change.mutate(() => ticketsApi.status(ticket.id, v as TicketStatus)); }}
        />
        <Select
          label={t("tickets.priority")}
          data={PRIORITIES.map((p) => ({ value: p, label: t(`priority.${p}`) }))}
          value={ticket.priority}
          allowDeselect={false}
          onChange={(v) => { if (v && v !== ticket.priority) change.mutate(() => ticketsApi.priority(ticket.id, v)); }}
        />
        <Select
          label={t("tickets.department")}
          data={(departments.data?.items ?? []).map((d) => ({ value: d.id, label: d.name }))}
          value={ticket.department}
          allowDeselect={false}
          onChange={(v) => { if (v && v !== ticket.department) change.mutate(() => ticketsApi.assign(ticket.id, v, null)); }}
        />
        <Group justify="space-between" gap="xs">
          <Text size="sm">
            {ticket.agent_id
              ? ticket.agent_id === profile?.user_id
                ? t("tickets.assignedToMe")
                : t("tickets.assignedToOther")
              : t("tickets.unassigned")}
          </Text>
          {profile && ticket.agent_id !== profile.user_id && (
            <Button size="compact-sm" variant="light" onClick={() => { change.mutate(() => ticketsApi.assign(ticket.id, ticket.department, profile.user_id)); }}>
              {t("tickets.assignMe")}
            </Button>
          )}
        </Group>
        {change.isError && (
          <Alert color="red" role="alert">
            {errorMessage(t, change.error)}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

export default function TicketDetail() {
  const { t } = useTranslation("staff");
  const { ticketId = "" } = useParams();
  const ticket = useQuery({ queryKey: ["staff", "ticket", ticketId, "head"], queryFn: () => ticketsApi.get(ticketId) });
  const replies = useQuery({ queryKey: ["staff", "ticket", ticketId, "replies"], queryFn: () => ticketsApi.replies(ticketId) });
  if (ticket.isPending || replies.isPending) return <PageLoader />;
  if (ticket.isError || replies.isError)
    return (
      <Alert color="red" role="alert">
        {errorMessage(t, ticket.error ?? replies.error)}
      </Alert>
    );
  const tk = ticket.data;
  const { sla } = tk;
  return (
    <Stack>
      <Anchor component={Link} to="/staff/tickets" size="sm">
        ← {t("tickets.back")}
      </Anchor>
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={2}>
            {tk.ticket_number} · {tk.title}
          </Title>
          <Text size="sm" c="gray.7">
            {t("tickets.openedAt", { at: typeof tk.created_at === "string" ? dateTime(tk.created_at) : "—", type: tk.request_type })}
          </Text>
        </div>
        <Group gap="xs">
          <StatusBadge status={tk.status} />
          <PriorityBadge priority={tk.priority} />
        </Group>
      </Group>
      <Grid>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Stack>
            {/* The replies route leaves out the opening message (the ticket's first): it leads the conversation. */}
            <Conversation ticket={tk} messages={[...tk.messages.slice(0, 1), ...replies.data.items]} />
            {tk.status !== "closed" && <ReplyForm ticket={tk} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack>
            <Card withBorder data-testid="sla">
              <Title order={3} size="h5" mb="xs">
                {t("tickets.sla")}
              </Title>
              <Clock label={t("tickets.firstResponse")} due={sla.first_response_due} at={sla.first_response_at} breached={sla.first_response_breached} paused={sla.paused} />
              <Clock label={t("tickets.resolution")} due={sla.resolution_due} breached={sla.resolution_breached} paused={sla.paused} />
            </Card>
            <Controls ticket={tk} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
