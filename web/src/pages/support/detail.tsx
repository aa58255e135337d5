import { useState } from "react";
import {
  Alert,
  Button,
  Card,
  Grid,
  Group,
  Paper,
  Rating,
  Stack,
  Text,
  Textarea,
  Title,
} from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useLocation, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { IdempotentAction } from "../../api/client";
import { BackLink } from "../../components/BackLink";
import { PageLoader } from "../../layout/AppLayout";
import { areaError, problemField } from "../../lib/areaError";
import { dateTime } from "../../lib/format";
import { ticketsApi, type Message, type Ticket } from "./api";
import { AttachmentList } from "./components/AttachmentList";
import { PriorityBadge, StatusBadge, stageOf } from "./components/Badges";
import { useDepartments } from "./components/Departments";
import { FilePicker, checkFiles, filesBody } from "./components/FilePicker";

/** How often an open conversation looks for new replies (the staff answer appears by itself). */
const POLL_MS = 10_000;
const FILE_CODES = ["file_type_mismatch", "file_too_large", "invalid_file_name", "unsupported_file_type", "too_many_files", "payload_too_large"];

function MessageCard({ ticketId, message }: { ticketId: string; message: Message }) {
  const { t } = useTranslation("support");
  const mine = message.author_kind === "customer";
  return (
    <Paper
      component="li"
      withBorder
      p="sm"
      radius="md"
      bg={mine ? "white" : "blue.0"}
      ml={mine ? { base: 0, sm: "xl" } : 0}
      mr={mine ? 0 : { base: 0, sm: "xl" }}
      data-testid={`message-${message.author_kind}`}
    >
      <Group justify="space-between" gap="xs" mb={4}>
        <Text fw={600} size="sm">
          {mine ? t("you") : t("staff")}
        </Text>
        <Text size="xs" c="gray.7">
          {dateTime(message.at)}
        </Text>
      </Group>
      {message.content && (
        <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
          {message.content}
        </Text>
      )}
      <AttachmentList ticketId={ticketId} files={message.attachments} />
    </Paper>
  );
}

