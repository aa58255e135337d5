import { useState } from "react";
import { Alert, Button, Card, Group, Select, SimpleGrid, Stack, TextInput, Textarea, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { BackLink } from "../../components/BackLink";
import { IdempotentAction } from "../../api/client";
import { areaError, problemField } from "../../lib/areaError";
import { PRIORITIES, RELATED_CODE, ticketsApi, type OpenTicketBody, type Priority } from "./api";
import { useDepartments } from "./components/Departments";
import { FilePicker, checkFiles, filesBody } from "./components/FilePicker";

const REQUEST_TYPES = ["question", "incident", "request"] as const;
/** Problem codes that concern one field of this form. */
const FIELDS: Record<string, string> = {
  unknown_department: "department",
  title_required: "title",
  unknown_related_code: "related_code",
  file_type_mismatch: "attachments",
  file_too_large: "attachments",
  invalid_file_name: "attachments",
  unsupported_file_type: "attachments",
  too_many_files: "attachments",
  payload_too_large: "attachments",
};

interface Values {
  department: string | null;
  title: string;
  related_code: string;
  request_type: string;
  priority: Priority;
  content: string;
  attachments: File[];
}

/** "Send a support ticket" (seed 000): department, title, order code, content, files. */
export default function NewTicket() {
  const { t } = useTranslation("support");
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const departments = useDepartments();
  const [action] = useState(() => new IdempotentAction());
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const form = useForm<Values>({
    initialValues: {
      department: null,
      title: "",
      related_code: "",
      request_type: "question",
      priority: "normal",
      content: "",
      attachments: [],
    },
    // The API's constraints (OpenTicketIn), checked before anything is sent.
    validate: {
      department: (v) => (v ? null : t("departmentRequired")),
      title: (v) => (!v.trim() ? t("titleRequired") : v.length > 200 ? t("titleTooLong") : null),
      related_code: (v) => (!v.trim() || RELATED_CODE.test(v.trim().toUpperCase()) ? null : t("relatedCodeInvalid")),
      content: (v) => (!v.trim() ? t("contentRequired") : v.length > 20_000 ? t("contentTooLong") : null),
      attachments: (files) => checkFiles(t, files),
    },
  });

  async function submit(values: Values) {
    setError(null);
    setProgress(values.attachments.length ? 0 : null);
    try {
      const body: OpenTicketBody = {
        account_id: null,
        department: values.department ?? "",
        title: values.title.trim(),
        request_type: values.request_type,
        priority: values.priority,
        content: values.content,
        related_code: values.related_code.trim() ? values.related_code.trim().toUpperCase() : null,
        attachments: await filesBody(values.attachments),
      };
      const ticket = await action.run(body, (key) =>
        ticketsApi.open(body, key, (sent, total) => {
          setProgress(Math.round((sent / total) * 100));
        }),
      );
      void queryClient.invalidateQueries({ queryKey: ["tickets"] });
      queryClient.setQueryData(["ticket", ticket.id], ticket);
      void navigate(`/support/${ticket.id}`, { state: { opened: ticket.ticket_number } });
    } catch (err) {
      setProgress(null);
      const field = problemField(err, FIELDS);
      if (field && field in form.values) form.setFieldError(field, areaError(t, "support", err));
      else setError(areaError(t, "support", err));
    }
  }

  return (
    <Stack>
      <BackLink to="/support">{t("backToList")}</BackLink>
      <Title order={2}>{t("newTitle")}</Title>
      <Card maw={820}>
        <form onSubmit={form.onSubmit(submit)} noValidate>
          <Stack>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <Select
                label={t("department")}
                required
                data={departments.options}
                {...form.getInputProps("department")}
              />
              <TextInput
                label={t("relatedCode")}
                description={t("relatedCodeHelp")}
                styles={{ description: { color: "var(--mantine-color-gray-7)" } }}
                maxLength={41}
                {...form.getInputProps("related_code")}
              />
            </SimpleGrid>
            <TextInput label={t("ticketTitle")} required maxLength={200} {...form.getInputProps("title")} />
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <Select
                label={t("requestType")}
                data={REQUEST_TYPES.map((r) => ({ value: r, label: t(`requestTypes.${r}`) }))}
                allowDeselect={false}
                {...form.getInputProps("request_type")}
              />
              <Select
                label={t("priority")}
                data={PRIORITIES.map((p) => ({ value: p, label: t(`priorities.${p}`) }))}
                allowDeselect={false}
                {...form.getInputProps("priority")}
              />
            </SimpleGrid>
            <Textarea label={t("content")} required autosize minRows={5} maxRows={16} {...form.getInputProps("content")} />
            <FilePicker
              files={form.values.attachments}
              onChange={(files) => { form.setFieldValue("attachments", files); form.validateField("attachments"); }}
              error={typeof form.errors.attachments === "string" ? form.errors.attachments : null}
              progress={progress}
              disabled={form.submitting}
            />
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button type="submit" loading={form.submitting}>
                {t("create")}
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
    </Stack>
  );
}
