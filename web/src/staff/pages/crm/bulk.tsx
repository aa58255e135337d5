import { useState, type ReactNode } from "react";
import { Alert, Button, Group, Modal, Paper, SegmentedControl, Select, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../../api/client";
import { areaError } from "../../../lib/areaError";
import { crmApi, type Refused } from "./api";
import { useLabelNames } from "./common";

type Dialog = "assign" | "label" | "delete" | null;

/** What a bulk action changed and what it left (named), as one notification. */
function useReport(names: Map<string, string>) {
  const { t } = useTranslation("crm");
  const client = useQueryClient();
  return (done: string, refused: Refused[]) => {
    void client.invalidateQueries({ queryKey: ["staff", "crm"] });
    const left = refused.map((r) => `${names.get(r.id) ?? r.id} (${t(`errors.${r.code}`, { defaultValue: r.code })})`);
    notifications.show({
      color: refused.length ? "yellow" : "teal",
      title: done,
      message: refused.length ? t("bulk.refused", { count: refused.length, names: left.join(", ") }) : undefined,
      // What was refused stays until read: its close button is named.
      autoClose: refused.length ? false : 4000,
      closeButtonProps: { "aria-label": t("bulk.close") },
    });
  };
}

/**
 * The bar over the CRM list while rows are ticked: assign (to a member of staff, or in turn
 * over a department), add a label, delete after a confirmation that says how many; in the
 * deleted view (admins), restore. The API's answer (how many changed, which it refused)
 * shows in a notification.
 */
export function BulkBar({ ids, names, deletedView, onDone }: { ids: string[]; names: Map<string, string>; deletedView: boolean; onDone: () => void }) {
  const { t } = useTranslation("crm");
  const report = useReport(names);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [busy, setBusy] = useState(false);
  const close = () => {
    setDialog(null);
  };

  async function restore() {
    setBusy(true);
    const refused: Refused[] = [];
    for (const id of ids) {
      // One call per contact (restore has no bulk route); a refusal leaves the others.
      try {
        await crmApi.restore(id);
      } catch (err) {
        refused.push({ id, code: err instanceof ApiError ? err.code : "error" });
      }
    }
    setBusy(false);
    report(t("bulk.restored", { count: ids.length - refused.length }), refused);
    onDone();
  }

  return (
    <Paper withBorder p="xs" role="region" aria-label={t("bulk.bar")}>
      <Group gap="sm">
        <Text size="sm" fw={600} data-testid="crm-selected">
          {t("bulk.selected", { count: ids.length })}
        </Text>
        {deletedView ? (
          <Button size="compact-sm" loading={busy} onClick={() => void restore()}>
            {t("bulk.restore")}
          </Button>
        ) : (
          <>
            <Button size="compact-sm" variant="light" onClick={() => { setDialog("assign"); }}>
              {t("bulk.assign")}
            </Button>
            <Button size="compact-sm" variant="light" onClick={() => { setDialog("label"); }}>
              {t("bulk.label")}
            </Button>
            <Button size="compact-sm" variant="light" color="red.9" onClick={() => { setDialog("delete"); }}>
              {t("bulk.delete")}
            </Button>
          </>
        )}
      </Group>
      {dialog === "assign" && <AssignDialog ids={ids} onClose={close} onDone={(done, refused) => { report(done, refused); onDone(); }} />}
      {dialog === "label" && <LabelDialog ids={ids} onClose={close} onDone={(done, refused) => { report(done, refused); onDone(); }} />}
      {dialog === "delete" && <DeleteDialog ids={ids} onClose={close} onDone={(done, refused) => { report(done, refused); onDone(); }} />}
    </Paper>
  );
}

type Done = (done: string, refused: Refused[]) => void;

/** A dialog whose confirm button sends one call; its problem shows inside, nothing changed. */
function ActionDialog({ title, confirm, color, ready = true, send, onClose, children }: { title: string; confirm: string; color?: string; ready?: boolean; send: () => Promise<void>; onClose: () => void; children: ReactNode }) {
  const { t } = useTranslation("crm");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await send();
      onClose();
    } catch (err) {
      setError(areaError(t, "crm", err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal opened onClose={onClose} title={title} centered closeButtonProps={{ "aria-label": t("bulk.close") }}>
      <Stack gap="sm">
        {children}
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {t("bulk.cancel")}
          </Button>
          <Button color={color} loading={busy} disabled={!ready} onClick={() => void submit()}>
            {confirm}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function AssignDialog({ ids, onClose, onDone }: { ids: string[]; onClose: () => void; onDone: Done }) {
  const { t } = useTranslation("crm");
  const [method, setMethod] = useState<"manual" | "round_robin">("manual");
  const [who, setWho] = useState<string | null>(null);
  const [department, setDepartment] = useState<string | null>(null);
  const staff = useQuery({ queryKey: ["staff", "members"], queryFn: crmApi.staff, staleTime: 60_000 });
  const departments = useQuery({ queryKey: ["staff", "departments"], queryFn: crmApi.departments, staleTime: 300_000 });
  const manual = method === "manual";
  return (
    <ActionDialog
      title={t("bulk.assignTitle", { count: ids.length })}
      confirm={t("bulk.assign")}
      ready={manual ? !!who : !!department}
      onClose={onClose}
      send={async () => {
        const answer = await crmApi.bulkAssign(manual ? { ids, caretaker_id: who } : { ids, method, department });
        onDone(t("bulk.assigned", { count: answer.total }), answer.refused ?? []);
      }}
    >
      <SegmentedControl
        aria-label={t("bulk.method")}
        data={[
          { value: "manual", label: t("bulk.manual") },
          { value: "round_robin", label: t("bulk.roundRobin") },
        ]}
        value={method}
        onChange={(v) => { setMethod(v); }}
      />
      {manual ? (
        <Select
          label={t("bulk.caretaker")}
          searchable
          data={(staff.data?.items ?? []).map((m) => ({ value: m.user_id, label: `${m.name} · ${m.email}` }))}
          value={who}
          onChange={setWho}
        />
      ) : (
        <Select
          label={t("bulk.department")}
          data={(departments.data?.items ?? []).map((d) => ({ value: d.id, label: d.name }))}
          value={department}
          onChange={setDepartment}
        />
      )}
    </ActionDialog>
  );
}

function LabelDialog({ ids, onClose, onDone }: { ids: string[]; onClose: () => void; onDone: Done }) {
  const { t } = useTranslation("crm");
  const labels = useLabelNames();
  const [label, setLabel] = useState<string | null>(null);
  return (
    <ActionDialog
      title={t("bulk.labelTitle", { count: ids.length })}
      confirm={t("bulk.label")}
      ready={!!label}
      onClose={onClose}
      send={async () => {
        if (!label) return;
        const answer = await crmApi.bulkLabel(ids, label);
        onDone(t("bulk.labelled", { count: answer.updated, label: labels.name(label) }), answer.refused ?? []);
      }}
    >
      <Select
        label={t("label")}
        data={[...labels.names.entries()].map(([value, name]) => ({ value, label: name }))}
        value={label}
        onChange={setLabel}
      />
    </ActionDialog>
  );
}

function DeleteDialog({ ids, onClose, onDone }: { ids: string[]; onClose: () => void; onDone: Done }) {
  const { t } = useTranslation("crm");
  return (
    <ActionDialog
      title={t("bulk.deleteTitle", { count: ids.length })}
      confirm={t("bulk.deleteConfirm", { count: ids.length })}
      color="red.9"
      onClose={onClose}
      send={async () => {
        const answer = await crmApi.bulkDelete(ids);
        onDone(t("bulk.deleted", { count: answer.deleted }), answer.refused ?? []);
      }}
    >
      <Text size="sm">{t("bulk.deleteHelp", { count: ids.length })}</Text>
    </ActionDialog>
  );
}