/** Reply (or reopen a resolved ticket: a customer reply within 7 days reopens it). */
function ReplyBox({ ticket, onDone }: { ticket: Ticket; onDone: (next: Ticket, reopened: boolean) => void }) {
  const { t } = useTranslation("support");
  const reopening = ticket.status === "resolved";
  const [action] = useState(() => new IdempotentAction());
  const [content, setContent] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [fileError, setFileError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  async function send(event: React.SyntheticEvent) {
    event.preventDefault();
    setError(null);
    const badFiles = checkFiles(t, files);
    setFileError(badFiles);
    if (badFiles) return;
    if (content.length > 20_000) {
      setError(t("contentTooLong"));
      return;
    }
    if (!content.trim() && files.length === 0) {
      setError(t("replyRequired"));
      return;
    }
    setBusy(true);
    setProgress(files.length ? 0 : null);
    try {
      const body = { content, internal: false, then_status: null, attachments: await filesBody(files) };
      const next = await action.run(body, (key) =>
        ticketsApi.reply(ticket.id, body, key, (sent, total) => {
          setProgress(Math.round((sent / total) * 100));
        }),
      );
      setContent("");
      setFiles([]);
      onDone(next, reopening);
    } catch (err) {
      const message = areaError(t, "support", err);
      if (problemField(err, Object.fromEntries(FILE_CODES.map((c) => [c, "attachments"]))) === "attachments") setFileError(message);
      else setError(message);
    } finally {
      setBusy(false);
      setProgress(null);
    }
  }

  return (
    <Card component="form" onSubmit={(e) => void send(e)} noValidate aria-label={reopening ? t("reopen") : t("reply")}>
      <Stack gap="sm">
        <Title order={3} size="h5">
          {reopening ? t("reopen") : t("reply")}
        </Title>
        {reopening && <Text size="sm">{t("resolvedNote")}</Text>}
        <Textarea
          label={reopening ? t("reopenLabel") : t("replyLabel")}
          autosize
          minRows={3}
          maxRows={12}
          value={content}
          onChange={(e) => { setContent(e.currentTarget.value); }}
        />
        <FilePicker files={files} onChange={(f) => { setFiles(f); setFileError(checkFiles(t, f)); }} error={fileError} progress={progress} disabled={busy} />
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={busy} color={reopening ? "orange" : undefined}>
            {reopening ? t("reopenSend") : t("send")}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function RateBox({ ticket, onDone }: { ticket: Ticket; onDone: (next: Ticket) => void }) {
  const { t } = useTranslation("support");
  const [rating, setRating] = useState(0);
  const [comment, setComment] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (ticket.rating)
    return (
      <Alert color="green" role="status" data-testid="rated">
        {t("rated", { rating: ticket.rating })}
      </Alert>
    );

  async function send(event: React.SyntheticEvent) {
    event.preventDefault();
    if (rating < 1) {
      setError(t("ratingRequired"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onDone(await ticketsApi.rate(ticket.id, rating, comment.trim()));
    } catch (err) {
      setError(areaError(t, "support", err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card component="form" onSubmit={(e) => void send(e)} noValidate aria-label={t("rate")}>
      <Stack gap="sm">
        <Title order={3} size="h5" id="rate-title">
          {t("rate")}
        </Title>
        <Group gap="xs">
          <Text size="sm" id="rating-label">
            {t("rating")}
          </Text>
          <Rating
            value={rating}
            onChange={setRating}
            size="lg"
            aria-labelledby="rating-label"
            getSymbolLabel={(value) => t("stars", { count: value })}
          />
        </Group>
        <Textarea label={t("ratingComment")} maxLength={2000} value={comment} onChange={(e) => { setComment(e.currentTarget.value); }} />
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={busy}>
            {t("rateSend")}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

/** One ticket: details, the conversation with its files, reply, reopen and rating. */
export default function TicketDetail() {
  const { t } = useTranslation("support");
  const { ticketId = "" } = useParams();
  const location = useLocation();
  const queryClient = useQueryClient();
  const departments = useDepartments();
  const [notice, setNotice] = useState<string | null>(() => {
    const opened = (location.state as { opened?: string } | null)?.opened;
    return opened ? t("opened", { number: opened }) : null;
  });
  const ticket = useQuery({
    queryKey: ["ticket", ticketId],
    queryFn: () => ticketsApi.get(ticketId),
    refetchInterval: (query) => (query.state.data?.status === "closed" ? false : POLL_MS),
  });

  if (ticket.isPending) return <PageLoader />;
  if (ticket.isError)
    return (
      <Alert color="red" role="alert">
        {areaError(t, "support", ticket.error)}
      </Alert>
    );
  const tk = ticket.data;
  const messages = tk.messages.filter((m) => !m.internal).sort((a, b) => a.at.localeCompare(b.at));

  function fresh(next: Ticket, message?: string) {
    queryClient.setQueryData(["ticket", ticketId], next);
    void queryClient.invalidateQueries({ queryKey: ["tickets"] });
    setNotice(message ?? null);
  }

  const facts: [string, React.ReactNode][] = [
    [t("departmentHead"), departments.name(tk.department)],
    [t("stageHead"), t(`stage.${stageOf(tk)}`)],
    [t("priorityHead"), <PriorityBadge key="p" priority={tk.priority} />],
    [t("responseHead"), t(`response.${tk.response_status}`)],
    [t("requestType"), t(`requestTypes.${tk.request_type}`, { defaultValue: tk.request_type })],
    [t("relatedCodeShort"), tk.related_code ?? "—"],
    [t("firstResponseDue"), tk.sla.first_response_at ? "—" : dateTime(tk.sla.first_response_due)],
    [t("resolutionDue"), tk.sla.paused ? "—" : dateTime(tk.sla.resolution_due)],
  ];

  return (
    <Stack>
      <BackLink to="/support">{t("backToList")}</BackLink>
      <Group justify="space-between" align="flex-start">
        <div style={{ minWidth: 0 }}>
          <Title order={2} style={{ overflowWrap: "anywhere" }}>
            {tk.ticket_number} · {tk.title}
          </Title>
          <Text c="gray.7" size="sm">
            {t("openedOn", { date: dateTime(tk.created_at) })}
          </Text>
        </div>
        <StatusBadge status={tk.status} />
      </Group>
      {notice && (
        <Alert color="green" role="status" withCloseButton closeButtonLabel={t("cancel")} onClose={() => { setNotice(null); }}>
          {notice}
        </Alert>
      )}
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 8 }} component={Stack}>
          <Title order={3} size="h4">
            {t("conversation")}
          </Title>
          <Stack component="ol" gap="sm" p={0} m={0} style={{ listStyle: "none" }} aria-label={t("conversation")}>
            {messages.map((m) => (
              <MessageCard key={m.id} ticketId={tk.id} message={m} />
            ))}
          </Stack>
          {tk.status === "closed" ? (
            <Alert color="gray" role="status">
              {t("closedNote")}
            </Alert>
          ) : (
            <ReplyBox ticket={tk} onDone={(next, reopened) => { fresh(next, reopened ? t("reopened") : t("replied")); }} />
          )}
          {(tk.status === "resolved" || tk.status === "closed") && <RateBox ticket={tk} onDone={(next) => { fresh(next); }} />}
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
        <Card>
          <Title order={3} size="h5" mb="xs">
            {t("info")}
          </Title>
          <Stack gap={6} component="dl" m={0}>
            {facts.map(([label, value]) => (
              <Group key={label} justify="space-between" gap="xs" wrap="nowrap">
                <Text component="dt" size="sm" c="gray.7">
                  {label}
                </Text>
                <Text component="dd" size="sm" m={0} ta="right">
                  {value}
                </Text>
              </Group>
            ))}
          </Stack>
        </Card>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
