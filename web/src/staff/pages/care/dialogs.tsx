import { useState, type SyntheticEvent } from "react";
import { Alert, Button, Group, Modal, Select, SimpleGrid, Stack, Text, TextInput, Textarea } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { IdempotentAction } from "../../../api/client";
import { areaError } from "../../../lib/areaError";
import { dayjs, timeZone } from "../../../lib/format";
import { VALUED, crmApi } from "../crm/api";
import { CareTypeFields, careChoice } from "../crm/careFields";
import { careApi, type Activity } from "./api";

export interface Resolution {
  activity: Activity;
  as: "done" | "cancelled";
}

/** Every list of care activities shows the change (and the contact's care history). */
function useRefresh() {
  const client = useQueryClient();
  return (contactId: string) => {
    void client.invalidateQueries({ queryKey: ["staff", "care"] });
    void client.invalidateQueries({ queryKey: ["staff", "crm", "contact", contactId] });
    void client.invalidateQueries({ queryKey: ["staff", "crm", "level", contactId] });
  };
}

/** Mark a planned activity done (with its outcome: a points or money action is recorded then) or cancel it (with why). */
export function ResolveDialog({ resolution, onClose }: { resolution: Resolution; onClose: () => void }) {
  const { t } = useTranslation("care");
  const refresh = useRefresh();
  const [action] = useState(() => new IdempotentAction());
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { activity, as } = resolution;
  const done = as === "done";

  async function submit(e: SyntheticEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { id: activity.id, as, text: text.trim() };
    try {
      await action.run(body, (key) => (done ? careApi.complete(activity.id, body.text, key) : careApi.cancel(activity.id, body.text, key)));
      refresh(activity.contact_id);
      notifications.show({ color: "teal", withCloseButton: false, message: t(done ? "doneSaved" : "cancelSaved", { title: activity.title }) });
      onClose();
    } catch (err) {
      setError(areaError(t, "crm", err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal opened onClose={onClose} title={t(done ? "markDoneTitle" : "cancelTitle")} centered>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <Text size="sm" fw={600}>
            {activity.title}
          </Text>
          {done && VALUED.includes(activity.action) && (
            <Text size="sm" c="gray.7">
              {t("recordsValue")}
            </Text>
          )}
          <Textarea label={t(done ? "outcome" : "reason")} maxLength={2000} autosize minRows={2} value={text} onChange={(e) => { setText(e.currentTarget.value); }} data-autofocus />
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t("close")}
            </Button>
            <Button type="submit" loading={busy} color={done ? "teal.9" : "red.9"}>
              {t(done ? "confirmDone" : "confirmCancel")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** The next full hour in the account's time zone, as a datetime-local input wants it. */
function nextHour(): string {
  return dayjs().tz(timeZone()).add(1, "hour").startOf("hour").format("YYYY-MM-DDTHH:mm");
}

/** Plan a care action for a contact: who (searched by name, phone, email), what, when, and its value. */
export function ScheduleDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation("care");
  const refresh = useRefresh();
  const [action] = useState(() => new IdempotentAction());
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 300);
  const contacts = useQuery({ queryKey: ["staff", "crm", { q, limit: 20 }], queryFn: () => crmApi.list({ q: q || undefined, limit: 20 }) });
  const types = useQuery({ queryKey: ["crm", "care-types"], queryFn: crmApi.careTypes, staleTime: 300_000 });
  const [contactId, setContactId] = useState<string | null>(null);
  const [contact, setContact] = useState<{ id: string; name: string; kind: string } | null>(null);
  const [title, setTitle] = useState("");
  const [typeId, setTypeId] = useState<string | null>(null);
  const [value, setValue] = useState<number | string>("");
  const [due, setDue] = useState(nextHour);
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState<{ contact?: string; title?: string; type?: string; value?: string; due?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);

  const choice = careChoice(types.data?.items ?? [], contact?.kind, typeId);
  const { chosen, valued } = choice;
  const options = (contacts.data?.items ?? []).map((c) => ({ value: c.id, label: c.name }));
  if (contact && !options.some((o) => o.value === contact.id)) options.unshift({ value: contact.id, label: contact.name });

  async function submit(e: SyntheticEvent) {
    e.preventDefault();
    const next: typeof errors = {};
    if (!contactId) next.contact = t("errors.contactRequired");
    if (!title.trim()) next.title = t("errors.titleRequired");
    if (!chosen) next.type = t("errors.typeRequired");
    if (valued && (typeof value !== "number" || value <= 0)) next.value = t("crm:errors.valueRequired");
    const when = dayjs.tz(due, timeZone());
    if (!due || !when.isValid()) next.due = t("errors.dueRequired");
    setErrors(next);
    if (Object.keys(next).length > 0 || !contactId || !chosen) return;
    const body = {
      contact_id: contactId,
      title: title.trim(),
      care_type_id: chosen.id,
      value: valued ? Number(value) : 0,
      due_at: when.toISOString(),
      note: note.trim(),
    };
    setBusy(true);
    try {
      await action.run(body, (key) => careApi.schedule(body, key));
      refresh(contactId);
      notifications.show({ color: "teal", withCloseButton: false, message: t("scheduled", { title: body.title }) });
      onClose();
    } catch (err) {
      setErrors({ form: areaError(t, "crm", err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal opened onClose={onClose} title={t("scheduleTitle")} size="lg" centered>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <Select
            label={t("contact")}
            placeholder={t("contactHelp")}
            required
            searchable
            searchValue={search}
            onSearchChange={setSearch}
            // The API searched already (name, phone, email): show what it found.
            filter={({ options: found }) => found}
            nothingFoundMessage={contacts.isFetching ? t("searching") : t("noContact")}
            data={options}
            value={contactId}
            onChange={(id) => {
              setContactId(id);
              const row = contacts.data?.items.find((c) => c.id === id);
              setContact(row ? { id: row.id, name: row.name, kind: row.kind } : null);
              setTypeId(null);
              setErrors({});
            }}
            error={errors.contact}
            data-autofocus
          />
          <TextInput label={t("activityTitle")} required maxLength={200} value={title} onChange={(e) => { setTitle(e.currentTarget.value); }} error={errors.title} />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <CareTypeFields
              choice={choice}
              typeId={typeId}
              onType={(v) => {
                setTypeId(v);
                setErrors({});
              }}
              value={value}
              onValue={setValue}
              errors={errors}
            />
          </SimpleGrid>
          <TextInput label={t("due")} type="datetime-local" required value={due} onChange={(e) => { setDue(e.currentTarget.value); }} error={errors.due} w={{ base: "100%", sm: 260 }} />
          <Textarea label={t("note")} maxLength={2000} autosize minRows={2} value={note} onChange={(e) => { setNote(e.currentTarget.value); }} />
          {errors.form && (
            <Alert color="red" role="alert">
              {errors.form}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t("close")}
            </Button>
            <Button type="submit" loading={busy}>
              {t("scheduleSubmit")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
